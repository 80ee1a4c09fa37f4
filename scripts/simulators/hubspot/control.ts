/**
 * The control API under `/_sim/`: reset and seed the portal, act "as a
 * HubSpot user" (changes that emit webhooks with changeSource CRM_UI), read
 * the request log and counters, configure webhooks, inject API faults, set
 * rate limits, move the clock, and wait for webhook deliveries to finish.
 * Plain JSON, no authentication, not rate limited.
 */

import { z } from 'zod';
import { type ControlRoute, sharedControlRoutes } from '../common/control-routes.ts';
import { Router } from '../common/router.ts';
import { webhookFaultsBody } from '../common/webhook-faults.ts';
import { associationType, defaultAssociationType } from './association-types.ts';
import { HubSpotApiError, notFound, validationError } from './errors.ts';
import { OBJECT_TYPE_NAMES, type ObjectTypeName } from './object-types.ts';
import { ownerJson } from './owners.ts';
import { objectTypeParam } from './routes/params.ts';
import type { RateLimitSettings } from './rate-limit.ts';
import { parseBody, propertyValues } from './schemas.ts';
import { seedRecords } from './seed-data.ts';
import type { SimulatorState } from './state.ts';
import type { CrmRecord } from './store.ts';
import { defaultSubscriptions } from './webhooks.ts';

const objectTypeName = z.string().transform((value, context) => {
  try {
    return objectTypeParam(value);
  } catch {
    context.addIssue({ code: 'custom', message: `Unknown object type ${value}` });
    return z.NEVER;
  }
});

const resetBody = z.object({ keepWebhookSettings: z.boolean().default(true) });

const seedBody = z.object({
  objectType: objectTypeName,
  count: z.number().int().min(1).max(500_000),
  properties: z.record(z.string(), z.string()).optional(),
  spreadMs: z.number().int().min(0).optional(),
  associateWith: objectTypeName.optional(),
  emitWebhooks: z.boolean().optional(),
});

const userWriteBody = z.object({
  properties: propertyValues,
  userId: z.number().int().optional(),
  associations: z.array(z.object({
    toObjectType: objectTypeName,
    toObjectId: z.union([z.string(), z.number()]).transform(String),
    associationTypeId: z.number().int().optional(),
  })).optional(),
});

const userActionBody = z.object({ userId: z.number().int().optional() });

const mergeBody = z.object({
  primaryObjectId: z.union([z.string(), z.number()]).transform(String),
  objectIdToMerge: z.union([z.string(), z.number()]).transform(String),
  userId: z.number().int().optional(),
});

const associationBody = z.object({
  fromObjectType: objectTypeName,
  fromObjectId: z.union([z.string(), z.number()]).transform(String),
  toObjectType: objectTypeName,
  toObjectId: z.union([z.string(), z.number()]).transform(String),
  associationTypeId: z.number().int().optional(),
  remove: z.boolean().default(false),
  userId: z.number().int().optional(),
});

const ownerBody = z.object({
  email: z.string().email(),
  firstName: z.string().optional(),
  lastName: z.string().optional(),
});

const subscriptionBody = z.object({
  id: z.number().int().optional(),
  subscriptionType: z.string().regex(/^(contact|company|deal|object)\.[a-zA-Z]+$/),
  propertyName: z.string().optional(),
  objectTypeId: z.string().optional(),
  active: z.boolean().optional(),
});

const webhookSettingsBody = z.object({
  targetUrl: z.string().url().nullable().optional(),
  clientSecret: z.string().min(1).optional(),
  appId: z.number().int().positive().optional(),
  subscriptions: z.union([z.literal('default'), z.array(subscriptionBody)]).optional(),
  maxConcurrentRequests: z.number().int().min(1).max(100).optional(),
  maxEventsPerRequest: z.number().int().min(1).max(100).optional(),
  batchWindowMs: z.number().int().min(0).optional(),
  requestTimeoutMs: z.number().int().min(1).optional(),
  retry: z.object({
    maxRetries: z.number().int().min(0).optional(),
    initialDelayMs: z.number().int().min(0).optional(),
    maxDelayMs: z.number().int().min(0).optional(),
    multiplier: z.number().min(1).optional(),
  }).optional(),
  faults: webhookFaultsBody.optional(),
});

const rateLimitBody = z.object({
  maxPerInterval: z.number().int().positive().optional(),
  intervalMs: z.number().int().positive().optional(),
  dailyLimit: z.number().int().positive().optional(),
  searchPerSecond: z.number().int().positive().optional(),
  resetWindows: z.boolean().default(false),
});

const configBody = z.object({
  latencyMs: z.number().int().min(0).optional(),
  searchIndexDelayMs: z.number().int().min(0).optional(),
  searchMaxResults: z.number().int().min(1).max(10_000).optional(),
});

function configOf(state: SimulatorState) {
  return { latencyMs: state.options.latencyMs, searchIndexDelayMs: state.store.searchIndexDelayMs, searchMaxResults: state.store.searchMaxResults };
}

/** A record with every property and its associations, for inspection. */
export function recordDump(state: SimulatorState, record: CrmRecord): Record<string, unknown> {
  const associations: Record<string, Array<{ id: string; typeIds: number[] }>> = {};
  for (const toType of OBJECT_TYPE_NAMES) {
    const edges = state.store.associations(record.type, record.id, toType);
    if (edges.length) associations[toType] = edges.map((edge) => ({ id: edge.toId, typeIds: edge.typeIds }));
  }
  return {
    id: record.id,
    objectType: record.type,
    properties: { ...record.properties },
    createdAt: new Date(record.createdAt).toISOString(),
    updatedAt: new Date(record.updatedAt).toISOString(),
    archived: record.archived,
    ...(record.archivedAt ? { archivedAt: new Date(record.archivedAt).toISOString() } : {}),
    associations,
  };
}

function typeOf(params: Record<string, string>): ObjectTypeName {
  return objectTypeParam(params.objectType);
}

const shared = sharedControlRoutes<RateLimitSettings, SimulatorState>({
  parse: parseBody,
  rateLimitBody,
  badRequest: validationError,
});

const routes: ControlRoute<SimulatorState>[] = [
  {
    method: 'GET',
    pattern: '/_sim/health',
    handler: (_request, state) => ({
      status: 200,
      body: { ok: true, url: state.baseUrl, portalId: state.options.portalId, appId: state.webhooks.settings.appId },
    }),
  },
  {
    method: 'POST',
    pattern: '/_sim/reset',
    handler(request, state) {
      const input = parseBody(resetBody, request.body);
      state.reset();
      if (!input.keepWebhookSettings) {
        state.webhooks.configure({
          targetUrl: state.options.webhookUrl,
          clientSecret: state.options.clientSecret,
          appId: state.options.appId,
          subscriptions: defaultSubscriptions(),
          faults: { seed: state.options.seed, duplicateProbability: 0, dropProbability: 0, reorder: false, delayMs: 0 },
        });
      }
      return { status: 200, body: { ok: true } };
    },
  },
  {
    method: 'POST',
    pattern: '/_sim/seed',
    handler(request, state) {
      const input = parseBody(seedBody, request.body);
      const ids = seedRecords(state, input);
      return { status: 201, body: { objectType: input.objectType, count: ids.length, ids } };
    },
  },
  {
    method: 'GET',
    pattern: '/_sim/objects/{objectType}',
    handler(request, state) {
      const includeArchived = request.query.get('includeArchived') === 'true';
      const results = [...state.store.all(typeOf(request.params))]
        .filter((record) => includeArchived || !record.archived)
        .map((record) => recordDump(state, record));
      return { status: 200, body: { total: results.length, results } };
    },
  },
  {
    method: 'GET',
    pattern: '/_sim/objects/{objectType}/{objectId}',
    handler(request, state) {
      const record = state.store.get(typeOf(request.params), request.params.objectId, { includeArchived: true });
      if (!record) throw notFound();
      return { status: 200, body: recordDump(state, record) };
    },
  },
  {
    method: 'POST',
    pattern: '/_sim/objects/{objectType}',
    handler(request, state) {
      const type = typeOf(request.params);
      const input = parseBody(userWriteBody, request.body);
      const associations = (input.associations ?? []).map((association) => {
        const typeId = association.associationTypeId ?? defaultAssociationType(type, association.toObjectType)?.typeId;
        if (typeId === undefined || associationType(typeId)?.to !== association.toObjectType) {
          throw validationError(`No association type from ${type} to ${association.toObjectType}`);
        }
        return { toId: association.toObjectId, typeId };
      });
      const record = state.store.create(type, input.properties, state.userSource(input.userId), { associations });
      return { status: 201, body: recordDump(state, record) };
    },
  },
  {
    method: 'PATCH',
    pattern: '/_sim/objects/{objectType}/{objectId}',
    handler(request, state) {
      const input = parseBody(userWriteBody, request.body);
      const { record, changed } = state.store.update(
        typeOf(request.params),
        request.params.objectId,
        input.properties,
        state.userSource(input.userId),
      );
      return { status: 200, body: { ...recordDump(state, record), changed } };
    },
  },
  {
    method: 'DELETE',
    pattern: '/_sim/objects/{objectType}/{objectId}',
    handler(request, state) {
      const input = parseBody(userActionBody, request.body);
      const archived = state.store.archive(
        typeOf(request.params),
        request.params.objectId,
        state.userSource(input.userId),
      );
      if (!archived) throw notFound();
      return { status: 204 };
    },
  },
  {
    method: 'POST',
    pattern: '/_sim/objects/{objectType}/{objectId}/restore',
    handler(request, state) {
      const input = parseBody(userActionBody, request.body);
      const record = state.store.restore(
        typeOf(request.params),
        request.params.objectId,
        state.userSource(input.userId),
      );
      return { status: 200, body: recordDump(state, record) };
    },
  },
  {
    method: 'POST',
    pattern: '/_sim/objects/{objectType}/merge',
    handler(request, state) {
      const input = parseBody(mergeBody, request.body);
      const record = state.store.merge(
        typeOf(request.params),
        input.primaryObjectId,
        input.objectIdToMerge,
        state.userSource(input.userId),
      );
      return { status: 200, body: recordDump(state, record) };
    },
  },
  {
    method: 'POST',
    pattern: '/_sim/objects/contacts/{objectId}/gdpr-delete',
    handler(request, state) {
      const input = parseBody(userActionBody, request.body);
      if (!state.store.purge('contacts', request.params.objectId, state.userSource(input.userId))) throw notFound();
      return { status: 204 };
    },
  },
  {
    method: 'GET',
    pattern: '/_sim/oauth',
    handler: (_request, state) => ({ status: 200, body: state.oauth.describe() }),
  },
  {
    // A user installs the app as a public (OAuth) app: its refresh token and a first access token.
    method: 'POST',
    pattern: '/_sim/oauth/installs',
    handler: (_request, state) => ({ status: 201, body: { ...state.oauth.install(), client_id: state.oauth.settings.clientId } }),
  },
  {
    // The app is uninstalled: every refresh and access token stops working.
    method: 'POST',
    pattern: '/_sim/oauth/revoke',
    handler: (_request, state) => ({ status: 200, body: { revoked: state.oauth.revoke() } }),
  },
  {
    method: 'POST',
    pattern: '/_sim/associations',
    handler(request, state) {
      const input = parseBody(associationBody, request.body);
      const source = state.userSource(input.userId);
      const typeId = input.associationTypeId ??
        defaultAssociationType(input.fromObjectType, input.toObjectType)?.typeId;
      if (typeId === undefined) {
        throw validationError(`No association from ${input.fromObjectType} to ${input.toObjectType}`);
      }
      const { fromObjectType, fromObjectId, toObjectType, toObjectId } = input;
      const changed = input.remove
        ? state.store.unassociate(fromObjectType, fromObjectId, toObjectType, toObjectId, [typeId], source)
        : state.store.associate(fromObjectType, fromObjectId, toObjectType, toObjectId, [typeId], source).length;
      return { status: 200, body: { changed } };
    },
  },
  {
    method: 'POST',
    pattern: '/_sim/owners',
    handler: (request, state) => ({
      status: 201,
      body: ownerJson(state.owners.add(parseBody(ownerBody, request.body))),
    }),
  },
  shared.listRequests,
  {
    method: 'DELETE',
    pattern: '/_sim/requests',
    handler(_request, state) {
      state.log.clear();
      return { status: 204 };
    },
  },
  {
    method: 'GET',
    pattern: '/_sim/counters',
    handler: (_request, state) => ({
      status: 200,
      body: { ...state.log.counters, webhooks: state.webhooks.stats() },
    }),
  },
  {
    method: 'GET',
    pattern: '/_sim/webhooks',
    handler: (_request, state) => ({
      status: 200,
      body: { settings: state.webhooks.settings, stats: state.webhooks.stats() },
    }),
  },
  {
    method: 'PUT',
    pattern: '/_sim/webhooks',
    handler(request, state) {
      const { subscriptions, ...rest } = parseBody(webhookSettingsBody, request.body);
      const settings = state.webhooks.configure({
        ...rest,
        ...(subscriptions
          ? { subscriptions: subscriptions === 'default' ? defaultSubscriptions() : subscriptions }
          : {}),
      });
      return { status: 200, body: { settings } };
    },
  },
  ...shared.webhookQueue,
  ...shared.faults,
  ...shared.rateLimit,
  ...shared.clock,
  {
    method: 'GET',
    pattern: '/_sim/config',
    handler: (_request, state) => ({
      status: 200,
      body: configOf(state),
    }),
  },
  {
    method: 'PUT',
    pattern: '/_sim/config',
    handler(request, state) {
      const input = parseBody(configBody, request.body);
      if (input.latencyMs !== undefined) state.options.latencyMs = input.latencyMs;
      if (input.searchIndexDelayMs !== undefined) state.store.searchIndexDelayMs = input.searchIndexDelayMs;
      if (input.searchMaxResults !== undefined) state.store.searchMaxResults = input.searchMaxResults;
      return {
        status: 200,
        body: configOf(state),
      };
    },
  },
];

export const CONTROL_ROUTES = routes;
export const controlRouter = new Router<ControlRoute<SimulatorState>>(routes);

/** Error body of the control API: `{status: "error", message, category}`. */
export function controlErrorStatus(error: unknown): { status: number; message: string; category: string } {
  if (error instanceof HubSpotApiError) {
    return { status: error.status, message: error.message, category: error.category };
  }
  return { status: 500, message: String((error as Error)?.message ?? error), category: 'INTERNAL_ERROR' };
}
