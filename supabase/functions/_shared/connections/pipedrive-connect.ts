// Connecting a Pipedrive company: check the API token with GET /v1/users/me
// (which also tells the company id, the connection's account id), find the
// custom fields the engine syncs by name (creating the missing ones), build
// the field map and the value maps (stages from /api/v2/stages, owners from
// /v1/users by email, enum options by label), store connection, Vault
// credentials, value maps and field map in one transaction, then subscribe
// the pipedrive-webhook function to every object's events (webhooks v2 with
// HTTP Basic credentials kept in Vault). Connecting again reuses the stored
// webhook credentials and keeps the subscriptions that are in place.
import { z } from 'zod';
import type { Sql } from '../db.ts';
import { ProviderError } from '../providers/adapter.ts';
import { createPipedriveCaller, type PipedriveCaller } from '../providers/pipedrive/client.ts';
import {
  customFieldSpecs,
  findField,
  type PipedriveField,
  type PipedriveFieldObject,
  pipedriveFieldSchema,
  resolveFieldMap,
} from '../providers/pipedrive/field-map.ts';
import { optionValueMaps, ownerValueMaps, type PipedriveStage, stageValueMaps } from '../providers/pipedrive/value-maps.ts';
import { fieldMapRowsMissing } from '../providers/hubspot/field-map.ts';
import type { RateBudget } from '../sync/rate-budget.ts';
import { chargeSetupCalls, countingBudget } from './hubspot-connect.ts';

export const connectPipedriveSchema = z.object({
  tenant_id: z.uuid(),
  provider: z.literal('pipedrive'),
  api_token: z.string().min(10, 'api_token is the Pipedrive API token (Settings > Personal preferences > API)'),
  display_name: z.string().max(200).optional(),
  api_base_url: z.url().optional(),
  /** Burst window per token (Pipedrive: 20 requests per 2 s on Lite). */
  rate_limit: z.object({ max_requests: z.number().int().positive(), interval_ms: z.number().int().min(100) }).optional(),
  /** false: pg_cron starts no hourly incremental or daily reconciliation here; jobs started by hand still run. */
  scheduled_jobs: z.boolean().optional(),
  /** Daily token budget (30,000 × plan multiplier × seats). */
  daily_limit: z.number().int().positive().optional(),
});
export type ConnectPipedriveRequest = z.infer<typeof connectPipedriveSchema>;

/** The objects whose events the engine handles, one subscription each. */
export const webhookObjects = ['person', 'organization', 'deal', 'activity', 'note'] as const;

export interface ConnectPipedriveResult {
  connection_id: string;
  provider: 'pipedrive';
  account_id: string;
  fields_created: string[];
  field_map: { entity_type: string; local_field: string; remote_property: string }[];
  value_maps: number;
  webhook: { target_url: string; subscriptions: string[]; created: number; configured: true };
}

const listOf = <T>(response: unknown, schema: z.ZodType<T>): T[] => z.array(schema).parse((response as { data?: unknown })?.data ?? []);

async function fieldsOf(api: PipedriveCaller, object: PipedriveFieldObject): Promise<PipedriveField[]> {
  const response = await api.call((a): Promise<unknown> =>
    object === 'person'
      ? a.personFields.getPersonFields({ start: 0, limit: 500 })
      : object === 'organization'
      ? a.organizationFields.getOrganizationFields({ start: 0, limit: 500 })
      : a.dealFields.getDealFields({ start: 0, limit: 500 })
  );
  return listOf(response, pipedriveFieldSchema);
}

/** Finds the synced custom fields by name, creating the missing ones; returns the fields by object and what was created. */
export async function ensureCustomFields(api: PipedriveCaller): Promise<{ fields: Record<PipedriveFieldObject, PipedriveField[]>; created: string[] }> {
  const objects = [...new Set(customFieldSpecs.map((s) => s.object))];
  const fields = { person: [], organization: [], deal: [] } as Record<PipedriveFieldObject, PipedriveField[]>;
  for (const object of objects) fields[object] = await fieldsOf(api, object);
  const created: string[] = [];
  for (const spec of customFieldSpecs) {
    if (findField(spec, fields[spec.object])) continue;
    const body = { name: spec.name, field_type: spec.fieldType, ...(spec.options ? { options: spec.options.map((label) => ({ label })) } : {}) };
    const response = await api.call((a): Promise<unknown> =>
      spec.object === 'person'
        ? a.personFields.addPersonField({ CreateFieldRequest: body as never })
        : a.organizationFields.addOrganizationField({ CreateFieldRequest: body as never })
    );
    fields[spec.object].push(pipedriveFieldSchema.parse((response as { data?: unknown }).data));
    created.push(`${spec.object}.${spec.name}`);
  }
  return { fields, created };
}

const stageSchema = z.looseObject({ id: z.number().int(), name: z.string(), pipeline_id: z.number().int() });
const userSchema = z.looseObject({ id: z.number().int(), email: z.string() });
const webhookSchema = z.looseObject({
  id: z.number().int(),
  subscription_url: z.string(),
  event_object: z.string(),
  event_action: z.string(),
  version: z.string().optional(),
  http_auth_user: z.string().nullish(),
});

async function allStages(api: PipedriveCaller): Promise<PipedriveStage[]> {
  const stages: PipedriveStage[] = [];
  let cursor: string | undefined;
  do {
    const response = await api.call((a) => a.stages.getStages({ limit: 500, ...(cursor ? { cursor } : {}) }));
    stages.push(...listOf(response, stageSchema));
    cursor = (response as { additional_data?: { next_cursor?: string | null } }).additional_data?.next_cursor ?? undefined;
  } while (cursor);
  return stages;
}

/** Random HTTP Basic credentials for a new subscription (Pipedrive signs nothing else). */
function newWebhookSecret(): { user: string; password: string } {
  const random = (bytes: number) => [...crypto.getRandomValues(new Uint8Array(bytes))].map((b) => b.toString(16).padStart(2, '0')).join('');
  return { user: `crm-sync-${random(4)}`, password: random(24) };
}

/**
 * One v2 subscription per object, pointing at `targetUrl` with the given
 * credentials. A subscription in place with the same user is kept; one with
 * other credentials (a connection made afresh) is replaced.
 */
export async function ensureWebhooks(api: PipedriveCaller, targetUrl: string, secret: { user: string; password: string }): Promise<{ subscriptions: string[]; created: number }> {
  const existing = listOf(await api.call((a) => a.webhooks.getWebhooks()), webhookSchema)
    .filter((w) => w.subscription_url === targetUrl);
  let created = 0;
  for (const object of webhookObjects) {
    const mine = existing.filter((w) => w.event_object === object);
    const keep = mine.find((w) => w.event_action === '*' && (w.version ?? '2.0') === '2.0' && w.http_auth_user === secret.user);
    for (const stale of mine.filter((w) => w !== keep)) await api.call((a) => a.webhooks.deleteWebhook({ id: stale.id }));
    if (keep) continue;
    await api.call((a) => a.webhooks.addWebhook({
      AddWebhookRequest: {
        subscription_url: targetUrl, event_action: '*', event_object: object, version: '2.0',
        http_auth_user: secret.user, http_auth_password: secret.password,
      } as never,
    }));
    created++;
  }
  return { subscriptions: webhookObjects.map((o) => `*.${o}`), created };
}

export async function connectPipedrive(
  sql: Sql,
  request: ConnectPipedriveRequest,
  webhookUrl: string,
  caller: (token: string, basePath: string | undefined, budget: RateBudget) => PipedriveCaller = (apiToken, basePath, budget) =>
    createPipedriveCaller({ apiToken, basePath, budget }),
): Promise<ConnectPipedriveResult> {
  const setupCalls = countingBudget();
  const api = caller(request.api_token, request.api_base_url, setupCalls);
  const me = z.object({ data: z.looseObject({ id: z.number().int(), company_id: z.number().int() }) })
    .safeParse(await api.call((a) => a.users.getCurrentUser()));
  if (!me.success) throw new ProviderError('Pipedrive /v1/users/me answered without a company id', 'invalid');
  const accountId = String(me.data.data.company_id);

  const { fields, created } = await ensureCustomFields(api);
  const { rows } = resolveFieldMap(fields);
  const users = listOf(await api.call((a) => a.users.getUsers()), userSchema);
  const localUsers = await sql<{ id: string; email: string }[]>`
    select id::text, email from auth.users where lower(email) = any (${users.map((u) => u.email.toLowerCase())}::text[])`;
  const valueMaps = [
    ...stageValueMaps(await allStages(api)),
    ...ownerValueMaps(users, localUsers),
    ...optionValueMaps('lifecycle_stage', findField({ name: 'stage' }, fields.person)),
    ...optionValueMaps('industry', findField({ name: 'industry' }, fields.organization)),
  ];

  // A reconnect keeps the webhook credentials already in Vault (and so the subscriptions).
  const [previous] = await sql<{ id: string }[]>`
    select id from sync.connections where provider = 'pipedrive' and account_id = ${accountId} and tenant_id = ${request.tenant_id}`;
  const stored = previous ? (await sql`select sync.connection_credentials(${previous.id}) as c`)[0]?.c as { webhook_secret?: string } | null : null;
  const [storedUser, ...storedPassword] = String(stored?.webhook_secret ?? '').split(':');
  const secret = storedUser && storedPassword.length ? { user: storedUser, password: storedPassword.join(':') } : newWebhookSecret();

  const settings = {
    ...(request.api_base_url ? { api_base_url: request.api_base_url } : {}),
    ...(request.scheduled_jobs !== undefined ? { scheduled_jobs: request.scheduled_jobs } : {}),
    rate_limit: request.rate_limit ?? { max_requests: 20, interval_ms: 2_000 },
    daily_limit: request.daily_limit ?? 30_000,
  };
  const connectionId = await sql.begin(async (tx) => {
    const [row] = await tx`select sync.connect_account(
        ${request.tenant_id}, 'pipedrive', ${accountId}, ${request.display_name ?? `Pipedrive ${accountId}`},
        ${tx.json(settings)}, ${tx.json({ api_token: request.api_token, webhook_secret: `${secret.user}:${secret.password}` })},
        ${tx.json(valueMaps)}) as id`;
    const id = row.id as string;
    const existing = await tx<{ entity_type: string; local_field: string }[]>`
      select entity_type, local_field from sync.field_maps where connection_id = ${id}`;
    const missing = fieldMapRowsMissing(existing, rows);
    if (missing.length > 0) await tx`select sync.set_field_maps(${id}, ${tx.json(missing)})`;
    // Budgets follow the settings: a reconnect with other limits takes effect now.
    await tx`delete from sync.rate_budgets where connection_id = ${id}`;
    return id;
  });
  const webhook = await ensureWebhooks(api, webhookUrl, secret);
  await chargeSetupCalls(sql, connectionId, setupCalls.calls, setupCalls.tokens);
  return {
    connection_id: connectionId,
    provider: 'pipedrive',
    account_id: accountId,
    fields_created: created,
    field_map: rows.map(({ entity_type, local_field, remote_property }) => ({ entity_type, local_field, remote_property })),
    value_maps: valueMaps.length,
    webhook: { target_url: webhookUrl, subscriptions: webhook.subscriptions, created: webhook.created, configured: true },
  };
}
