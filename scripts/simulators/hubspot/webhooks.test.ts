// deno-lint-ignore-file no-explicit-any -- tests assert on raw JSON bodies
import type { Client } from '@hubspot/api-client';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { HubSpotSimulator } from './server.ts';
import { control, hubspotClient, startSimulator } from './test-support.ts';

const SECRET = 'receiver-test-secret';
const APP_ID = 424_242;

interface Delivery {
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
  events: any[];
}

/** A webhook endpoint that records deliveries; `respond` picks the status (or a delay) per request. */
class Receiver {
  deliveries: Delivery[] = [];
  inFlight = 0;
  maxInFlight = 0;
  respond: (index: number) => { status: number; delayMs?: number } = () => ({ status: 200 });
  private server!: Server;
  base = '';

  async start(): Promise<void> {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const index = this.deliveries.length;
        this.deliveries.push({ url: request.url ?? '', headers: request.headers, body, events: JSON.parse(body) });
        this.inFlight++;
        this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
        const { status, delayMs = 0 } = this.respond(index);
        setTimeout(() => {
          this.inFlight--;
          if (!response.destroyed) response.writeHead(status).end();
        }, delayMs);
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  reset(): void {
    this.deliveries = [];
    this.inFlight = 0;
    this.maxInFlight = 0;
    this.respond = () => ({ status: 200 });
  }

  events(): any[] {
    return this.deliveries.flatMap((delivery) => delivery.events);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

/** Recomputes the v3 signature as a receiver must: decoded URI, then HMAC-SHA256, Base64, constant-time compare. */
function verifyV3(delivery: Delivery, calledUrl: string, secret: string): boolean {
  const timestamp = String(delivery.headers['x-hubspot-request-timestamp']);
  if (Math.abs(Date.now() - Number(timestamp)) > 5 * 60_000) return false;
  const decoded = calledUrl.replace(
    /%(3A|2F|3F|40|21|24|27|28|29|2A|2C|3B)/gi,
    (match) => decodeURIComponent(match),
  );
  const expected = createHmac('sha256', secret).update(`POST${decoded}${delivery.body}${timestamp}`).digest();
  const given = Buffer.from(String(delivery.headers['x-hubspot-signature-v3']), 'base64');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

let sim: HubSpotSimulator;
let client: Client;
const receiver = new Receiver();

beforeAll(async () => {
  await receiver.start();
  sim = await startSimulator({ appId: APP_ID, clientSecret: SECRET });
  client = hubspotClient(sim);
});
afterAll(async () => {
  await sim.close();
  await receiver.stop();
});
beforeEach(async () => {
  // Back to a fresh portal and the start-up webhook settings (no target, no faults).
  await control(sim, 'POST', '/reset', { keepWebhookSettings: false });
  receiver.reset();
});

async function configure(settings: Record<string, unknown>) {
  const response = await control(sim, 'PUT', '/webhooks', {
    targetUrl: `${receiver.base}/hooks/hubspot`,
    batchWindowMs: 5,
    retry: { initialDelayMs: 10, maxDelayMs: 50 },
    ...settings,
  });
  expect(response.status).toBe(200);
}

async function flush() {
  const response = await control(sim, 'POST', '/webhooks/flush', { timeoutMs: 10_000 });
  expect(response.body.idle).toBe(true);
  return response.body.stats;
}

async function createContacts(count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let start = 0; start < count; start += 100) {
    const response = await client.crm.contacts.batchApi.create({
      inputs: Array.from({ length: Math.min(100, count - start) }, (_, n) => ({
        properties: { email: `w${start + n}@example.com` },
        associations: [],
      })),
    });
    ids.push(...response.results.map((result) => result.id));
  }
  return ids;
}

describe('webhook delivery', () => {
  it('delivers every event in signed batches of at most 100', async () => {
    const target = `${receiver.base}/hooks/hubspot?tenant=a%3Ab&x=%2Fy`;
    await configure({ targetUrl: target, subscriptions: [{ subscriptionType: 'contact.creation' }] });
    const ids = await createContacts(250);
    const stats = await flush();

    expect(stats.deliveredEvents).toBe(250);
    expect(receiver.deliveries.length).toBeGreaterThanOrEqual(3);
    for (const delivery of receiver.deliveries) {
      expect(delivery.events.length).toBeLessThanOrEqual(100);
      expect(delivery.headers['content-type']).toBe('application/json');
      expect(verifyV3(delivery, target, SECRET)).toBe(true);
      expect(verifyV3(delivery, target, 'some-other-secret')).toBe(false);
    }
    const events = receiver.events();
    expect(events.map((event) => String(event.objectId)).sort()).toEqual([...ids].sort());
    const subscriptionId = sim.state.webhooks.settings.subscriptions[0].id;
    expect(events[0]).toEqual({
      objectId: expect.any(Number),
      changeSource: 'INTEGRATION',
      eventId: expect.any(Number),
      subscriptionId,
      portalId: sim.state.options.portalId,
      appId: APP_ID,
      occurredAt: expect.any(Number),
      subscriptionType: 'contact.creation',
      attemptNumber: 0,
      changeFlag: 'NEW',
      sourceId: String(APP_ID),
    });
  });

  it('keeps at most maxConcurrentRequests (10) requests open', async () => {
    await configure({ subscriptions: [{ subscriptionType: 'contact.creation' }], maxEventsPerRequest: 2 });
    receiver.respond = () => ({ status: 200, delayMs: 30 });
    await createContacts(100);
    await flush();
    expect(receiver.deliveries).toHaveLength(50);
    expect(receiver.maxInFlight).toBeGreaterThan(1);
    expect(receiver.maxInFlight).toBeLessThanOrEqual(10);
  });

  it('retries a batch after a 500 and after a timeout, counting attemptNumber up', async () => {
    await configure({ subscriptions: [{ subscriptionType: 'contact.creation' }], requestTimeoutMs: 100 });
    receiver.respond = (
      index,
    ) => (index === 0 ? { status: 500 } : index === 1 ? { status: 200, delayMs: 300 } : { status: 204 });
    await createContacts(1);
    const stats = await flush();

    expect(receiver.deliveries.map((delivery) => delivery.events[0].attemptNumber)).toEqual([0, 1, 2]);
    expect(new Set(receiver.deliveries.map((delivery) => delivery.events[0].eventId)).size).toBe(1);
    const attempts = (await control(sim, 'GET', '/webhooks/deliveries')).body.results;
    expect(attempts.map((attempt: any) => attempt.status ?? attempt.error)).toEqual([500, 'timeout', 204]);
    expect(stats).toMatchObject({ deliveredEvents: 1, retries: 2, failedRequests: 2 });
  });

  it('gives up after maxRetries', async () => {
    await configure({
      subscriptions: [{ subscriptionType: 'contact.creation' }],
      retry: { maxRetries: 2, initialDelayMs: 5 },
    });
    receiver.respond = () => ({ status: 503 });
    await createContacts(1);
    const stats = await flush();
    expect(receiver.deliveries).toHaveLength(3);
    expect(stats).toMatchObject({ abandonedBatches: 1, abandonedEvents: 1, deliveredEvents: 0 });
  });
});

describe('webhook fault switches (seeded)', () => {
  async function run(faults: Record<string, unknown>): Promise<number[]> {
    sim.state.reset();
    receiver.reset();
    await configure({
      subscriptions: [{ subscriptionType: 'contact.creation' }],
      maxConcurrentRequests: 1,
      // A generous timeout: on a loaded machine a 5 s timeout can fire and the
      // retry would deliver a batch twice, which is not what these runs compare.
      requestTimeoutMs: 60_000,
      faults: { seed: 7, duplicateProbability: 0, dropProbability: 0, reorder: false, delayMs: 0, ...faults },
    });
    await createContacts(60);
    await flush();
    return receiver.events().map((event) => event.eventId);
  }

  it('duplicates events reproducibly', async () => {
    const first = await run({ duplicateProbability: 0.3 });
    const duplicated = sim.state.webhooks.stats().eventsDuplicated;
    expect(duplicated).toBeGreaterThan(0);
    expect(first).toHaveLength(60 + duplicated);
    expect(new Set(first).size).toBe(60);
    expect(await run({ duplicateProbability: 0.3 })).toEqual(first);
  });

  it('drops events reproducibly', async () => {
    const first = await run({ dropProbability: 0.3 });
    const dropped = sim.state.webhooks.stats().eventsDropped;
    expect(dropped).toBeGreaterThan(0);
    expect(first).toHaveLength(60 - dropped);
    expect(await run({ dropProbability: 0.3 })).toEqual(first);
  });

  it('reorders events reproducibly, and keeps order when off', async () => {
    const inOrder = await run({});
    expect(inOrder).toEqual([...inOrder].sort((a, b) => a - b));
    const shuffled = await run({ reorder: true, delayMs: 5 });
    expect(shuffled).not.toEqual([...shuffled].sort((a, b) => a - b));
    expect([...shuffled].sort((a, b) => a - b)).toEqual(inOrder);
    expect(await run({ reorder: true, delayMs: 5 })).toEqual(shuffled);
  });

  it('delays deliveries by delayMs', async () => {
    await configure({ subscriptions: [{ subscriptionType: 'contact.creation' }], faults: { delayMs: 150 } });
    const started = Date.now();
    await createContacts(1);
    await flush();
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });
});

describe('events for changes made in HubSpot (control API)', () => {
  it('carries CRM_UI as the source and emits creation, property, association, merge, deletion and restore events', async () => {
    await configure({ subscriptions: 'default' });
    const company = (await control(sim, 'POST', '/objects/companies', { properties: { name: 'Acme' } })).body;
    const a =
      (await control(sim, 'POST', '/objects/contacts', { properties: { email: 'a@acme.test', firstname: 'A' } })).body;
    const b =
      (await control(sim, 'POST', '/objects/contacts', { properties: { email: 'b@acme.test', lastname: 'B' } })).body;
    await control(sim, 'PATCH', `/objects/contacts/${a.id}`, {
      properties: { firstname: 'Alice', email: 'a@acme.test' },
    });
    await control(sim, 'POST', '/associations', {
      fromObjectType: 'contacts',
      fromObjectId: a.id,
      toObjectType: 'companies',
      toObjectId: company.id,
    });
    await control(sim, 'POST', '/objects/contacts/merge', { primaryObjectId: a.id, objectIdToMerge: b.id });
    await control(sim, 'DELETE', `/objects/contacts/${a.id}`);
    await control(sim, 'POST', `/objects/contacts/${a.id}/restore`);
    await flush();

    const events = receiver.events().sort((x, y) => x.eventId - y.eventId);
    for (const event of events) {
      expect(event.changeSource).toBe('CRM_UI');
      expect(event.sourceId).toMatch(/^userId:\d+$/);
    }
    const ofA = (type: string) =>
      events.filter((event) => event.subscriptionType === type && event.objectId === Number(a.id));
    expect(ofA('contact.creation')).toHaveLength(1);
    // Creation sets email and firstname; the update changes only firstname.
    expect(ofA('contact.propertyChange').map((event) => [event.propertyName, event.propertyValue])).toEqual(
      expect.arrayContaining([['email', 'a@acme.test'], ['firstname', 'A'], ['firstname', 'Alice']]),
    );
    expect(ofA('contact.propertyChange').filter((event) => event.propertyName === 'email')).toHaveLength(1);

    const associationEvents = events.filter((event) => event.subscriptionType.endsWith('.associationChange'));
    expect(associationEvents).toEqual(expect.arrayContaining([
      expect.objectContaining({
        subscriptionType: 'contact.associationChange',
        associationType: 'CONTACT_TO_COMPANY',
        fromObjectId: Number(a.id),
        toObjectId: Number(company.id),
        associationRemoved: false,
        isPrimaryAssociation: false,
      }),
      expect.objectContaining({
        subscriptionType: 'company.associationChange',
        associationType: 'COMPANY_TO_CONTACT',
        fromObjectId: Number(company.id),
        toObjectId: Number(a.id),
      }),
    ]));

    expect(ofA('contact.merge')).toEqual([expect.objectContaining({
      primaryObjectId: Number(a.id),
      mergedObjectIds: [Number(b.id)],
      newObjectId: Number(a.id),
      numberOfPropertiesMoved: 1,
    })]);
    expect(ofA('contact.deletion')).toHaveLength(1);
    expect(ofA('contact.restore')).toHaveLength(1);
  });

  it('honours a propertyName on propertyChange subscriptions', async () => {
    await configure({ subscriptions: [{ subscriptionType: 'contact.propertyChange', propertyName: 'lastname' }] });
    const contact = (await control(sim, 'POST', '/objects/contacts', { properties: { email: 'p@example.com' } })).body;
    await control(sim, 'PATCH', `/objects/contacts/${contact.id}`, { properties: { firstname: 'Pat' } });
    await control(sim, 'PATCH', `/objects/contacts/${contact.id}`, { properties: { lastname: 'Lee' } });
    await flush();
    expect(receiver.events().map((event) => [event.propertyName, event.propertyValue])).toEqual([['lastname', 'Lee']]);
  });

  it('sends privacyDeletion with the deletion on a GDPR delete', async () => {
    await configure({
      subscriptions: [{ subscriptionType: 'contact.deletion' }, { subscriptionType: 'contact.privacyDeletion' }],
    });
    const [id] = await createContacts(1);
    await client.crm.contacts.basicApi.purge({ objectId: id });
    await flush();
    expect(receiver.events().map((event) => event.subscriptionType).sort()).toEqual([
      'contact.deletion',
      'contact.privacyDeletion',
    ]);
  });
});
