/**
 * How a simulator answers a request, apart from what its provider decides:
 * for the API, injected faults (5xx, 429, hang-ups, lost answers), the
 * configured latency and one log entry per request; for the control API,
 * routing and error answers.
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ControlRoute } from './control-routes.ts';
import type { FaultInjector, FaultRule } from './faults.ts';
import { type HungRequests, readBody, type Send } from './http-server.ts';
import type { RequestOutcome } from './request-log.ts';
import type { ApiResponse, HttpMethod, Router } from './router.ts';

/** One API request as it is answered; the provider's hooks update outcome, policy and headers. */
export interface ApiCall {
  readonly started: number;
  readonly method: HttpMethod;
  /** The path the routes and faults see. */
  readonly path: string;
  outcome: RequestOutcome;
  /** Rate-limit policy of a 429. */
  policy?: string;
  /** Headers of every answer (correlation id, rate-limit state). */
  headers: Record<string, string>;
}

/** An answer sent at once, without latency and even when a timeout fault meant to lose it. */
export interface ImmediateAnswer extends ApiResponse {
  immediate: true;
}

export interface ApiHooks {
  /** Errors while reading the body: its 413. */
  tooLarge(): Error;
  /** The answer to an injected `rate-limit` fault. */
  faultRateLimited(): ApiResponse;
  /** The JSON body of an injected 5xx fault (`body: "json"`). */
  faultErrorBody(status: number): unknown;
  /** Authenticates, routes, rate-limits and runs the route; may update the call. */
  handle(raw: string): Promise<ApiResponse | ImmediateAnswer>;
  /** The answer to an error thrown by `handle` or while reading the body. */
  errorResponse(error: unknown): ApiResponse;
  /** Logs the request once answered; status 0 for a hang-up. */
  finish(status: number): void;
}

export interface ApiContext {
  request: IncomingMessage;
  response: ServerResponse;
  send: Send;
  hung: HungRequests;
  faults: FaultInjector;
  /** Read when answering, so a change through the control API applies to requests in flight. */
  options: { latencyMs: number };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function startApiCall(method: HttpMethod, path: string, headers: Record<string, string>): ApiCall {
  return { started: Date.now(), method, path, outcome: 'ok', headers };
}

export async function serveApiRequest(context: ApiContext, call: ApiCall, hooks: ApiHooks): Promise<void> {
  const { request, response, send } = context;

  const hang = (ms: number) => {
    context.hung.hangUpAfter(request, ms);
    hooks.finish(0);
  };

  let result: ApiResponse;
  // A timeout fault with applyFirst: the request is handled as usual, then its answer is lost.
  let lostAnswer: FaultRule | undefined;
  try {
    const raw = await readBody(request, hooks.tooLarge);

    const fault = context.faults.take(call.method, call.path);
    if (fault?.mode === 'delay') {
      await sleep(fault.hangMs);
    } else if (fault?.mode === 'timeout' && fault.applyFirst) {
      lostAnswer = fault;
    } else if (fault) {
      call.outcome = 'fault';
      if (fault.mode === 'timeout') {
        hang(fault.hangMs);
        return;
      }
      if (fault.mode === 'rate-limit') {
        const limited = hooks.faultRateLimited();
        send(response, limited.status, limited.body, { ...call.headers, ...limited.headers });
        hooks.finish(limited.status);
        return;
      }
      const body = fault.body === 'html'
        ? `<html><head><title>${fault.status}</title></head><body><h1>${fault.status} Server Error</h1></body></html>`
        : hooks.faultErrorBody(fault.status);
      send(response, fault.status, body, call.headers);
      hooks.finish(fault.status);
      return;
    }

    result = await hooks.handle(raw);
    if ('immediate' in result) {
      send(response, result.status, result.body, { ...call.headers, ...result.headers });
      hooks.finish(result.status);
      return;
    }
  } catch (error) {
    if (call.outcome === 'ok') call.outcome = 'error';
    result = hooks.errorResponse(error);
  }
  if (result.status >= 400 && call.outcome === 'ok') call.outcome = 'error';
  if (lostAnswer) {
    call.outcome = 'fault';
    hang(lostAnswer.hangMs);
    return;
  }
  if (context.options.latencyMs > 0) await sleep(context.options.latencyMs);
  send(response, result.status, result.body, { ...call.headers, ...result.headers });
  hooks.finish(result.status);
}

export interface ControlHooks {
  parseBody(raw: string, request: IncomingMessage): unknown;
  /** The simulator's error for a status and message (404, 405, 413). */
  error(status: number, message: string): Error;
  /** The answer to any error. */
  errorAnswer(error: unknown): { status: number; body: unknown };
}

/** Routes a control request and answers it; no auth, faults, latency or logging. */
export async function serveControlRequest<State>(
  request: IncomingMessage,
  response: ServerResponse,
  url: URL,
  send: Send,
  router: Router<ControlRoute<State>>,
  state: State,
  hooks: ControlHooks,
): Promise<void> {
  try {
    const body = hooks.parseBody(await readBody(request, () => hooks.error(413, 'Request body too large')), request);
    const match = router.match(request.method ?? 'GET', url.pathname);
    if (!match) throw hooks.error(404, `No control route ${url.pathname}`);
    if ('allowed' in match) throw hooks.error(405, `Method not allowed; use ${match.allowed.join(', ')}`);
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
    const { status, body } = hooks.errorAnswer(error);
    if (status === 500) console.error(error);
    send(response, status, body, {});
  }
}
