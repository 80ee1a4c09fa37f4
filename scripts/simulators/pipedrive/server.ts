/**
 * The HTTP server: Pipedrive's API v2 (`/api/v2/...`) and v1 (`/v1/...`,
 * also `/api/v1/...`) with token auth, burst limits and the daily token
 * budget, injected faults and Pipedrive-shaped errors, plus the control API
 * under `/_sim/`.
 *
 *   const sim = await createPipedriveSimulator({ token: "t" });
 *   const config = new v2.Configuration({ apiKey: "t", basePath: `${sim.url}/api/v2` });
 */

import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createSend, HungRequests, listenSimulator } from '../common/http-server.ts';
import { serveApiRequest, serveControlRequest, startApiCall } from '../common/request-handling.ts';
import { type HttpMethod, Router } from '../common/router.ts';
import { controlErrorBody, controlRouter } from './control.ts';
import { ERROR_INFO, errorBody, PipedriveApiError, rateLimitBody, unauthorizedBody } from './errors.ts';
import type { TokenKind } from './rate-limit.ts';
import { API_ROUTES } from './routes/index.ts';
import type { PipedriveRoute } from './routes/route.ts';
import { createSimulatorState, resolveOptions, type SimulatorOptions, type SimulatorState } from './state.ts';

export type { SimulatorOptions } from './state.ts';

export interface PipedriveSimulator {
  /** `http://127.0.0.1:<port>`; the v2 client's `basePath` is `${url}/api/v2`, v1's `${url}/v1`. */
  url: string;
  port: number;
  state: SimulatorState;
  close(): Promise<void>;
}

const apiRouter = new Router<PipedriveRoute>(API_ROUTES);
const send = createSend('application/json; charset=utf-8');

const tooLarge = () => new PipedriveApiError(413, 'Request body too large');

/** JSON, or (API v1 only) a form-encoded body. */
function parseBody(raw: string, contentType: string | undefined): unknown {
  if (raw.trim() === '') return undefined;
  if (contentType?.includes('application/x-www-form-urlencoded')) {
    return Object.fromEntries(new URLSearchParams(raw));
  }
  try {
    return JSON.parse(raw);
  } catch (error) {
    throw new PipedriveApiError(400, `Invalid JSON in request body: ${(error as Error).message}`);
  }
}

/** The token and its kind: `x-api-token` header, `api_token` query, or `Authorization: Bearer`. */
function credentials(request: IncomingMessage, url: URL): { token: string; kind: TokenKind } | undefined {
  const header = request.headers['x-api-token'];
  const apiToken = (Array.isArray(header) ? header[0] : header) ?? url.searchParams.get('api_token');
  if (apiToken) return { token: apiToken, kind: 'api_token' };
  const bearer = /^Bearer\s+(.+)$/i.exec(request.headers.authorization ?? '')?.[1]?.trim();
  return bearer ? { token: bearer, kind: 'oauth' } : undefined;
}

export async function createPipedriveSimulator(options: SimulatorOptions = {}): Promise<PipedriveSimulator> {
  const resolved = resolveOptions(options);
  const state = createSimulatorState(resolved);
  const hung = new HungRequests();

  function handleControl(request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> {
    return serveControlRequest(request, response, url, send, controlRouter, state, {
      parseBody: (raw) => parseBody(raw, request.headers['content-type']),
      error: (status, message) => new PipedriveApiError(status, message),
      errorAnswer: controlErrorBody,
    });
  }

  function handleApi(request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> {
    const method = (request.method ?? 'GET').toUpperCase() as HttpMethod;
    const path = url.pathname.startsWith('/api/v1/') ? url.pathname.slice(4) : url.pathname;
    const correlationId = randomUUID();
    const call = startApiCall(method, path, { 'x-correlation-id': correlationId });
    const match = apiRouter.match(method, path);
    const route = match && 'route' in match ? match.route : undefined;
    const endpoint = route ? `${route.method} ${route.pattern}` : `${method} (unmatched)`;
    let tokenCost = 0;

    const context = { request, response, send, hung, faults: state.faults, options: state.options };
    return serveApiRequest(context, call, {
      tooLarge,
      finish(status) {
        const { outcome, policy } = call;
        const entry = state.log.record({
          at: new Date(call.started).toISOString(),
          method,
          path,
          query: url.search.replace(/([?&]api_token=)[^&]*/, '$1***'),
          endpoint,
          status,
          durationMs: Date.now() - call.started,
          outcome,
          ...(policy ? { policy } : {}),
          ...(tokenCost ? { tokenCost } : {}),
        });
        state.options.logRequest?.(
          `${entry.at} ${method} ${path} -> ${status || 'hang'} ${entry.durationMs}ms${
            tokenCost ? ` ${tokenCost}t` : ''
          }${outcome === 'ok' ? '' : ` [${outcome}${policy ? ` ${policy}` : ''}]`}`,
        );
      },
      faultRateLimited() {
        const limit = state.rateLimiter.settings;
        return {
          status: 429,
          body: rateLimitBody('BURST'),
          headers: {
            'x-ratelimit-limit': String(limit.burstLimit),
            'x-ratelimit-remaining': '0',
            'x-ratelimit-reset': String(Math.ceil(limit.burstWindowMs / 1000)),
          },
        };
      },
      faultErrorBody: () => ({
        success: false,
        error: 'Internal server error',
        error_info: ERROR_INFO,
        data: null,
        additional_data: null,
      }),
      async handle(raw) {
        const given = credentials(request, url);
        const known = given?.kind === 'oauth'
          ? state.options.oauthTokens.includes(given.token)
          : given !== undefined && state.options.tokens.includes(given.token);
        if (!given || !known) {
          call.outcome = 'unauthorized';
          return { status: 401, body: unauthorizedBody(), immediate: true };
        }
        if (!match) throw new PipedriveApiError(404, 'Unknown method .');
        if ('allowed' in match) {
          call.headers.Allow = match.allowed.join(', ');
          throw new PipedriveApiError(405, `Method ${method} not allowed on ${path}`);
        }

        const decision = state.rateLimiter.check({
          token: given.token,
          tokenKind: given.kind,
          kind: match.route.rateLimit,
          cost: match.route.cost,
          now: Date.now(),
          clockNow: state.clock.now(),
        });
        call.headers = { ...call.headers, ...decision.headers };
        if (!decision.allowed) {
          call.outcome = 'rate_limited';
          call.policy = decision.policy;
          return { status: 429, body: rateLimitBody(decision.policy), immediate: true };
        }
        tokenCost = match.route.cost;
        state.tokensByEndpoint[endpoint] = (state.tokensByEndpoint[endpoint] ?? 0) + tokenCost;

        return await match.route.handler({
          method,
          path,
          query: url.searchParams,
          params: match.params,
          body: parseBody(raw, request.headers['content-type']),
          token: given.token,
          correlationId,
        }, state);
      },
      errorResponse(error) {
        if (error instanceof PipedriveApiError) return { status: error.status, body: errorBody(error) };
        console.error(error);
        return {
          status: 500,
          body: {
            success: false,
            error: String((error as Error)?.message ?? error),
            error_info: ERROR_INFO,
            data: null,
            additional_data: null,
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
    failureBody: { success: false, error: 'simulator failure' },
  });
}
