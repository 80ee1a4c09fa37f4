/**
 * The control routes every simulator has under `/_sim/`: the request log,
 * webhook flush/deliveries/events, injected faults, rate-limit settings and
 * the clock. Each simulator adds its own routes around these and passes the
 * pieces that differ: how a body is validated, its rate-limit settings
 * schema and its validation error.
 */

import { z } from 'zod';
import type { SimulatorClock } from './clock.ts';
import type { FaultInjector } from './faults.ts';
import type { ApiRequest, ApiResponse, HttpMethod } from './router.ts';

export interface ControlRoute<State> {
  method: HttpMethod;
  pattern: string;
  handler: (request: ApiRequest, state: State) => ApiResponse | Promise<ApiResponse>;
}

/** What the shared routes need of a simulator's state. */
export interface ControlState<Settings extends object> {
  log: { recent(limit: number): unknown[] };
  faults: FaultInjector;
  rateLimiter: { settings: Settings; reset(): void; configure(settings: Partial<Settings>): Settings };
  clock: SimulatorClock;
  webhooks: {
    flush(timeoutMs: number): Promise<unknown>;
    deliveries(limit: number): unknown[];
    events(limit: number): unknown[];
  };
}

/** Validates a request body against a schema, throwing the simulator's own 400. */
export type BodyParser = <T extends z.ZodType>(schema: T, body: unknown) => z.output<T>;

export interface SharedControlOptions<Settings extends object> {
  parse: BodyParser;
  /** The rate-limit settings a PUT may change, plus `resetWindows`. */
  rateLimitBody: z.ZodType<Partial<Settings> & { resetWindows: boolean }>;
  /** The simulator's 400 for a bad request the schema cannot catch. */
  badRequest: (message: string) => Error;
}

const flushBody = z.object({ timeoutMs: z.number().int().min(0).max(600_000).default(10_000) });

const faultBody = z.object({
  mode: z.enum(['error', 'timeout', 'rate-limit', 'delay']),
  count: z.number().int().min(1).default(1),
  pathPrefix: z.string().startsWith('/').optional(),
  method: z.string().optional(),
  status: z.union([z.literal(500), z.literal(502), z.literal(503), z.literal(504)]).optional(),
  body: z.enum(['json', 'html']).optional(),
  hangMs: z.number().int().min(0).max(600_000).optional(),
  /** Timeouts: handle the request first (a write takes effect), then hang instead of answering. */
  applyFirst: z.boolean().optional(),
});

const clockBody = z.object({
  advanceMs: z.number().int().optional(),
  freezeAt: z.union([z.string(), z.number(), z.null()]).optional(),
});

/** The `limit` query parameter, or the fallback when it is missing or not a positive integer. */
const limitOf = (query: URLSearchParams, fallback: number): number => {
  const value = Number(query.get('limit') ?? fallback);
  return Number.isInteger(value) && value > 0 ? value : fallback;
};

/** The shared routes, in groups a simulator places among its own (route order decides `Allow`). */
export function sharedControlRoutes<Settings extends object, State extends ControlState<Settings>>(
  options: SharedControlOptions<Settings>,
) {
  const { parse, rateLimitBody, badRequest } = options;

  const listRequests: ControlRoute<State> = {
    method: 'GET',
    pattern: '/_sim/requests',
    handler: (request, state) => ({ status: 200, body: { results: state.log.recent(limitOf(request.query, 100)) } }),
  };

  const webhookQueue: ControlRoute<State>[] = [
    {
      method: 'POST',
      pattern: '/_sim/webhooks/flush',
      async handler(request, state) {
        const { timeoutMs } = parse(flushBody, request.body);
        return { status: 200, body: await state.webhooks.flush(timeoutMs) };
      },
    },
    {
      method: 'GET',
      pattern: '/_sim/webhooks/deliveries',
      handler: (request, state) => ({
        status: 200,
        body: { results: state.webhooks.deliveries(limitOf(request.query, 100)) },
      }),
    },
    {
      method: 'GET',
      pattern: '/_sim/webhooks/events',
      handler: (request, state) => ({
        status: 200,
        body: { results: state.webhooks.events(limitOf(request.query, 100)) },
      }),
    },
  ];

  const faults: ControlRoute<State>[] = [
    {
      method: 'GET',
      pattern: '/_sim/faults',
      handler: (_request, state) => ({
        status: 200,
        body: { results: state.faults.list(), injected: state.faults.injected },
      }),
    },
    {
      method: 'POST',
      pattern: '/_sim/faults',
      handler: (request, state) => ({ status: 201, body: state.faults.add(parse(faultBody, request.body)) }),
    },
    {
      method: 'DELETE',
      pattern: '/_sim/faults',
      handler(_request, state) {
        state.faults.clear();
        return { status: 204 };
      },
    },
  ];

  const rateLimit: ControlRoute<State>[] = [
    {
      method: 'GET',
      pattern: '/_sim/rate-limit',
      handler: (_request, state) => ({ status: 200, body: state.rateLimiter.settings }),
    },
    {
      method: 'PUT',
      pattern: '/_sim/rate-limit',
      handler(request, state) {
        const { resetWindows, ...settings } = parse(rateLimitBody, request.body);
        if (resetWindows) state.rateLimiter.reset();
        return { status: 200, body: state.rateLimiter.configure(settings as Partial<Settings>) };
      },
    },
  ];

  const clock: ControlRoute<State>[] = [
    {
      method: 'GET',
      pattern: '/_sim/clock',
      handler: (_request, state) => ({ status: 200, body: state.clock.describe() }),
    },
    {
      method: 'PUT',
      pattern: '/_sim/clock',
      handler(request, state) {
        const input = parse(clockBody, request.body);
        if (input.freezeAt === null) state.clock.unfreeze();
        else if (input.freezeAt !== undefined) {
          const at = typeof input.freezeAt === 'number' ? input.freezeAt : Date.parse(input.freezeAt);
          if (Number.isNaN(at)) throw badRequest(`freezeAt is not a date: ${input.freezeAt}`);
          state.clock.freeze(at);
        }
        if (input.advanceMs) state.clock.advance(input.advanceMs);
        return { status: 200, body: state.clock.describe() };
      },
    },
  ];

  return { listRequests, webhookQueue, faults, rateLimit, clock };
}
