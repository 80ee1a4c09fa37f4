// A flood of bad requests must not slow good deliveries: everything a bad
// request can be refused for (method, content type, credentials, JSON,
// schema, time window, signature against a cached connection) is checked
// before any database work, and lookups of made-up accounts use a pool of
// their own. Measured: good deliveries' latency alone, then while 24 loops
// send bad requests to both endpoints as fast as they are answered.
// (Oversized bodies are the fuzz test's: refused from their Content-Length,
// their upload may end in a reset rather than the 413.)
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrng } from '../../../scripts/simulators/common/prng.ts';
import { basicAuthorization } from '../../functions/_shared/providers/pipedrive/webhook-auth.ts';
import { functionUrl, stackEnv } from './stack-env.ts';
import { type Endpoint, type FuzzCase, type FuzzTargets, validDelivery } from './webhook-fuzz-cases.ts';
import { createHttpSender, type RawAnswer } from './webhook-http.ts';
import { connectBothProviders, dropTestConnection, storedFor, type TestConnection } from './webhook-connections.ts';

const GOOD_PER_ENDPOINT = 60;
const GOOD_IN_FLIGHT = 4;
const FLOOD_LOOPS = 24;

const env = stackEnv();
const sql = postgres(env.dbUrl, { max: 2, onnotice: () => {} });
const random = createPrng(7_331);
const targets: FuzzTargets = {
  hubspot: {
    url: functionUrl(env, 'hubspot-webhook'),
    portalId: 600_000_000 + Math.floor(Math.random() * 99_000_000),
    clientSecret: `flood-client-secret-${crypto.randomUUID()}`,
  },
  pipedrive: {
    url: functionUrl(env, 'pipedrive-webhook'),
    companyId: 3_000_000 + Math.floor(Math.random() * 900_000),
    user: 'crm-sync',
    password: `flood-password-${crypto.randomUUID()}`,
  },
};
const connections: TestConnection[] = [];
const sender = createHttpSender(GOOD_IN_FLIGHT + FLOOD_LOOPS);
/** Pipedrive sends one event per request; its simulator keeps 10 in flight. */
const PIPEDRIVE_IN_FLIGHT = 10;

/** Sends valid deliveries `inFlight` at a time; resolves with each one's latency in ms. */
async function deliverGood(
  endpoints: Endpoint[] = ['hubspot', 'pipedrive'],
  perEndpoint = GOOD_PER_ENDPOINT,
  inFlight = GOOD_IN_FLIGHT,
): Promise<number[]> {
  const cases: FuzzCase[] = [];
  for (const endpoint of endpoints) {
    for (let i = 0; i < perEndpoint; i++) cases.push(await validDelivery(random, endpoint, targets));
  }
  const latencies: number[] = [];
  let next = 0;
  await Promise.all(Array.from({ length: inFlight }, async () => {
    while (next < cases.length) {
      const c = cases[next++];
      const started = performance.now();
      const res = await sender.send(targets[c.endpoint].url, c);
      latencies.push(performance.now() - started);
      expect([res.status, res.status === 200 && JSON.parse(res.text).accepted > 0]).toEqual([200, true]);
    }
  }));
  return latencies;
}

const now = () => new Date().toISOString();
const pipedriveEvent = (companyId: number) => ({
  meta: {
    action: 'change',
    entity: 'person',
    entity_id: '1',
    id: crypto.randomUUID(),
    company_id: String(companyId),
    timestamp: now(),
    version: '2.0',
  },
  data: { id: 1, name: 'x' },
  previous: { name: 'y' },
});

/** The bad requests of the flood, in turn: none of them may store anything. */
function badRequests(): (() => Promise<RawAnswer>)[] {
  const { pipedrive, hubspot } = targets;
  const json = { 'content-type': 'application/json' };
  const post = (url: string, headers: Record<string, string>, body: string) => () =>
    sender.send(url, { method: 'POST', headers, body });
  return [
    () =>
      post(
        pipedrive.url,
        { ...json, authorization: basicAuthorization(pipedrive.user, 'guess') },
        JSON.stringify(pipedriveEvent(pipedrive.companyId)),
      )(),
    () => post(pipedrive.url, json, JSON.stringify(pipedriveEvent(pipedrive.companyId)))(),
    post(
      pipedrive.url,
      { ...json, authorization: basicAuthorization(pipedrive.user, pipedrive.password) },
      '{"meta": {"action": ',
    ),
    post(
      pipedrive.url,
      { ...json, authorization: basicAuthorization(pipedrive.user, pipedrive.password) },
      JSON.stringify({ meta: { id: 1 } }),
    ),
    post(pipedrive.url, { 'content-type': 'text/plain', authorization: 'Basic x' }, 'hello'),
    // made-up companies: each one costs one lookup, on the lookup pool only
    () =>
      post(
        pipedrive.url,
        { ...json, authorization: basicAuthorization('a', 'b') },
        JSON.stringify(pipedriveEvent(1 + Math.floor(Math.random() * 1e9))),
      )(),
    post(
      hubspot.url,
      { ...json, 'x-hubspot-signature-v3': btoa('x'.repeat(32)), 'x-hubspot-request-timestamp': String(Date.now()) },
      JSON.stringify([{
        eventId: 1,
        portalId: hubspot.portalId,
        occurredAt: Date.now(),
        subscriptionType: 'contact.creation',
      }]),
    ),
    () =>
      post(hubspot.url, {
        ...json,
        'x-hubspot-signature-v3': 'abc',
        'x-hubspot-request-timestamp': String(Date.now() - 600_000),
      }, '[]')(),
    post(hubspot.url, json, '[{"eventId": 1}]'),
  ];
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};
const summary = (values: number[]) =>
  `p50 ${percentile(values, 50).toFixed(0)} / p95 ${percentile(values, 95).toFixed(0)} / max ${
    Math.max(...values).toFixed(0)
  } ms`;

beforeAll(async () => {
  connections.push(...(await connectBothProviders(sql, targets)));
});

afterAll(async () => {
  sender.close();
  for (const connection of connections) await dropTestConnection(sql, connection);
  await sql.end();
});

describe('webhook endpoints under a flood of bad requests', () => {
  it('keep answering good deliveries quickly and store nothing from the bad ones', async () => {
    const ids = connections.map((c) => c.connectionId);
    await deliverGood(); // warm-up: connections cached, pools open
    const quiet = await deliverGood();

    const before = await storedFor(sql, ids);
    const bad = badRequests();
    const badStatuses: Record<string, number> = {};
    let flooding = true;
    let badSent = 0;
    const floodStarted = performance.now();
    const flood = Promise.all(Array.from({ length: FLOOD_LOOPS }, async (_, loop) => {
      for (let i = loop; flooding; i++) {
        const res = await bad[i % bad.length]();
        badSent++;
        badStatuses[res.status] = (badStatuses[res.status] ?? 0) + 1;
      }
    }));
    await new Promise((resolve) => setTimeout(resolve, 300)); // the flood is running
    const flooded = await deliverGood();
    flooding = false;
    await flood;
    const floodSeconds = (performance.now() - floodStarted) / 1000;
    const after = await storedFor(sql, ids);

    console.log(
      `webhook flood: good deliveries alone ${summary(quiet)}; during a flood of ${badSent} bad requests ` +
        `(${(badSent / floodSeconds).toFixed(0)}/s, by status ${JSON.stringify(badStatuses)}) ${summary(flooded)}`,
    );
    expect(Object.keys(badStatuses).every((status) => Number(status) >= 400 && Number(status) < 500)).toBe(true);
    expect(badSent).toBeGreaterThan(500);
    // What was stored is the good deliveries' events (HubSpot batches hold 1-5), nothing more.
    expect(after.receipts - before.receipts).toBe(after.queued - before.queued);
    expect(after.queued - before.queued).toBeGreaterThanOrEqual(2 * GOOD_PER_ENDPOINT);
    // Both providers give up after 5 s (HubSpot) or 10 s (Pipedrive): a good delivery stays far from that.
    expect(percentile(flooded, 95)).toBeLessThan(1_000);
  }, 60_000);

  it('pipedrive-webhook takes back-to-back deliveries quickly (figures printed)', async () => {
    await deliverGood(['pipedrive'], 50, PIPEDRIVE_IN_FLIGHT); // warm-up
    const started = performance.now();
    const latencies = await deliverGood(['pipedrive'], 500, PIPEDRIVE_IN_FLIGHT);
    const perSecond = latencies.length / ((performance.now() - started) / 1000);
    console.log(
      `pipedrive-webhook: ${latencies.length} deliveries, ${PIPEDRIVE_IN_FLIGHT} in flight: ` +
        `${perSecond.toFixed(0)} events/s, ${summary(latencies)}, p99 ${percentile(latencies, 99).toFixed(0)} ms`,
    );
    expect(percentile(latencies, 99)).toBeLessThan(2_000); // far inside Pipedrive's 10 s
  }, 60_000);
});
