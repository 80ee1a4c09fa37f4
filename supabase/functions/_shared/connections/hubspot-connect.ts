// Connecting a HubSpot account: check the token with a cheap call (which
// also tells the portal id), create the properties the engine needs, then
// store the connection, its Vault credentials, default value maps and the
// default field map in one transaction (a reconnect keeps the field map rows
// an operator changed: defaults fill only fields without a row). Webhook
// delivery: for a public app (app_id and developer_api_key given) the target
// URL and subscriptions are set through HubSpot's webhooks API; for a private
// app the result says which URL and subscriptions to set in its settings.
import { z } from 'zod';
import type { Sql } from '../db.ts';
import { ProviderError } from '../providers/adapter.ts';
import { createHubSpotCaller, type HubSpotCaller } from '../providers/hubspot/client.ts';
import { ensureCustomProperties, type SetupReport } from '../providers/hubspot/custom-properties.ts';
import { hubSpotObjectTypes, webhookSubscriptionTarget } from '../providers/hubspot/object-types.ts';
import { type RequestToken, requestTokenFromHubSpot } from '../providers/hubspot/oauth.ts';
import { defaultHubSpotValueMaps } from '../providers/hubspot/value-maps.ts';
import { defaultHubSpotFieldMap, fieldMapRowsMissing } from '../providers/hubspot/field-map.ts';
import type { RateBudget } from '../sync/rate-budget.ts';

export const connectHubSpotSchema = z.object({
  tenant_id: z.uuid(),
  provider: z.literal('hubspot'),
  /** A private app: its access token. */
  access_token: z.string().min(10, 'access_token is the private app token').optional(),
  /** A public (OAuth) app: the refresh token of the install and the app's client id; access tokens are refreshed from them. */
  refresh_token: z.string().min(10, 'refresh_token is the OAuth refresh token of the app install').optional(),
  client_id: z.string().min(4).optional(),
  client_secret: z.string().min(8, 'client_secret signs webhooks (the app\'s client secret)'),
  display_name: z.string().max(200).optional(),
  api_base_url: z.url().optional(),
  rate_limit: z.object({ max_requests: z.number().int().positive(), interval_ms: z.number().int().min(100) }).optional(),
  /** false: pg_cron starts no hourly incremental or daily reconciliation here; jobs started by hand still run. */
  scheduled_jobs: z.boolean().optional(),
  /** A public app: its id and developer API key, to set up webhook delivery through the API. */
  app_id: z.number().int().positive().optional(),
  developer_api_key: z.string().min(8).optional(),
}).refine((r) => (r.access_token === undefined) !== (r.refresh_token === undefined), {
  message: 'give access_token (a private app) or refresh_token with client_id (a public OAuth app), not both',
  path: ['access_token'],
}).refine((r) => (r.refresh_token === undefined) === (r.client_id === undefined), {
  message: 'refresh_token and client_id go together (a public app\'s tokens are refreshed with both)',
  path: ['client_id'],
}).refine((r) => (r.app_id === undefined) === (r.developer_api_key === undefined), {
  message: 'app_id and developer_api_key go together (a public app\'s webhooks are set up with both)',
  path: ['developer_api_key'],
});
export type ConnectHubSpotRequest = z.infer<typeof connectHubSpotSchema>;

export interface ConnectResult {
  connection_id: string;
  provider: 'hubspot';
  account_id: string;
  properties: SetupReport;
  webhook: { target_url: string; subscriptions: string[]; how: string; configured: boolean };
}

/**
 * Before a connection exists there is no shared budget: the setup calls go
 * straight out and are counted, and once the connection exists they are
 * charged to its budget, so a sync started right after connecting does not
 * run into HubSpot's window with them still in it.
 */
export function countingBudget(): RateBudget & { calls: number; tokens: number } {
  const budget = {
    calls: 0,
    tokens: 0,
    take: async (requests = 1, tokens = 0) => {
      budget.calls += requests;
      budget.tokens += tokens;
    },
    pause: async () => {},
  };
  return budget;
}

export interface WebhookSubscriptionSpec {
  eventType: string;
  objectTypeId?: string;
}

/** The subscriptions the engine handles: every change of the object types it syncs. */
export function webhookSubscriptionSpecs(): WebhookSubscriptionSpec[] {
  const specs: WebhookSubscriptionSpec[] = [];
  for (const objectType of hubSpotObjectTypes) {
    const target = webhookSubscriptionTarget(objectType);
    const events = ['creation', 'deletion', 'propertyChange', 'associationChange', 'restore', ...(target.prefix === 'object.' ? [] : ['merge'])];
    for (const event of events) {
      specs.push(target.prefix === 'object.'
        ? { eventType: `object.${event}`, objectTypeId: target.objectTypeId }
        : { eventType: `${target.prefix}${event}` });
    }
  }
  specs.push({ eventType: 'contact.privacyDeletion' });
  return specs;
}

/** The same, as they read in a HubSpot app's webhook settings. */
export function webhookSubscriptions(): string[] {
  return webhookSubscriptionSpecs().map((s) => (s.objectTypeId ? `${s.eventType} (objectTypeId ${s.objectTypeId})` : s.eventType));
}

/**
 * Points a public app's webhooks at this deployment and creates the missing
 * subscriptions, active. Existing subscriptions are left as they are.
 */
export async function configureAppWebhooks(api: HubSpotCaller, appId: number, targetUrl: string): Promise<void> {
  await api.call((c) => c.webhooks.settingsApi.configure(appId, { targetUrl, throttling: { maxConcurrentRequests: 10, period: 'SECONDLY' } as never }));
  const existing = await api.call((c) => c.webhooks.subscriptionsApi.getAll(appId));
  const key = (s: { eventType: string; objectTypeId?: string }) => `${s.eventType}/${s.objectTypeId ?? ''}`;
  const have = new Set(existing.results.map((s) => key({ eventType: String(s.eventType), objectTypeId: (s as { objectTypeId?: string }).objectTypeId })));
  for (const spec of webhookSubscriptionSpecs()) {
    if (have.has(key(spec))) continue;
    await api.call((c) => c.webhooks.subscriptionsApi.create(appId, { ...spec, active: true } as never));
  }
}

export async function connectHubSpot(
  sql: Sql,
  request: ConnectHubSpotRequest,
  webhookUrl: string,
  caller: (token: string, basePath: string | undefined, budget: RateBudget) => HubSpotCaller = (accessToken, basePath, budget) =>
    createHubSpotCaller({ accessToken, basePath, budget }),
  developerCaller: (developerApiKey: string, basePath: string | undefined, budget: RateBudget) => HubSpotCaller = (
    developerApiKey,
    basePath,
    budget,
  ) => createHubSpotCaller({ developerApiKey, basePath, budget }),
  requestToken: RequestToken = requestTokenFromHubSpot,
): Promise<ConnectResult> {
  const setupCalls = countingBudget();
  const credentials = await connectCredentials(request, requestToken);
  const api = caller(credentials.access_token, request.api_base_url, setupCalls);
  const response = await api.call((c) => c.apiRequest({ method: 'GET', path: '/account-info/v3/details' }));
  if (!response.ok) {
    // apiRequest answers with the response instead of throwing.
    const text = (await response.text()).slice(0, 300);
    throw new ProviderError(`HubSpot ${response.status}: ${text}`, response.status === 401 || response.status === 403 ? 'unauthorized' : 'invalid');
  }
  const details = z.object({ portalId: z.union([z.number(), z.string()]) }).parse(await response.json());
  const accountId = String(details.portalId);

  const properties = await ensureCustomProperties(api);
  const settings = {
    ...(request.api_base_url ? { api_base_url: request.api_base_url } : {}),
    ...(request.scheduled_jobs !== undefined ? { scheduled_jobs: request.scheduled_jobs } : {}),
    ...(request.rate_limit ? { rate_limit: request.rate_limit } : {}),
  };
  const connectionId = await sql.begin(async (tx) => {
    const [row] = await tx`select sync.connect_account(
        ${request.tenant_id}, 'hubspot', ${accountId}, ${request.display_name ?? `HubSpot ${accountId}`},
        ${tx.json(settings)}, ${tx.json(credentials)}, ${tx.json(defaultHubSpotValueMaps())}) as id`;
    const id = row.id as string;
    await tx`select sync.resume_connection(${id})`; // a re-authorized connection drains what waited
    const existing = await tx<{ entity_type: string; local_field: string }[]>`
      select entity_type, local_field from sync.field_maps where connection_id = ${id}`;
    const missing = fieldMapRowsMissing(existing, defaultHubSpotFieldMap());
    if (missing.length > 0) await tx`select sync.set_field_maps(${id}, ${tx.json(missing)})`;
    return id;
  });
  await chargeSetupCalls(sql, connectionId, setupCalls.calls);
  const publicApp = request.app_id !== undefined && request.developer_api_key !== undefined;
  if (publicApp) {
    await configureAppWebhooks(developerCaller(request.developer_api_key!, request.api_base_url, countingBudget()), request.app_id!, webhookUrl);
  }
  return {
    connection_id: connectionId,
    provider: 'hubspot',
    account_id: accountId,
    properties,
    webhook: {
      target_url: webhookUrl,
      subscriptions: webhookSubscriptions(),
      configured: publicApp,
      how: publicApp
        ? `Set up through HubSpot's webhooks API for app ${request.app_id}: target URL and subscriptions are in place.`
        : 'In the HubSpot app settings (Webhooks), set the target URL and create these subscriptions; events are signed with the app\'s client secret.',
    },
  };
}

/**
 * The credentials to keep in Vault. A public app's first access token is
 * fetched now, which also proves the refresh token and client credentials.
 */
async function connectCredentials(request: ConnectHubSpotRequest, requestToken: RequestToken) {
  const webhook_secret = request.client_secret;
  if (request.access_token) return { access_token: request.access_token, webhook_secret };
  const oauth = { refresh_token: request.refresh_token!, client_id: request.client_id!, client_secret: request.client_secret };
  const grant = await requestToken(oauth, request.api_base_url);
  return { ...oauth, access_token: grant.accessToken, expires_at: new Date(Date.now() + grant.expiresInSeconds * 1000).toISOString(), webhook_secret };
}

/** Records the setup's calls (and their tokens, on the first) in the connection's budget, one grant each while its window has room. */
export async function chargeSetupCalls(sql: Sql, connectionId: string, calls: number, tokens = 0): Promise<void> {
  if (calls < 1) return;
  await sql`select sync.take_rate_budget(${connectionId}, 1, case when n = 1 then ${tokens}::int else 0 end)
              from generate_series(1, ${calls}::int) n`;
}

/** A wrong token is the caller's mistake: say so plainly. */
export function describeConnectError(error: unknown, provider = 'HubSpot'): { status: number; code: string; message: string } {
  if (error instanceof ProviderError) {
    if (error.kind === 'unauthorized') return { status: 422, code: 'invalid_credentials', message: `${provider} refused the ${provider === 'HubSpot' ? 'access' : 'API'} token: ${error.message}` };
    if (error.kind === 'unavailable' || error.kind === 'rate_limited') return { status: 502, code: 'provider_unavailable', message: error.message };
    return { status: 422, code: 'provider_rejected', message: error.message };
  }
  const pg = error as { code?: string; message?: string; hint?: string };
  if (pg.code === 'P0002') return { status: 404, code: 'not_found', message: String(pg.message) };
  if (pg.code === '23505') return { status: 409, code: 'already_connected', message: `${pg.message}${pg.hint ? ` (${pg.hint})` : ''}` };
  if (pg.code === '22023') return { status: 400, code: 'invalid_settings', message: String(pg.message) };
  console.error(error);
  return { status: 500, code: 'internal', message: `connecting failed: ${pg.message ?? String(error)}` };
}
