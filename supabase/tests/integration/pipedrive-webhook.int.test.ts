// End to end: the Pipedrive simulator's webhook sender (v2 payloads, HTTP
// Basic auth, retries after 3, 30 and 150 s scaled down) delivering to the
// `pipedrive-webhook` function through the local gateway (no JWT), stored
// by sync.receive_webhook_events on the crm_inbound queue.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import postgres from 'postgres';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { control } from '../../../scripts/simulators/common/test-http.ts';
import type { PipedriveSimulator } from '../../../scripts/simulators/pipedrive/server.ts';
import { api, startSimulator } from '../../../scripts/simulators/pipedrive/test-support.ts';
import type { WebhookEvent } from '../../../scripts/simulators/pipedrive/webhooks.ts';
import { DEFAULT_MAX_BODY_BYTES } from '../../functions/_shared/webhooks/pipedrive-intake.ts';
import { basicAuthorization } from '../../functions/_shared/providers/pipedrive/webhook-auth.ts';
import { functionUrl, stackEnv } from './stack-env.ts';
import { createTestConnection, dropTestConnection, queuedEvents, storedFor, type TestConnection } from './webhook-connections.ts';

const env = stackEnv();
const sql = postgres(env.dbUrl, { max: 2, onnotice: () => {} });
const url = functionUrl(env, 'pipedrive-webhook');
const companyId = 5_000_000 + Math.floor(Math.random() * 4_000_000);
const user = 'crm-sync';
const password = `pd-webhook-${crypto.randomUUID()}`;

let sim: PipedriveSimulator;
let connection: TestConnection;
/** Sits between the simulator and the function; can lose the function's answer to first attempts. */
let proxy: Server;
let proxyUrl = '';
let loseFirstAnswers = false;
const answersSeen: { attempt: number; status: number }[] = [];

async function subscribe(options: { password?: string; target?: string } = {}): Promise<number> {
  const res = await api(sim, 'POST', '/v1/webhooks', {
    subscription_url: options.target ?? proxyUrl,
    event_action: '*',
    event_object: '*',
    version: '2.0',
    http_auth_user: user,
    http_auth_password: options.password ?? password,
  });
  expect(res.status).toBe(201);
  return res.body.data.id;
}

async function unsubscribeAll(): Promise<void> {
  const list = await api(sim, 'GET', '/v1/webhooks');
  for (const webhook of list.body.data ?? []) await api(sim, 'DELETE', `/v1/webhooks/${webhook.id}`);
}

/** Creates, changes and deletes one person as a Pipedrive user: three events. */
async function personLifecycle(name: string): Promise<void> {
  const created = await control(sim, 'POST', '/objects/persons', { values: { name, emails: [{ value: `${name.toLowerCase().replace(/\W+/g, '.')}@example.com` }] } });
  expect(created.status).toBe(201);
  expect((await control(sim, 'PATCH', `/objects/persons/${created.body.id}`, { values: { name: `${name} Jr` } })).status).toBe(200);
  expect((await control(sim, 'DELETE', `/objects/persons/${created.body.id}`, {})).status).toBe(204);
}

async function flush(): Promise<void> {
  const { idle } = await sim.state.webhooks.flush(30_000);
  expect(idle).toBe(true);
}

const stored = () => storedFor(sql, [connection.connectionId]);

beforeAll(async () => {
  proxy = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const headers = Object.entries(request.headers)
      .filter((entry): entry is [string, string] => typeof entry[1] === 'string' && entry[0] !== 'host' && entry[0] !== 'connection');
    const answer = await fetch(url, { method: request.method, headers, body });
    const text = await answer.text();
    let attempt = 0;
    try {
      attempt = Number(JSON.parse(body.toString('utf8')).meta?.attempt ?? 0);
    } catch { /* not JSON: forwarded as is */ }
    answersSeen.push({ attempt, status: answer.status });
    if (loseFirstAnswers && attempt === 1) {
      response.writeHead(502, { 'content-type': 'text/plain' }).end('the answer was lost on the way back');
      return;
    }
    response.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' }).end(text);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/pipedrive-webhook`;

  sim = await startSimulator({ companyId, webhooks: { timeScale: 0.001 } });
  connection = await createTestConnection(sql, 'pipedrive', String(companyId), {
    api_token: 'not-used-by-intake',
    webhook_secret: `${user}:${password}`,
  });
});

beforeEach(async () => {
  await unsubscribeAll();
  loseFirstAnswers = false;
  sim.state.webhooks.configure({ faults: { duplicateProbability: 0, reorder: false, delayMs: 0 } });
  answersSeen.length = 0;
});

afterAll(async () => {
  await sim?.close();
  await new Promise((resolve) => proxy?.close(resolve));
  await dropTestConnection(sql, connection);
  await sql.end();
});

describe('pipedrive-webhook function', () => {
  it('stores each delivered event once on crm_inbound, exactly as Pipedrive sent it', async () => {
    const before = await stored();
    await subscribe();
    await personLifecycle('Ada Lovelace');
    await flush();

    const sent = sim.state.webhooks.events(3) as WebhookEvent[];
    expect(sent.map((e) => e.meta.action)).toEqual(['create', 'change', 'delete']);
    expect(answersSeen).toEqual([1, 1, 1].map((attempt) => ({ attempt, status: 200 })));
    expect(await stored()).toEqual({ queued: before.queued + 3, receipts: before.receipts + 3 });

    const queued = (await queuedEvents<WebhookEvent>(sql, connection.connectionId)).slice(-3);
    expect(queued).toEqual(sent.map((e) => ({ ...e, meta: { ...e.meta, attempt: 1 } })));
    const [message] = await sql<{ message: Record<string, unknown> }[]>`
      select message from pgmq.q_crm_inbound where message -> 'event' -> 'meta' ->> 'id' = ${sent[0].meta.id}`;
    expect(message.message).toMatchObject({
      connection_id: connection.connectionId,
      tenant_id: connection.tenantId,
      provider: 'pipedrive',
    });
  });

  it('queues one event each when answers are lost and Pipedrive retries, and when it sends duplicates', async () => {
    const before = await stored();
    await subscribe();
    loseFirstAnswers = true;
    sim.state.webhooks.configure({ faults: { duplicateProbability: 1, reorder: true, delayMs: 20 } });
    // Three events, each delivered twice, each delivery's first answer lost: six failed first attempts,
    // under the ten that would ban the webhook.
    await personLifecycle('Grace Hopper');
    await flush();

    const stats = sim.state.webhooks.stats();
    expect(stats.eventsDuplicated).toBe(3);
    expect(stats.retries).toBe(6);
    expect(answersSeen.map((a) => a.attempt).sort()).toEqual([1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2]);
    expect(answersSeen.every((a) => a.status === 200)).toBe(true);
    expect(await stored()).toEqual({ queued: before.queued + 3, receipts: before.receipts + 3 });

    const sentIds = (sim.state.webhooks.events(3) as WebhookEvent[]).map((e) => e.meta.id).sort();
    const queuedIds = (await queuedEvents<WebhookEvent>(sql, connection.connectionId)).map((e) => e.meta.id);
    expect(queuedIds.filter((id) => sentIds.includes(id)).sort()).toEqual(sentIds);
  });

  it('answers 401 to wrong Basic credentials on every attempt and stores nothing', async () => {
    const before = await stored();
    await subscribe({ password: 'not-the-password' });
    await personLifecycle('Alan Turing');
    await flush();
    expect(answersSeen.map((a) => a.status)).toEqual(Array(12).fill(401)); // 3 events × 4 attempts
    expect(await stored()).toEqual(before);
  });

  it('answers 401 JSON without credentials, 404 to an unknown company and 413 to an oversized body', async () => {
    const event = {
      meta: {
        action: 'create', entity: 'person', entity_id: '1', id: crypto.randomUUID(), company_id: String(companyId),
        timestamp: new Date().toISOString(), version: '2.0',
      },
      data: { id: 1 },
      previous: null,
    };
    const post = (body: string, authorization?: string) =>
      fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) } });
    const before = await stored();

    const anonymous = await post(JSON.stringify(event));
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ error: { code: 'missing_credentials' } });

    const stranger = { ...event, meta: { ...event.meta, company_id: String(companyId + 1) } };
    const unknown = await post(JSON.stringify(stranger), basicAuthorization(user, password));
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: { code: 'unknown_company' } });

    const huge = { ...event, data: { id: 1, notes: 'x'.repeat(DEFAULT_MAX_BODY_BYTES) } };
    const oversized = await post(JSON.stringify(huge), basicAuthorization(user, password));
    expect(oversized.status).toBe(413);

    expect(await stored()).toEqual(before);
  });
});
