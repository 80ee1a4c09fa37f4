// HubSpot two-way sync end to end: the HubSpot simulator (driven by the real
// @hubspot/api-client inside the functions) sends signed webhooks to the
// hubspot-webhook function; pg_net kicks sync-worker; local edits go out
// through the outbound queue. Everything runs for real: Postgres, the Deno
// functions behind the gateway, pg_net, the simulator over HTTP.
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHubSpotSimulator, type HubSpotSimulator } from '../../../scripts/simulators/hubspot/server.ts';
import { functionUrl, stackEnv } from './stack-env.ts';

const env = stackEnv();
const sql = postgres(env.dbUrl, { max: 2, onnotice: () => {} });
const token = 'pat-na1-integration-token';
const clientSecret = 'integration-client-secret';
const portalId = 70_000_000 + Math.floor(Math.random() * 1_000_000);
let sim: HubSpotSimulator;
let tenantId: string;
let connectionId: string;

async function until<T>(what: string, probe: () => Promise<T | null | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function simControl(method: string, path: string, body?: unknown) {
  const res = await fetch(`${sim.url}/_sim${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} /_sim${path} → ${res.status}: ${text}`);
  return text ? JSON.parse(text) : null;
}

/** Writes the app made to HubSpot (object writes through the API), from the simulator's request log. */
async function apiWrites(): Promise<number> {
  const { results } = await simControl('GET', '/requests?limit=10000');
  return (results as { method: string; path: string }[])
    .filter((r) => r.method !== 'GET' && r.path.startsWith('/crm/v3/objects') && !r.path.includes('/batch/read') && !r.path.endsWith('/search'))
    .length;
}

async function drain() {
  const res = await fetch(functionUrl(env, 'sync-worker'), {
    method: 'POST',
    headers: { authorization: `Bearer ${env.serviceRoleKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ reason: 'test', budget_ms: 10_000 }),
  });
  expect(res.status).toBe(200);
  return res.json();
}

beforeAll(async () => {
  sim = await createHubSpotSimulator({
    token,
    portalId,
    clientSecret,
    webhookUrl: functionUrl(env, 'hubspot-webhook'),
    rateLimit: { maxPerInterval: 100, intervalMs: 10_000 },
  });
  await simControl('PUT', '/webhooks', { subscriptions: 'default', batchWindowMs: 20 });
  [{ id: tenantId }] = await sql`insert into crm.tenants (name, slug) values ('HubSpot sync test', ${`hs-sync-${portalId}`}) returning id`;
  const res = await fetch(functionUrl(env, 'connections'), {
    method: 'POST',
    headers: { authorization: `Bearer ${env.serviceRoleKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ tenant_id: tenantId, provider: 'hubspot', access_token: token, client_secret: clientSecret, api_base_url: sim.url }),
  });
  const body = await res.json();
  expect(res.status, JSON.stringify(body)).toBe(201);
  connectionId = body.connection_id;
}, 60_000);

afterAll(async () => {
  if (tenantId) await sql`delete from crm.tenants where id = ${tenantId}`;
  await sql.end();
  await sim?.close();
});

describe('connecting a HubSpot account', () => {
  it('stores the connection under the portal id with its credentials in Vault', async () => {
    const [row] = await sql`select account_id, enabled, secret_id is not null as has_secret from sync.connections where id = ${connectionId}`;
    expect(row).toEqual({ account_id: String(portalId), enabled: true, has_secret: true });
    const [plain] = await sql`select count(*)::int as n from sync.connections where settings::text like ${`%${token}%`}`;
    expect(plain.n).toBe(0);
  });

  it('charges the setup calls to the connection\'s rate budget', async () => {
    const [budget] = await sql`select requests_granted from sync.rate_budgets where connection_id = ${connectionId}`;
    expect(Number(budget.requests_granted)).toBeGreaterThanOrEqual(15);
  });

  it('creates the forge_local_id property the idempotent creates rely on', async () => {
    const res = await fetch(`${sim.url}/crm/v3/properties/contacts/forge_local_id`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    expect((await res.json()).hasUniqueValue).toBe(true);
  });

  it('sets up webhook delivery through the webhooks API for a public app', async () => {
    await simControl('PUT', '/webhooks', { targetUrl: null, subscriptions: [] });
    const res = await fetch(functionUrl(env, 'connections'), {
      method: 'POST',
      headers: { authorization: `Bearer ${env.serviceRoleKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        tenant_id: tenantId, provider: 'hubspot', access_token: token, client_secret: clientSecret, api_base_url: sim.url,
        app_id: sim.state.options.appId, developer_api_key: sim.state.options.developerApiKey,
      }),
    });
    const body = await res.json();
    expect(res.status, JSON.stringify(body)).toBe(201);
    expect(body.connection_id).toBe(connectionId);
    expect(body.webhook.configured).toBe(true);
    const { settings } = await simControl('GET', '/webhooks');
    expect(settings.targetUrl).toBe(functionUrl(env, 'hubspot-webhook'));
    const active = (settings.subscriptions as { subscriptionType: string; objectTypeId?: string; active: boolean }[])
      .filter((s) => s.active).map((s) => s.objectTypeId ? `${s.subscriptionType}:${s.objectTypeId}` : s.subscriptionType);
    expect(active).toEqual(expect.arrayContaining(['contact.creation', 'contact.propertyChange', 'deal.merge', 'object.creation:0-46', 'contact.privacyDeletion']));
  });

  it('rejects app_id without developer_api_key with a 400 that says why', async () => {
    const res = await fetch(functionUrl(env, 'connections'), {
      method: 'POST',
      headers: { authorization: `Bearer ${env.serviceRoleKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ tenant_id: tenantId, provider: 'hubspot', access_token: token, client_secret: clientSecret, app_id: 1 }),
    });
    expect(res.status).toBe(400);
    expect(JSON.stringify(await res.json())).toContain('app_id and developer_api_key go together');
  });

  it('rejects a wrong token with a clear 422', async () => {
    const res = await fetch(functionUrl(env, 'connections'), {
      method: 'POST',
      headers: { authorization: `Bearer ${env.serviceRoleKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ tenant_id: tenantId, provider: 'hubspot', access_token: 'pat-wrong-token', client_secret: clientSecret, api_base_url: sim.url }),
    });
    expect(res.status).toBe(422);
    expect((await res.json()).error.code).toBe('invalid_credentials');
  });
});

describe('HubSpot → Postgres', () => {
  it('a contact created in HubSpot appears locally, with its company', async () => {
    const company = await simControl('POST', '/objects/companies', { properties: { name: 'Initrode', domain: 'initrode.example' } });
    await simControl('POST', '/objects/contacts', {
      properties: { email: 'milton@initrode.example', firstname: 'Milton', lastname: 'Waddams' },
      associations: [{ toObjectType: 'companies', toObjectId: company.id }],
    });
    const row = await until('the contact to arrive', async () => {
      const [r] = await sql`select c.first_name, co.name as company from crm.contacts c left join crm.companies co on co.id = c.company_id
                             where c.tenant_id = ${tenantId} and c.email = 'milton@initrode.example' and co.name is not null`;
      return r;
    });
    expect(row).toEqual({ first_name: 'Milton', company: 'Initrode' });
  });

  it('a property change in HubSpot updates the local record and is not written back', async () => {
    const [mapped] = await sql`select remote_id from sync.identity_map m join crm.contacts c on c.id = m.local_id
                                where c.email = 'milton@initrode.example' and m.connection_id = ${connectionId}`;
    const writesBefore = await apiWrites();
    await simControl('PATCH', `/objects/contacts/${mapped.remote_id}`, { properties: { phone: '+1 555 0142' } });
    await until('the phone to arrive', async () => {
      const [r] = await sql`select phone from crm.contacts where tenant_id = ${tenantId} and email = 'milton@initrode.example'`;
      return r?.phone === '+1 555 0142';
    });
    await drain();
    expect(await apiWrites()).toBe(writesBefore);
  });

  it('a deletion in HubSpot soft-deletes the local record', async () => {
    const created = await simControl('POST', '/objects/contacts', { properties: { email: 'temp@initrode.example', firstname: 'Temp' } });
    await until('the contact to arrive', async () =>
      (await sql`select 1 from crm.contacts where tenant_id = ${tenantId} and email = 'temp@initrode.example'`).length > 0);
    await simControl('DELETE', `/objects/contacts/${created.id}`, {});
    await until('the deletion to arrive', async () =>
      (await sql`select 1 from crm.contacts where tenant_id = ${tenantId} and email = 'temp@initrode.example' and deleted_at is not null`).length > 0);
  });
});

describe('Postgres → HubSpot', () => {
  it('a local contact is created in HubSpot once, and its echo changes nothing', async () => {
    const writesBefore = await apiWrites();
    const [{ id }] = await sql`insert into crm.contacts (tenant_id, email, first_name, last_name)
                               values (${tenantId}, 'bill@initech.example', 'Bill', 'Lumbergh') returning id`;
    const remote = await until('the contact to reach HubSpot', async () => {
      const { results } = await simControl('GET', '/objects/contacts');
      return (results as { id: string; properties: Record<string, string> }[]).find((r) => r.properties.forge_local_id === id);
    });
    expect(remote.properties).toMatchObject({ email: 'bill@initech.example', firstname: 'Bill', lastname: 'Lumbergh' });
    await simControl('POST', '/webhooks/flush', { timeoutMs: 5_000 });
    await drain();
    expect(await apiWrites()).toBe(writesBefore + 1);
    const [row] = await sql`select first_name, last_name from crm.contacts where id = ${id}`;
    expect(row).toEqual({ first_name: 'Bill', last_name: 'Lumbergh' });
  });

  it('a local edit sends only the changed field, in one write', async () => {
    const [{ id }] = await sql`select id from crm.contacts where tenant_id = ${tenantId} and email = 'bill@initech.example'`;
    const writesBefore = await apiWrites();
    await sql`update crm.contacts set last_name = 'Lumbergh-Smith' where id = ${id}`;
    await until('the edit to reach HubSpot', async () => {
      const { results } = await simControl('GET', '/objects/contacts');
      return (results as { properties: Record<string, string> }[]).some((r) => r.properties.lastname === 'Lumbergh-Smith');
    });
    await simControl('POST', '/webhooks/flush', { timeoutMs: 5_000 });
    await drain();
    expect(await apiWrites()).toBe(writesBefore + 1);
  });

  it('a local soft delete archives the record in HubSpot', async () => {
    const [{ id }] = await sql`select id from crm.contacts where tenant_id = ${tenantId} and email = 'bill@initech.example'`;
    const [{ remote_id }] = await sql`select remote_id from sync.identity_map where local_id = ${id} and connection_id = ${connectionId}`;
    await sql`update crm.contacts set deleted_at = now() where id = ${id}`;
    await until('the archive to reach HubSpot', async () => {
      const record = await simControl('GET', `/objects/contacts/${remote_id}`);
      return record.archived === true;
    });
  });
});
