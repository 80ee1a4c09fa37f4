/**
 * The HTTP server: HubSpot's API (bearer auth, rate limits, injected faults,
 * HubSpot-shaped errors) plus the control API under `/_sim/`.
 *
 *   const sim = await createHubSpotSimulator({ token: "t" });
 *   const client = new Client({ accessToken: "t", basePath: sim.url });
 */

import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createSend, HungRequests, listenSimulator } from '../common/http-server.ts';
import { serveApiRequest, serveControlRequest, startApiCall } from '../common/request-handling.ts';
import { type HttpMethod, Router } from '../common/router.ts';
import { controlErrorStatus, controlRouter } from './control.ts';
import { errorBody, HubSpotApiError, rateLimitBody } from './errors.ts';
import { resolveObjectType } from './object-types.ts';
import { API_ROUTES } from './routes/index.ts';
import { endpointKey } from './routes/route.ts';
import { createSimulatorState, resolveOptions, type SimulatorOptions, type SimulatorState } from './state.ts';

export type { SimulatorOptions } from './state.ts';

export interface HubSpotSimulator {
  /** `http://127.0.0.1:<port>`: the client's `basePath`. */
  url: string;
  port: number;
  state: SimulatorState;
  close(): Promise<void>;
}

const apiRouter = new Router(API_ROUTES);
const send = createSend('application/json;charset=utf-8');

const FAULT_CATEGORY: Record<number, string> = {
  500: 'INTERNAL_ERROR',
  502: 'BAD_GATEWAY',
  503: 'SERVICE_UNAVAILABLE',
  504: 'GATEWAY_TIMEOUT',
};

const tooLarge = () => new HubSpotApiError(413, 'VALIDATION_ERROR', 'Request body too large');

function parseJson(raw: string): unknown {
  if (raw.trim() === '') return undefined;
  try {
    return JSON.parse(raw);
  } catch (error) {
    throw new HubSpotApiError(
      400,
      'VALIDATION_ERROR',
      `Invalid input JSON on line 1, column 1: ${(error as Error).message}`,
    );
  }
}

export async function createHubSpotSimulator(options: SimulatorOptions = {}): Promise<HubSpotSimulator> {
  const resolved = resolveOptions(options);
  const state = createSimulatorState(resolved);
  const hung = new HungRequests();

  function handleControl(request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> {
    return serveControlRequest(request, response, url, send, controlRouter, state, {
      parseBody: parseJson,
      error: (status, message) =>
        new HubSpotApiError(status, status === 404 ? 'OBJECT_NOT_FOUND' : 'VALIDATION_ERROR', message),
      errorAnswer(error) {
        const { status, message, category } = controlErrorStatus(error);
        return { status, body: { status: 'error', message, category } };
      },
    });
  }

  function handleApi(request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> {
    const method = (request.method ?? 'GET').toUpperCase() as HttpMethod;
    const path = url.pathname;
    const correlationId = randomUUID();
    const call = startApiCall(method, path, { 'X-HubSpot-Correlation-Id': correlationId });
    const match = apiRouter.match(method, path);
    const endpoint = match && 'route' in match
      ? endpointKey(match.route, match.params, (segment) => resolveObjectType(segment))
      : `${method} (unmatched)`;

    const context = { request, response, send, hung, faults: state.faults, options: state.options };
    return serveApiRequest(context, call, {
      tooLarge,
      finish(status) {
        const { outcome, policy } = call;
        const entry = state.log.record({
          at: new Date(call.started).toISOString(),
          method,
          path,
          query: url.search,
          endpoint,
          status,
          durationMs: Date.now() - call.started,
          outcome,
          ...(policy ? { policy } : {}),
        });
        state.options.logRequest?.(
          `${entry.at} ${method} ${path}${url.search} -> ${status || 'hang'} ${entry.durationMs}ms${
            outcome === 'ok' ? '' : ` [${outcome}${policy ? ` ${policy}` : ''}]`
          }`,
        );
      },
      faultRateLimited() {
        const limit = state.rateLimiter.settings;
        return {
          status: 429,
          body: rateLimitBody('TEN_SECONDLY_ROLLING', correlationId),
          headers: {
            'X-HubSpot-RateLimit-Max': String(limit.maxPerInterval),
            'X-HubSpot-RateLimit-Remaining': '0',
            'X-HubSpot-RateLimit-Interval-Milliseconds': String(limit.intervalMs),
          },
        };
      },
      faultErrorBody: (status) => ({
        status: 'error',
        message: 'internal error',
        correlationId,
        category: FAULT_CATEGORY[status] ?? 'INTERNAL_ERROR',
      }),
      async handle(raw) {
        const authorization = request.headers.authorization ?? '';
        const routeAuth = !!match && 'route' in match ? match.route.auth : undefined;
        if (routeAuth === 'oauth' && match && 'route' in match) {
          // The token endpoint: no bearer token, a form body.
          return await match.route.handler({ method, path, query: url.searchParams, params: match.params, body: raw, token: '' }, state);
        }
        const token = routeAuth === 'developer'
          ? `developer:${url.searchParams.get('hapikey') ?? ''}`
          : /^Bearer\s+(.+)$/i.exec(authorization)?.[1]?.trim() ?? '';
        const oauth = routeAuth === 'developer' || state.options.tokens.includes(token) ? null : state.oauth.check(token);
        if (
          routeAuth === 'developer' ? token !== `developer:${state.options.developerApiKey}` : oauth !== null && !oauth.ok
        ) {
          call.outcome = 'unauthorized';
          if (oauth && !oauth.ok && oauth.expiredMsAgo !== undefined) {
            throw new HubSpotApiError(
              401,
              'EXPIRED_AUTHENTICATION',
              `The OAuth token used to make this call expired ${Math.ceil(oauth.expiredMsAgo / 1000)} second(s) ago.`,
            );
          }
          throw new HubSpotApiError(
            401,
            'INVALID_AUTHENTICATION',
            'Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview',
          );
        }
        if (!match) throw new HubSpotApiError(404, 'OBJECT_NOT_FOUND', `No route for ${method} ${path}`);
        if ('allowed' in match) {
          call.headers.Allow = match.allowed.join(', ');
          throw new HubSpotApiError(405, 'VALIDATION_ERROR', `Method ${method} not allowed on ${path}`);
        }
        const objectType = match.params.objectType ? resolveObjectType(match.params.objectType) : undefined;
        if (match.route.objectTypes && (!objectType || !match.route.objectTypes.includes(objectType))) {
          throw new HubSpotApiError(404, 'OBJECT_NOT_FOUND', `No route for ${method} ${path}`);
        }

        const decision = state.rateLimiter.check(token, match.route.rateLimit);
        call.headers = { ...call.headers, ...decision.headers };
        if (!decision.allowed) {
          call.outcome = 'rate_limited';
          call.policy = decision.policy;
          return { status: 429, body: rateLimitBody(decision.policy, correlationId), immediate: true };
        }

        return await match.route.handler({
          method,
          path,
          query: url.searchParams,
          params: match.params,
          body: parseJson(raw),
          token,
        }, state);
      },
      errorResponse(error) {
        if (error instanceof HubSpotApiError) return { status: error.status, body: errorBody(error, correlationId) };
        console.error(error);
        return {
          status: 500,
          body: {
            status: 'error',
            message: String((error as Error)?.message ?? error),
            correlationId,
            category: 'INTERNAL_ERROR',
          },
        };
      },
    });
  }

  return await listenSimulator(state, hung, {
    host: resolved.host,
    port: resolved.port,
    handleControl,
    handleApi,
    send,
    failureBody: { status: 'error', message: 'simulator failure' },
  });
}
