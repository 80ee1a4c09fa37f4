// deno-lint-ignore-file no-explicit-any -- tests assert on raw JSON bodies
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { PipedriveSimulator } from './server.ts';
import { api, control, startSimulator, v1Client, v2Client, WebhookReceiver } from './test-support.ts';

let sim: PipedriveSimulator;
const receiver = new WebhookReceiver();

beforeAll(async () => {
  await receiver.start();
  sim = await startSimulator({ companyId: 5_550_001 });
});
afterAll(async () => {
  await sim.close();
  await receiver.stop();
});
beforeEach(async () => {
  // A fresh company and the start-up delivery settings, scaled down: retries after 30, 300 and 1,500 ms.
  await control(sim, 'POST', '/reset', { keepWebhookSettings: false });
  await control(sim, 'PUT', '/webhooks', { timeScale: 0.01 });
  receiver.reset();
});

async function subscribe(body: Record<string, unknown> = {}): Promise<number> {
  const response = await api(sim, 'POST', '/v1/webhooks', {
    subscription_url: `${receiver.base}/hooks/pipedrive`,
    event_action: '*',
    event_object: '*',
    version: '2.0',
    http_auth_user: receiver.user,
    http_auth_password: receiver.password,
    ...body,
  });
  expect(response.status).toBe(201);
  return response.body.data.id;
}

async function flush(timeoutMs = 10_000) {
  const response = await control(sim, 'POST', '/webhooks/flush', { timeoutMs });
  expect(response.body.idle).toBe(true);
  return response.body.stats;
}

describe('webhook subscriptions (/v1/webhooks)', () => {
  it('creates, lists and deletes subscriptions through the official v1 client', async () => {
    const webhooks = v1Client(sim).webhooks;
    const created = await webhooks.addWebhook({
      AddWebhookRequest: {
        subscription_url: `${receiver.base}/hooks`,
        event_action: 'change',
        event_object: 'person',
        name: 'person changes',
        version: '2.0',
        http_auth_user: 'u',
        http_auth_password: 'p',
      },
    });
    expect(created.data).toMatchObject({
      event_action: 'change',
      event_object: 'person',
      version: '2.0',
      is_active: 1,
      type: 'general',
      http_auth_user: 'u',
      company_id: 5_550_001,
    });
    expect((await webhooks.getWebhooks()).data!.map((hook) => hook.id)).toEqual([created.data!.id]);
    expect(await webhooks.deleteWebhook({ id: created.data!.id! })).toMatchObject({ success: true, status: 'ok' });
    expect((await webhooks.getWebhooks()).data).toEqual([]);
    expect((await api(sim, 'DELETE', `/v1/webhooks/${created.data!.id}`)).status).toBe(404);
  });

  it('rejects a bad URL or event with the documented 400 body', async () => {
    const response = await api(sim, 'POST', '/v1/webhooks', {
      subscription_url: 'not a url',
      event_action: 'create',
      event_object: 'person',
    });
    expect(response.status).toBe(400);
    expect(response.body).toEqual({
      status: 'error',
      success: false,
      errors: { subscription_url: ['invalid or non-reachable URL'] },
    });
    const merged = await api(sim, 'POST', '/v1/webhooks', {
      subscription_url: receiver.base,
      event_action: 'merged',
      event_object: 'person',
    });
    expect(merged.body.errors).toHaveProperty('event_action');
  });
});

describe('delivery of webhooks v2', () => {
  it('sends create, change and delete of API writes, one event per request, with Basic auth', async () => {
    const webhookId = await subscribe();
    const persons = v2Client(sim).persons;
    const created = (await persons.addPerson({
      AddPersonRequest: { name: 'Ann Archer', emails: [{ value: 'ann@acme.test' }] },
    })).data!;
    await persons.updatePerson({ id: created.id!, UpdatePersonRequest: { name: 'Ann Baker' } });
    await persons.deletePerson({ id: created.id! });
    const stats = await flush();
    expect(stats).toMatchObject({ eventsCreated: 3, delivered: 3, failedRequests: 0 });

    expect(receiver.received.every((delivery) => delivery.authorized)).toBe(true);
    expect(receiver.received.every((delivery) => delivery.headers['content-type'] === 'application/json')).toBe(
      true,
    );
    const events = receiver.events().sort((a, b) => a.meta.timestamp.localeCompare(b.meta.timestamp));
    const byAction = Object.fromEntries(events.map((event) => [event.meta.action, event]));
    expect(Object.keys(byAction).sort()).toEqual(['change', 'create', 'delete']);

    for (const event of events) {
      expect(Object.keys(event).sort()).toEqual(['data', 'meta', 'previous']);
      expect(event.meta).toMatchObject({
        entity: 'person',
        entity_id: String(created.id),
        company_id: '5550001',
        user_id: String(sim.state.users.me().id),
        version: '2.0',
        webhook_id: String(webhookId),
        change_source: 'api',
        is_bulk_edit: false,
        attempt: 1,
      });
      expect(event.meta.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(event.meta.correlation_id).toMatch(/^[0-9a-f-]{36}$/);
      expect(Date.parse(event.meta.timestamp)).not.toBeNaN();
    }
    expect(new Set(events.map((event) => event.meta.id)).size).toBe(3);

    expect(byAction.create.previous).toBeNull();
    expect(byAction.create.data).toMatchObject({ id: created.id, name: 'Ann Archer', emails: created.emails });
    expect(byAction.change.data).toMatchObject({ name: 'Ann Baker', last_name: 'Baker' });
    expect(byAction.change.previous).toEqual({ name: 'Ann Archer', last_name: 'Archer' });
    expect(byAction.delete.data).toBeNull();
    expect(byAction.delete.previous).toMatchObject({ id: created.id, name: 'Ann Baker', is_deleted: false });
  });

  it('marks changes made in the app (control API) as change_source "app" with that user', async () => {
    await subscribe({ event_action: 'change', event_object: 'deal' });
    const fields = (await control(sim, 'GET', '/fields')).body;
    const user = sim.state.users.list()[2].id;
    const deal = (await control(sim, 'POST', '/objects/deals', { values: { title: 'Big one' } })).body;
    await control(sim, 'PATCH', `/objects/deals/${deal.id}`, {
      values: { value: 5_000, custom_fields: { [fields.deal.source]: 'Event' } },
      userId: user,
    });
    await flush();
    const events = receiver.events();
    expect(events).toHaveLength(1); // the create does not match a change subscription
    expect(events[0].meta).toMatchObject({
      action: 'change',
      entity: 'deal',
      change_source: 'app',
      user_id: String(user),
    });
    expect(events[0].previous).toEqual({ value: 0, custom_fields: { [fields.deal.source]: null } });
  });

  it('retries a failed delivery after the scaled 3 and 30 s, counting attempts in meta.attempt', async () => {
    await subscribe({ event_object: 'organization' });
    receiver.respond = (index) => ({ status: index < 2 ? 503 : 200 });
    await v2Client(sim).organizations.addOrganization({ AddOrganizationRequest: { name: 'Retry Co' } });
    const stats = await flush();
    expect(receiver.received.map((delivery) => delivery.body.meta.attempt)).toEqual([1, 2, 3]);
    expect(new Set(receiver.received.map((delivery) => delivery.body.meta.id)).size).toBe(1);
    expect(stats).toMatchObject({ requests: 3, retries: 2, delivered: 1, failedRequests: 2 });
    const deliveries = (await control(sim, 'GET', '/webhooks/deliveries')).body.results;
    expect(deliveries.map((attempt: any) => [attempt.attempt, attempt.status])).toEqual([[1, 503], [2, 503], [3, 200]]);
    const gaps = [1, 2].map((n) => Date.parse(deliveries[n].at) - Date.parse(deliveries[n - 1].at));
    expect(gaps[0]).toBeGreaterThanOrEqual(25);
    expect(gaps[1]).toBeGreaterThanOrEqual(250);
  });

  it('treats an answer slower than the timeout as a failure and gives up after the fourth attempt', async () => {
    await control(sim, 'PUT', '/webhooks', { requestTimeoutMs: 100, retryDelaysMs: [10, 10, 10] });
    await subscribe({ event_object: 'activity' });
    receiver.respond = () => ({ status: 200, delayMs: 300 });
    await v2Client(sim).activities.addActivity({ AddActivityRequest: { subject: 'Slow' } });
    const stats = await flush();
    expect(stats).toMatchObject({ requests: 4, delivered: 0, failedRequests: 4, eventsAbandoned: 1 });
    const deliveries = (await control(sim, 'GET', '/webhooks/deliveries')).body.results;
    expect(deliveries.map((attempt: any) => attempt.error)).toEqual(['timeout', 'timeout', 'timeout', 'timeout']);
  });

  it('bans a webhook after 10 failed first attempts; events during the ban are lost', async () => {
    // No retries, so only first attempts count; a 30-minute ban scaled to 900 ms.
    await control(sim, 'PUT', '/webhooks', { retryDelaysMs: [], timeScale: 0.0005 });
    const webhookId = await subscribe({ event_object: 'person' });
    receiver.respond = () => ({ status: 500 });
    const persons = v2Client(sim).persons;
    for (let n = 0; n < 10; n++) {
      await persons.addPerson({ AddPersonRequest: { name: `Failing ${n}` } });
      await flush();
    }
    let report = (await control(sim, 'GET', '/webhooks')).body;
    expect(report.webhooks[webhookId]).toMatchObject({ bans: 1, failedRequests: 10 });
    expect(report.webhooks[webhookId].bannedUntil).toEqual(expect.any(String));

    receiver.respond = () => ({ status: 200 });
    await persons.addPerson({ AddPersonRequest: { name: 'Lost 1' } });
    await persons.addPerson({ AddPersonRequest: { name: 'Lost 2' } });
    let stats = await flush();
    expect(stats).toMatchObject({ eventsCreated: 12, requests: 10, eventsLost: 2, bans: 1 });
    expect(receiver.received).toHaveLength(10);

    const bannedUntil = Date.parse(report.webhooks[webhookId].bannedUntil);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, bannedUntil - Date.now()) + 50)); // the ban is over
    await persons.addPerson({ AddPersonRequest: { name: 'Delivered' } });
    stats = await flush();
    expect(stats).toMatchObject({ delivered: 1, eventsLost: 2 });
    expect(receiver.events().at(-1).data.name).toBe('Delivered');
    report = (await control(sim, 'GET', '/webhooks')).body;
    expect(report.webhooks[webhookId]).toMatchObject({ lost: 2, delivered: 1, consecutiveFirstFailures: 0 });
  });

  it('deletes a webhook that has had no successful delivery for 3 (scaled) days', async () => {
    // 3 days scaled to 259 ms; no retries to keep the count simple.
    await control(sim, 'PUT', '/webhooks', { timeScale: 0.000001, retryDelaysMs: [], banAfterFailures: 1_000 });
    const webhookId = await subscribe({ event_object: 'deal' });
    receiver.respond = () => ({ status: 500 });
    const deals = v2Client(sim).deals;
    await deals.addDeal({ AddDealRequest: { title: 'first failure' } });
    await flush();
    await new Promise((resolve) => setTimeout(resolve, 300));
    await deals.addDeal({ AddDealRequest: { title: 'second failure, too late' } });
    await flush();
    const report = (await control(sim, 'GET', '/webhooks')).body;
    expect(report.removed).toEqual([
      { id: webhookId, at: expect.any(String), reason: 'no successful delivery within the deletion period' },
    ]);
    expect(report.stats.webhooksDeleted).toBe(1);
    expect((await api(sim, 'GET', '/v1/webhooks')).body.data).toEqual([]);
    await deals.addDeal({ AddDealRequest: { title: 'nobody listens' } });
    expect((await flush()).eventsCreated).toBe(2);
  });

  it('sends nothing a receiver accepts when the subscription has the wrong credentials', async () => {
    await subscribe({ event_object: 'person', http_auth_password: 'wrong', event_action: 'create' });
    await control(sim, 'PUT', '/webhooks', { retryDelaysMs: [] });
    await v2Client(sim).persons.addPerson({ AddPersonRequest: { name: 'Nope' } });
    const stats = await flush();
    expect(receiver.received.map((delivery) => delivery.authorized)).toEqual([false]);
    expect(stats).toMatchObject({ delivered: 0, failedRequests: 1 });
  });
});

describe('merges', () => {
  it('sends a delete of the merged person (merged_to_id) and a change of the survivor (merged_from_id)', async () => {
    const persons = v2Client(sim).persons;
    const survivor = (await persons.addPerson({
      AddPersonRequest: { name: 'Ann Archer', emails: [{ value: 'ann@acme.test' }] },
    })).data!;
    const duplicate = (await persons.addPerson({
      AddPersonRequest: { name: 'Ann A.', emails: [{ value: 'ann@home.test' }], phones: [{ value: '+1 555 0199' }] },
    })).data!;
    const deal = (await v2Client(sim).deals.addDeal({ AddDealRequest: { title: 'D', person_id: duplicate.id } }))
      .data!;
    await subscribe({ event_object: '*' });

    const merged = await v1Client(sim).persons.mergePersons({
      id: duplicate.id!,
      MergePersonsRequest: { merge_with_id: survivor.id! },
    });
    expect(merged.data).toMatchObject({ id: survivor.id, merge_what_id: duplicate.id, open_deals_count: 1 });
    await flush();

    const events = receiver.events();
    const del = events.find((event) => event.meta.action === 'delete');
    const change = events.find((event) => event.meta.action === 'change' && event.meta.entity === 'person');
    const dealChange = events.find((event) => event.meta.entity === 'deal');
    expect(events).toHaveLength(3);
    expect(del.meta).toMatchObject({
      entity: 'person',
      entity_id: String(duplicate.id),
      merged_to_id: String(survivor.id),
    });
    expect(del.data).toBeNull();
    expect(del.previous).toMatchObject({ name: 'Ann A.' });
    expect(change.meta).toMatchObject({ entity_id: String(survivor.id), merged_from_id: String(duplicate.id) });
    expect(change.data.emails.map((email: any) => email.value)).toEqual(['ann@acme.test', 'ann@home.test']);
    expect(change.data.phones.map((phone: any) => phone.value)).toEqual(['+1 555 0199']);
    expect(change.previous).toEqual({ emails: survivor.emails, phones: [] });
    expect(dealChange.previous).toEqual({ person_id: duplicate.id });
    expect(new Set(events.map((event) => event.meta.correlation_id)).size).toBe(1);

    expect((await persons.getPerson({ id: duplicate.id! })).data!.is_deleted).toBe(true);
    expect((await v2Client(sim).deals.getDeal({ id: deal.id! })).data!.person_id).toBe(survivor.id);
  });

  it('merges organizations through the API and the control API alike', async () => {
    const orgs = v2Client(sim).organizations;
    const [a, b, c] = await Promise.all(
      ['Acme', 'Acme Inc', 'ACME'].map(async (name) =>
        (await orgs.addOrganization({ AddOrganizationRequest: { name } })).data!
      ),
    );
    await subscribe({ event_object: 'organization' });
    const viaApi = await api(sim, 'PUT', `/v1/organizations/${b.id}/merge`, { merge_with_id: a.id });
    expect(viaApi.body).toEqual({ success: true, data: { id: a.id } });
    await control(sim, 'POST', '/merge', { entity: 'organizations', id: c.id, mergeWithId: a.id });
    await flush();
    const summary = receiver.events().map((event) => [
      event.meta.action,
      Number(event.meta.entity_id),
      event.meta.merged_to_id ?? event.meta.merged_from_id,
      event.meta.change_source,
    ]);
    expect(summary.sort()).toEqual([
      ['change', a.id, String(b.id), 'api'],
      ['change', a.id, String(c.id), 'app'],
      ['delete', b.id, String(a.id), 'api'],
      ['delete', c.id, String(a.id), 'app'],
    ].sort());
    expect((await api(sim, 'PUT', `/v1/organizations/${a.id}/merge`, { merge_with_id: a.id })).status).toBe(400);
  });
});

describe('fault switches', () => {
  it('duplicates deliveries (same event id) and drops events, reproducibly per seed', async () => {
    await subscribe({ event_object: 'person' });
    await control(sim, 'PUT', '/webhooks', { faults: { seed: 7, duplicateProbability: 1 } });
    await v2Client(sim).persons.addPerson({ AddPersonRequest: { name: 'Twice' } });
    let stats = await flush();
    expect(stats).toMatchObject({ eventsDuplicated: 1, delivered: 2 });
    expect(receiver.events()[0].meta.id).toBe(receiver.events()[1].meta.id);

    receiver.reset();
    await control(sim, 'PUT', '/webhooks', { faults: { duplicateProbability: 0, dropProbability: 0.5 } });
    const runDrops = async () => {
      await control(sim, 'PUT', '/webhooks', { faults: { seed: 11 } });
      const before = receiver.received.length;
      for (let n = 0; n < 10; n++) await v2Client(sim).persons.addPerson({ AddPersonRequest: { name: `P${n}` } });
      await flush();
      return receiver.received.slice(before).map((delivery) => delivery.body.data.name).sort();
    };
    const first = await runDrops();
    stats = await flush();
    expect(first.length).toBeGreaterThan(0);
    expect(first.length).toBeLessThan(10);
    expect(stats.eventsDropped).toBe(10 - first.length);
    expect(await runDrops()).toEqual(first);
  });

  it('reorders and delays deliveries without losing any', async () => {
    await subscribe({ event_object: 'deal', event_action: 'create' });
    await control(sim, 'PUT', '/webhooks', { faults: { seed: 3, reorder: true, delayMs: 40 } });
    const titles = Array.from({ length: 12 }, (_, n) => `Deal ${String(n).padStart(2, '0')}`);
    await Promise.all(titles.map((title) => v2Client(sim).deals.addDeal({ AddDealRequest: { title } })));
    await flush();
    const received = receiver.events().map((event) => event.data.title);
    expect([...received].sort()).toEqual(titles);
    expect(received).not.toEqual(titles);
  });
});
