/**
 * The control API under `/_sim/`: reset and seed the company, act "as a
 * Pipedrive user" in the web app (changes that emit webhooks with
 * change_source `app`), merge, read the request log and counters (tokens
 * spent included), inspect and tune webhook delivery, inject API faults,
 * set rate limits, move the clock. Plain JSON, no authentication, not rate
 * limited.
 */

import { z } from 'zod';
import { type ControlRoute, sharedControlRoutes } from '../common/control-routes.ts';
import { Router } from '../common/router.ts';
import { webhookFaultsBody } from '../common/webhook-faults.ts';
import { type EntityKind, type EntityRecord, kindOf, parseWrite } from './entities.ts';
import { badRequest, notFound, PipedriveApiError } from './errors.ts';
import { FIELD_ENTITIES, type FieldEntity } from './field-registry.ts';
import type { RateLimitSettings } from './rate-limit.ts';
import { seedRecords } from './seed-data.ts';
import type { SimulatorState } from './state.ts';
import { userJson } from './users.ts';
import { DEFAULT_WEBHOOK_SETTINGS } from './webhooks.ts';
import { subscriptionJson } from './webhook-subscriptions.ts';

const entityName = z.string().transform((value, context) => {
  const kind = kindOf(value);
  if (!kind) {
    context.addIssue({
      code: 'custom',
      message: `Unknown entity ${value} (persons, organizations, deals, activities, notes)`,
    });
    return z.NEVER;
  }
  return kind;
});

const resetBody = z.object({ keepWebhookSettings: z.boolean().default(true) });

const seedBody = z.object({
  entity: entityName,
  count: z.number().int().min(1).max(200_000),
  values: z.record(z.string(), z.unknown()).optional(),
  spreadMs: z.number().int().min(0).optional(),
  emitWebhooks: z.boolean().optional(),
});

const userWriteBody = z.object({
  values: z.record(z.string(), z.unknown()).default({}),
  userId: z.number().int().optional(),
});

const userActionBody = z.object({ userId: z.number().int().optional() });

const mergeBody = z.object({
  entity: entityName.refine(
    (kind) => kind === 'person' || kind === 'organization',
    'only persons and organizations merge',
  ),
  id: z.number().int().positive(),
  mergeWithId: z.number().int().positive(),
  userId: z.number().int().optional(),
});

const addUserBody = z.object({ name: z.string().min(1), email: z.string().email(), isAdmin: z.boolean().optional() });

const webhookSettingsBody = z.object({
  timeScale: z.number().positive().optional(),
  requestTimeoutMs: z.number().int().min(1).optional(),
  retryDelaysMs: z.array(z.number().int().min(0)).max(10).optional(),
  banAfterFailures: z.number().int().min(1).optional(),
  banDurationMs: z.number().int().min(0).optional(),
  deleteAfterMs: z.number().int().min(0).optional(),
  maxConcurrentRequests: z.number().int().min(1).max(100).optional(),
  faults: webhookFaultsBody.optional(),
});

const rateLimitBody = z.object({
  burstLimit: z.number().int().positive().optional(),
  burstWindowMs: z.number().int().positive().optional(),
  searchBurstLimit: z.number().int().positive().optional(),
  oauthMultiplier: z.number().positive().optional(),
  dailyBudget: z.number().int().positive().optional(),
  /** Forget burst windows and the day's spending. */
  resetWindows: z.boolean().default(false),
});

const configBody = z.object({ latencyMs: z.number().int().min(0).optional() });

function parse<T extends z.ZodType>(schema: T, body: unknown): z.output<T> {
  const result = schema.safeParse(body ?? {});
  if (result.success) return result.data;
  throw badRequest(
    result.error.issues.map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`).join('; '),
  );
}

function kindParam(params: Record<string, string>): EntityKind {
  const kind = kindOf(params.entity);
  if (!kind) throw badRequest(`Unknown entity ${params.entity}`);
  return kind;
}

function idOf(params: Record<string, string>): number {
  if (!/^\d+$/.test(params.id ?? '')) throw badRequest(`Invalid id ${params.id}`);
  return Number(params.id);
}

/** A record for inspection: its API v2 JSON, custom fields by name too, and deletion state. */
export function recordDump(state: SimulatorState, record: EntityRecord): Record<string, unknown> {
  const byName: Record<string, unknown> = {};
  if (record.kind !== 'activity' && record.kind !== 'note') {
    for (const field of state.fields.customFields(record.kind)) byName[field.name] = record.custom[field.key] ?? null;
  }
  return {
    entity: record.kind,
    id: record.id,
    deleted: record.deleted,
    ...(record.mergedInto ? { mergedInto: record.mergedInto } : {}),
    data: state.store.json(record),
    customFieldsByName: byName,
  };
}

const shared = sharedControlRoutes<RateLimitSettings, SimulatorState>({ parse, rateLimitBody, badRequest });

const routes: ControlRoute<SimulatorState>[] = [
  {
    method: 'GET',
    pattern: '/_sim/health',
    handler: (_request, state) => ({
      status: 200,
      body: {
        ok: true,
        url: state.baseUrl,
        companyId: state.options.companyId,
        companyDomain: state.options.companyDomain,
        apiV2: `${state.baseUrl}/api/v2`,
        apiV1: `${state.baseUrl}/v1`,
      },
    }),
  },
  {
    method: 'POST',
    pattern: '/_sim/reset',
    handler(request, state) {
      const { keepWebhookSettings } = parse(resetBody, request.body);
      state.reset();
      if (!keepWebhookSettings) {
        state.webhooks.configure({
          ...structuredClone(DEFAULT_WEBHOOK_SETTINGS),
          ...state.options.webhooks,
          faults: { ...DEFAULT_WEBHOOK_SETTINGS.faults, seed: state.options.seed },
        });
      }
      return { status: 200, body: { ok: true } };
    },
  },
  {
    method: 'POST',
    pattern: '/_sim/seed',
    handler(request, state) {
      const input = parse(seedBody, request.body);
      const ids = seedRecords(state, input);
      return { status: 201, body: { entity: input.entity, count: ids.length, ids } };
    },
  },
  {
    method: 'GET',
    pattern: '/_sim/objects/{entity}',
    handler(request, state) {
      const includeDeleted = request.query.get('includeDeleted') === 'true';
      const results = state.store.all(kindParam(request.params))
        .filter((record) => includeDeleted || !record.deleted)
        .map((record) => recordDump(state, record));
      return { status: 200, body: { total: results.length, results } };
    },
  },
  {
    method: 'GET',
    pattern: '/_sim/objects/{entity}/{id}',
    handler(request, state) {
      const record = state.store.get(kindParam(request.params), idOf(request.params));
      if (!record) throw notFound('Record');
      return { status: 200, body: recordDump(state, record) };
    },
  },
  {
    method: 'POST',
    pattern: '/_sim/objects/{entity}',
    handler(request, state) {
      const kind = kindParam(request.params);
      const input = parse(userWriteBody, request.body);
      const record = state.store.create(kind, parseWrite(kind, input.values), state.appActor(input.userId));
      return { status: 201, body: recordDump(state, record) };
    },
  },
  {
    method: 'PATCH',
    pattern: '/_sim/objects/{entity}/{id}',
    handler(request, state) {
      const kind = kindParam(request.params);
      const input = parse(userWriteBody, request.body);
      const { record, previous } = state.store.update(
        kind,
        idOf(request.params),
        parseWrite(kind, input.values),
        state.appActor(input.userId),
      );
      return { status: 200, body: { ...recordDump(state, record), previous } };
    },
  },
  {
    method: 'DELETE',
    pattern: '/_sim/objects/{entity}/{id}',
    handler(request, state) {
      const input = parse(userActionBody, request.body);
      state.store.delete(kindParam(request.params), idOf(request.params), state.appActor(input.userId));
      return { status: 204 };
    },
  },
  {
    method: 'POST',
    pattern: '/_sim/merge',
    handler(request, state) {
      const input = parse(mergeBody, request.body);
      const survivor = state.store.merge(
        input.entity as 'person' | 'organization',
        input.id,
        input.mergeWithId,
        state.appActor(input.userId),
      );
      return { status: 200, body: recordDump(state, survivor) };
    },
  },
  {
    method: 'GET',
    pattern: '/_sim/fields',
    handler: (_request, state) => ({
      status: 200,
      body: Object.fromEntries(
        FIELD_ENTITIES.map((entity: FieldEntity) => [
          entity,
          Object.fromEntries(state.fields.customFields(entity).map((field) => [field.name, field.key])),
        ]),
      ),
    }),
  },
  {
    method: 'POST',
    pattern: '/_sim/users',
    handler(request, state) {
      const user = state.users.add(parse(addUserBody, request.body));
      return { status: 201, body: userJson(user, state.users.me()) };
    },
  },
  shared.listRequests,
  {
    method: 'DELETE',
    pattern: '/_sim/requests',
    handler(_request, state) {
      state.log.clear();
      state.tokensByEndpoint = {};
      return { status: 204 };
    },
  },
  {
    method: 'GET',
    pattern: '/_sim/counters',
    handler(_request, state) {
      const spentToday = state.rateLimiter.spentToday(state.clock.now());
      const dailyBudget = state.rateLimiter.settings.dailyBudget;
      return {
        status: 200,
        body: {
          ...state.log.counters,
          tokens: {
            spentToday,
            dailyBudget,
            remainingToday: Math.max(0, dailyBudget - spentToday),
            spentTotal: state.rateLimiter.spentTotal,
            byEndpoint: { ...state.tokensByEndpoint },
          },
          webhooks: state.webhooks.stats(),
        },
      };
    },
  },
  {
    method: 'GET',
    pattern: '/_sim/webhooks',
    handler: (_request, state) => ({
      status: 200,
      body: {
        settings: state.webhooks.settings,
        subscriptions: state.webhooks.list().map((subscription) =>
          subscriptionJson(subscription, state.options.companyId, state.users.me().id)
        ),
        ...state.webhooks.healthReport(),
        stats: state.webhooks.stats(),
      },
    }),
  },
  {
    method: 'PUT',
    pattern: '/_sim/webhooks',
    handler: (request, state) => ({
      status: 200,
      body: { settings: state.webhooks.configure(parse(webhookSettingsBody, request.body)) },
    }),
  },
  ...shared.webhookQueue,
  ...shared.faults,
  ...shared.rateLimit,
  ...shared.clock,
  {
    method: 'GET',
    pattern: '/_sim/config',
    handler: (_request, state) => ({ status: 200, body: { latencyMs: state.options.latencyMs } }),
  },
  {
    method: 'PUT',
    pattern: '/_sim/config',
    handler(request, state) {
      const input = parse(configBody, request.body);
      if (input.latencyMs !== undefined) state.options.latencyMs = input.latencyMs;
      return { status: 200, body: { latencyMs: state.options.latencyMs } };
    },
  },
];

export const CONTROL_ROUTES = routes;
export const controlRouter = new Router<ControlRoute<SimulatorState>>(routes);

/** Error answer of the control API: `{success: false, error}` with the error's status. */
export function controlErrorBody(error: unknown): { status: number; body: Record<string, unknown> } {
  if (error instanceof PipedriveApiError) {
    return { status: error.status, body: { success: false, error: error.message, ...error.details.body } };
  }
  return { status: 500, body: { success: false, error: String((error as Error)?.message ?? error) } };
}
