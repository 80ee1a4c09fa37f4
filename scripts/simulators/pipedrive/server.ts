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
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FaultRule } from '../hubspot/faults.ts';
import { type ApiResponse, type HttpMethod, Router } from '../hubspot/http.ts';
import type { RequestOutcome } from '../hubspot/request-log.ts';
import { controlErrorBody, controlRouter } from './control.ts';
import {
  ERROR_INFO,
  errorBody,
  PipedriveApiError,
  rateLimitBody,
  type RateLimitPolicy,
  unauthorizedBody,
} from './errors.ts';
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

const MAX_BODY_BYTES = 20 * 1024 * 1024;
const apiRouter = new Router<PipedriveRoute>(API_ROUTES);

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Uint8Array[] = [];
    let size = 0;
    request.on('data', (chunk: Uint8Array) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new PipedriveApiError(413, 'Request body too large'));
        request.destroy();
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => {
      const out = new Uint8Array(size);
      let offset = 0;
      for (const chunk of chunks) {
        out.set(chunk, offset);
        offset += chunk.length;
      }
      resolve(new TextDecoder().decode(out));
    });
    request.on('error', reject);
  });
}

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
  response.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', ...headers });
  response.end(JSON.stringify(body));
}

/** The token and its kind: `x-api-token` header, `api_token` query, or `Authorization: Bearer`. */
function credentials(request: IncomingMessage, url: URL): { token: string; kind: TokenKind } | undefined {
  const header = request.headers['x-api-token'];
  const apiToken = (Array.isArray(header) ? header[0] : header) ?? url.searchParams.get('api_token');
  if (apiToken) return { token: apiToken, kind: 'api_token' };
  const bearer = /^Bearer\s+(.+)$/i.exec(request.headers.authorization ?? '')?.[1]?.trim();
  return bearer ? { token: bearer, kind: 'oauth' } : undefined;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function createPipedriveSimulator(options: SimulatorOptions = {}): Promise<PipedriveSimulator> {
  const resolved = resolveOptions(options);
  const state = createSimulatorState(resolved);
  const hangTimers = new Set<ReturnType<typeof setTimeout>>();

  async function handleControl(request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> {
    try {
      const body = parseBody(await readBody(request), request.headers['content-type']);
      const match = controlRouter.match(request.method ?? 'GET', url.pathname);
      if (!match) throw new PipedriveApiError(404, `No control route ${url.pathname}`);
      if ('allowed' in match) {
        throw new PipedriveApiError(405, `Method not allowed; use ${match.allowed.join(', ')}`);
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
      const { status, body } = controlErrorBody(error);
      if (status === 500) console.error(error);
      send(response, status, body, {});
    }
  }

  async function handleApi(request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> {
    const started = Date.now();
    const method = (request.method ?? 'GET').toUpperCase() as HttpMethod;
    const path = url.pathname.startsWith('/api/v1/') ? url.pathname.slice(4) : url.pathname;
    const correlationId = randomUUID();
    const match = apiRouter.match(method, path);
    const route = match && 'route' in match ? match.route : undefined;
    const endpoint = route ? `${route.method} ${route.pattern}` : `${method} (unmatched)`;
    let outcome: RequestOutcome = 'ok';
    let policy: RateLimitPolicy | undefined;
    let tokenCost = 0;
    let headers: Record<string, string> = { 'x-correlation-id': correlationId };

    const finish = (status: number) => {
      const entry = state.log.record({
        at: new Date(started).toISOString(),
        method,
        path,
        query: url.search.replace(/([?&]api_token=)[^&]*/, '$1***'),
        endpoint,
        status,
        durationMs: Date.now() - started,
        outcome,
        ...(policy ? { policy } : {}),
        ...(tokenCost ? { tokenCost } : {}),
      });
      state.options.logRequest?.(
        `${entry.at} ${method} ${path} -> ${status || 'hang'} ${entry.durationMs}ms${
          tokenCost ? ` ${tokenCost}t` : ''
        }${outcome === 'ok' ? '' : ` [${outcome}${policy ? ` ${policy}` : ''}]`}`,
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
          send(response, 429, rateLimitBody('BURST'), {
            ...headers,
            'x-ratelimit-limit': String(limit.burstLimit),
            'x-ratelimit-remaining': '0',
            'x-ratelimit-reset': String(Math.ceil(limit.burstWindowMs / 1000)),
          });
          finish(429);
          return;
        }
        const body = fault.body === 'html'
          ? `<html><head><title>${fault.status}</title></head><body><h1>${fault.status} Server Error</h1></body></html>`
          : {
            success: false,
            error: 'Internal server error',
            error_info: ERROR_INFO,
            data: null,
            additional_data: null,
          };
        send(response, fault.status, body, headers);
        finish(fault.status);
        return;
      }

      const given = credentials(request, url);
      const known = given?.kind === 'oauth'
        ? state.options.oauthTokens.includes(given.token)
        : given !== undefined && state.options.tokens.includes(given.token);
      if (!given || !known) {
        outcome = 'unauthorized';
        send(response, 401, unauthorizedBody(), headers);
        finish(401);
        return;
      }
      if (!match) throw new PipedriveApiError(404, 'Unknown method .');
      if ('allowed' in match) {
        headers.Allow = match.allowed.join(', ');
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
      headers = { ...headers, ...decision.headers };
      if (!decision.allowed) {
        outcome = 'rate_limited';
        policy = decision.policy;
        send(response, 429, rateLimitBody(decision.policy), headers);
        finish(429);
        return;
      }
      tokenCost = match.route.cost;
      state.tokensByEndpoint[endpoint] = (state.tokensByEndpoint[endpoint] ?? 0) + tokenCost;

      result = await match.route.handler({
        method,
        path,
        query: url.searchParams,
        params: match.params,
        body: parseBody(raw, request.headers['content-type']),
        token: given.token,
        correlationId,
      }, state);
    } catch (error) {
      if (outcome === 'ok') outcome = 'error';
      if (error instanceof PipedriveApiError) {
        result = { status: error.status, body: errorBody(error) };
      } else {
        console.error(error);
        result = {
          status: 500,
          body: {
            success: false,
            error: String((error as Error)?.message ?? error),
            error_info: ERROR_INFO,
            data: null,
            additional_data: null,
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
      if (!response.headersSent) send(response, 500, { success: false, error: 'simulator failure' }, {});
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
