// End to end: HubSpot deliveries to the `hubspot-webhook` function through
// the local gateway (no JWT: the v3 signature is the authentication), stored
// by sync.receive_webhook_events on the crm_inbound queue.
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MAX_BODY_BYTES } from '../../functions/_shared/webhooks/hubspot-intake.ts';
import { signHubSpotV3 } from '../../functions/_shared/providers/hubspot/webhook-signature.ts';
import { functionUrl, stackEnv } from './stack-env.ts';

const env = stackEnv();
const sql = postgres(env.dbUrl, { max: 2, onnotice: () => {} });
const url = functionUrl(env, 'hubspot-webhook');
const secret = `hubspot-client-secret-${crypto.randomUUID()}`;
const portalId = 700_000_000 + Math.floor(Math.random() * 99_000_000);
let tenantId = '';
let connectionId = '';

function events(n: number, firstEventId = 1) {
  const occurredAt = Date.now() - 2_000;
  return Array.from({ length: n }, (_, i) => ({
    eventId: firstEventId + i,
    subscriptionId: 11,
    portalId,
    appId: 4242,
    occurredAt,
    subscriptionType: 'contact.propertyChange',
    attemptNumber: 0,
    objectId: 90_000 + i,
    propertyName: 'email',
    propertyValue: `person${i}@example.com`,
    changeSource: 'CRM_UI',
  }));
}

async function deliver(body: string, options: { clientSecret?: string } = {}): Promise<Response> {
  const timestamp = String(Date.now());
  const signature = await signHubSpotV3({
    method: 'POST',
    uri: url,
    rawBody: body,
    timestamp,
    clientSecret: options.clientSecret ?? secret,
  });
  return fetch(url, {
    method: 'POST',
    body,
    headers: {
      'content-type': 'application/json',
      'x-hubspot-signature-v3': signature,
      'x-hubspot-request-timestamp': timestamp,
    },
  });
}

async function queued(): Promise<number> {
  const [row] = await sql<{ n: number }[]>`
    select count(*)::int as n from pgmq.q_crm_inbound where message ->> 'connection_id' = ${connectionId}`;
  return row.n;
}

beforeAll(async () => {
  [{ id: tenantId }] = await sql<{ id: string }[]>`
    insert into crm.tenants (name, slug) values ('HubSpot webhook test', ${`hubspot-webhook-${portalId}`}) returning id`;
  [{ id: connectionId }] = await sql<{ id: string }[]>`
    insert into sync.connections (tenant_id, provider, account_id, display_name)
    values (${tenantId}, 'hubspot', ${String(portalId)}, 'webhook test portal') returning id`;
  await sql`select sync.set_connection_credentials(${connectionId}, ${sql.json({ webhook_secret: secret })})`;
});

afterAll(async () => {
  if (connectionId) {
    await sql`delete from pgmq.q_crm_inbound where message ->> 'connection_id' = ${connectionId}`;
    await sql`delete from vault.secrets where id = (select secret_id from sync.connections where id = ${connectionId})`;
  }
  if (tenantId) await sql`delete from crm.tenants where id = ${tenantId}`;
  await sql.end();
});

describe('hubspot-webhook function', () => {
  const batch = JSON.stringify(events(100));

  it('stores a correctly signed batch of 100 events on crm_inbound and answers 200', async () => {
    const res = await deliver(batch);
    expect(await res.json()).toEqual({ accepted: 100, duplicates: 0, ignored: 0 });
    expect(res.status).toBe(200);
    expect(await queued()).toBe(100);
    const [message] = await sql<{ message: Record<string, unknown> & { event: Record<string, unknown> } }[]>`
      select message from pgmq.q_crm_inbound
       where message ->> 'connection_id' = ${connectionId} and message -> 'event' ->> 'eventId' = '1'`;
    expect(message.message).toMatchObject({ connection_id: connectionId, tenant_id: tenantId, provider: 'hubspot' });
    expect(message.message.event).toEqual(JSON.parse(batch)[0]);
  });

  it('counts the same batch delivered again as 100 duplicates and queues nothing new', async () => {
    const res = await deliver(batch);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ accepted: 0, duplicates: 100, ignored: 0 });
    expect(await queued()).toBe(100);
  });

  it('answers 401 to a bad signature and queues nothing', async () => {
    const res = await deliver(JSON.stringify(events(5, 1000)), { clientSecret: 'not-the-secret' });
    expect(res.status).toBe(401);
    expect((await res.json()).error.code).toBe('invalid_signature');
    expect(await queued()).toBe(100);
  });

  it('answers 400 to malformed JSON', async () => {
    const res = await deliver('[{"eventId": 1, "portalId": ');
    expect(res.status).toBe(400);
    expect((await res.json()).error.code).toBe('invalid_json');
  });

  it('answers 413 to a body over the limit', async () => {
    const res = await deliver(`[${' '.repeat(DEFAULT_MAX_BODY_BYTES)}]`);
    expect(res.status).toBe(413);
    expect((await res.json()).error.code).toBe('payload_too_large');
    expect(await queued()).toBe(100);
  });

  it('answers 404 to a portal without a connection', async () => {
    const stranger = events(3).map((e) => ({ ...e, portalId: portalId + 100_000_000 }));
    const res = await deliver(JSON.stringify(stranger));
    expect(res.status).toBe(404);
    expect((await res.json()).error.code).toBe('unknown_portal');
  });
});
