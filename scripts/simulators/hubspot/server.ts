/**
 * The HTTP server: HubSpot's API (bearer auth, rate limits, injected faults,
 * HubSpot-shaped errors) plus the control API under `/_sim/`.
 *
 *   const sim = await createHubSpotSimulator({ token: "t" });
 *   const client = new Client({ accessToken: "t", basePath: sim.url });
 */

import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { controlErrorStatus, controlRouter } from './control.ts';
import { errorBody, HubSpotApiError, rateLimitBody, type RateLimitPolicy } from './errors.ts';
import { type ApiResponse, endpointKey, type HttpMethod, Router } from './http.ts';
import { resolveObjectType } from './object-types.ts';
import type { FaultRule } from './faults.ts';
import type { RequestOutcome } from './request-log.ts';
import { API_ROUTES } from './routes/index.ts';
import { createSimulatorState, resolveOptions, type SimulatorOptions, type SimulatorState } from './state.ts';

export type { SimulatorOptions } from './state.ts';

export interface HubSpotSimulator {
  /** `http://127.0.0.1:<port>`: the client's `basePath`. */
  url: string;
  port: number;
  state: SimulatorState;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 20 * 1024 * 1024;
const apiRouter = new Router(API_ROUTES);

const FAULT_CATEGORY: Record<number, string> = {
  500: 'INTERNAL_ERROR',
  502: 'BAD_GATEWAY',
  503: 'SERVICE_UNAVAILABLE',
  504: 'GATEWAY_TIMEOUT',
};

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Uint8Array[] = [];
    let size = 0;
    request.on('data', (chunk: Uint8Array) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new HubSpotApiError(413, 'VALIDATION_ERROR', 'Request body too large'));
        request.destroy();
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(new TextDecoder().decode(concat(chunks))));
    request.on('error', reject);
  });
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const total = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

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

function send(response: ServerResponse, status: number, body: unknown, headers: Record<string, string>): void {
  if (status === 204 || body === undefined) {
    response.writeHead(status, headers);
    response.end();
    return;
  }
  if (typeof body === 'string') {
    response.writeHead(status, { 'Content-Type': 'text/html; charset=utf-8', ...headers });
    response.end(body);
    return;
  }
  response.writeHead(status, { 'Content-Type': 'application/json;charset=utf-8', ...headers });
  response.end(JSON.stringify(body));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function createHubSpotSimulator(options: SimulatorOptions = {}): Promise<HubSpotSimulator> {
  const resolved = resolveOptions(options);
  const state = createSimulatorState(resolved);
  const hangTimers = new Set<ReturnType<typeof setTimeout>>();

  async function handleControl(request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> {
    try {
      const body = parseJson(await readBody(request));
      const match = controlRouter.match(request.method ?? 'GET', url.pathname);
      if (!match) throw new HubSpotApiError(404, 'OBJECT_NOT_FOUND', `No control route ${url.pathname}`);
      if ('allowed' in match) {
        throw new HubSpotApiError(405, 'VALIDATION_ERROR', `Method not allowed; use ${match.allowed.join(', ')}`);
      }
      const result = await match.route.handler({
        method: match.route.method,
        path: url.pathname,
        query: url.searchParams,
        params: match.params,
        body,
        token: '',
      }, state);
      send(response, result.status, result.body, result.headers ?? {});
    } catch (error) {
      const { status, message, category } = controlErrorStatus(error);
      if (status === 500) console.error(error);
      send(response, status, { status: 'error', message, category }, {});
    }
  }

  async function handleApi(request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> {
    const started = Date.now();
    const method = (request.method ?? 'GET').toUpperCase() as HttpMethod;
    const path = url.pathname;
    const correlationId = randomUUID();
    const match = apiRouter.match(method, path);
    const endpoint = match && 'route' in match
      ? endpointKey(match.route, match.params, (segment) => resolveObjectType(segment))
      : `${method} (unmatched)`;
    let outcome: RequestOutcome = 'ok';
    let policy: RateLimitPolicy | undefined;
    let headers: Record<string, string> = { 'X-HubSpot-Correlation-Id': correlationId };

    const finish = (status: number) => {
      const entry = state.log.record({
        at: new Date(started).toISOString(),
        method,
        path,
        query: url.search,
        endpoint,
        status,
        durationMs: Date.now() - started,
        outcome,
        ...(policy ? { policy } : {}),
      });
      state.options.logRequest?.(
        `${entry.at} ${method} ${path}${url.search} -> ${status || 'hang'} ${entry.durationMs}ms${
          outcome === 'ok' ? '' : ` [${outcome}${policy ? ` ${policy}` : ''}]`
        }`,
      );
    };

    const hang = (ms: number) => {
      const timer = setTimeout(() => {
        hangTimers.delete(timer);
        request.socket.destroy();
      }, ms);
      hangTimers.add(timer);
      finish(0);
    };

    let result: ApiResponse;
    // A timeout fault with applyFirst: the request is handled as usual, then its answer is lost.
    let lostAnswer: FaultRule | undefined;
    try {
      const raw = await readBody(request);

      const fault = state.faults.take(method, path);
      if (fault?.mode === 'timeout' && fault.applyFirst) {
        lostAnswer = fault;
      } else if (fault) {
        outcome = 'fault';
        if (fault.mode === 'timeout') {
          hang(fault.hangMs);
          return;
        }
        if (fault.mode === 'rate-limit') {
          const limit = state.rateLimiter.settings;
          send(response, 429, rateLimitBody('TEN_SECONDLY_ROLLING', correlationId), {
            ...headers,
            'X-HubSpot-RateLimit-Max': String(limit.maxPerInterval),
            'X-HubSpot-RateLimit-Remaining': '0',
            'X-HubSpot-RateLimit-Interval-Milliseconds': String(limit.intervalMs),
          });
          finish(429);
          return;
        }
        const body = fault.body === 'html'
          ? `<html><head><title>${fault.status}</title></head><body><h1>${fault.status} Server Error</h1></body></html>`
          : {
            status: 'error',
            message: 'internal error',
            correlationId,
            category: FAULT_CATEGORY[fault.status] ?? 'INTERNAL_ERROR',
          };
        send(response, fault.status, body, headers);
        finish(fault.status);
        return;
      }

      const authorization = request.headers.authorization ?? '';
      const developerRoute = !!match && 'route' in match && match.route.auth === 'developer';
      const token = developerRoute
        ? `developer:${url.searchParams.get('hapikey') ?? ''}`
        : /^Bearer\s+(.+)$/i.exec(authorization)?.[1]?.trim() ?? '';
      if (developerRoute ? token !== `developer:${state.options.developerApiKey}` : !state.options.tokens.includes(token)) {
        outcome = 'unauthorized';
        throw new HubSpotApiError(
          401,
          'INVALID_AUTHENTICATION',
          'Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview',
        );
      }
      if (!match) throw new HubSpotApiError(404, 'OBJECT_NOT_FOUND', `No route for ${method} ${path}`);
      if ('allowed' in match) {
        headers.Allow = match.allowed.join(', ');
        throw new HubSpotApiError(405, 'VALIDATION_ERROR', `Method ${method} not allowed on ${path}`);
      }
      const objectType = match.params.objectType ? resolveObjectType(match.params.objectType) : undefined;
      if (match.route.objectTypes && (!objectType || !match.route.objectTypes.includes(objectType))) {
        throw new HubSpotApiError(404, 'OBJECT_NOT_FOUND', `No route for ${method} ${path}`);
      }

      const decision = state.rateLimiter.check(token, match.route.rateLimit);
      headers = { ...headers, ...decision.headers };
      if (!decision.allowed) {
        outcome = 'rate_limited';
        policy = decision.policy;
        send(response, 429, rateLimitBody(decision.policy, correlationId), headers);
        finish(429);
        return;
      }

      result = await match.route.handler({
        method,
        path,
        query: url.searchParams,
        params: match.params,
        body: parseJson(raw),
        token,
      }, state);
    } catch (error) {
      if (outcome === 'ok') outcome = 'error';
      if (error instanceof HubSpotApiError) {
        result = { status: error.status, body: errorBody(error, correlationId) };
      } else {
        console.error(error);
        result = {
          status: 500,
          body: {
            status: 'error',
            message: String((error as Error)?.message ?? error),
            correlationId,
            category: 'INTERNAL_ERROR',
          },
        };
      }
    }
    if (result.status >= 400 && outcome === 'ok') outcome = 'error';
    if (lostAnswer) {
      outcome = 'fault';
      hang(lostAnswer.hangMs);
      return;
    }
    if (state.options.latencyMs > 0) await sleep(state.options.latencyMs);
    send(response, result.status, result.body, { ...headers, ...result.headers });
    finish(result.status);
  }

  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const handled = url.pathname === '/_sim' || url.pathname.startsWith('/_sim/')
      ? handleControl(request, response, url)
      : handleApi(request, response, url);
    handled.catch((error) => {
      console.error(error);
      if (!response.headersSent) send(response, 500, { status: 'error', message: 'simulator failure' }, {});
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(resolved.port, resolved.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${resolved.host}:${port}`;
  state.baseUrl = url;

  return {
    url,
    port,
    state,
    async close() {
      state.webhooks.close();
      for (const timer of hangTimers) clearTimeout(timer);
      hangTimers.clear();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      (server as { closeAllConnections?: () => void }).closeAllConnections?.();
      await closed;
    },
  };
}
