// deno-lint-ignore-file no-explicit-any -- tests assert on raw JSON bodies
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { PipedriveSimulator } from './server.ts';
import { api, control, startSimulator } from './test-support.ts';

let sim: PipedriveSimulator;

beforeAll(async () => {
  sim = await startSimulator({ seed: 42 });
});
afterAll(() => sim.close());
beforeEach(async () => {
  await control(sim, 'POST', '/reset');
});

describe('control API', () => {
  it('reports health with the API bases', async () => {
    const health = (await control(sim, 'GET', '/health')).body;
    expect(health).toMatchObject({ ok: true, companyId: 7_100_001, companyDomain: 'sim-7100001' });
    expect(health.apiV2).toBe(`${sim.url}/api/v2`);
  });

  it('seeds records reproducibly for a seed, with custom field values', async () => {
    const seed = async () => {
      await control(sim, 'POST', '/seed', { entity: 'organizations', count: 3 });
      const seeded = await control(sim, 'POST', '/seed', { entity: 'persons', count: 10 });
      expect(seeded.status).toBe(201);
      expect(seeded.body.ids).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      return (await control(sim, 'GET', '/objects/persons')).body.results.map((record: any) => [
        record.data.name,
        record.data.org_id,
        record.customFieldsByName.source,
      ]);
    };
    const first = await seed();
    await control(sim, 'POST', '/reset');
    expect(await seed()).toEqual(first);
    expect(first.every(([, , source]: any[]) => typeof source === 'string')).toBe(true);
    const orgs = (await control(sim, 'GET', '/objects/organizations')).body.results;
    expect(orgs[0].customFieldsByName).toMatchObject({
      domain: expect.stringMatching(/\.example\.com$/),
      revenue: { value: expect.any(Number), currency: 'USD' },
    });
  });

  it('spreads seeded update times and can emit webhooks for them', async () => {
    await control(sim, 'POST', '/seed', { entity: 'deals', count: 5, spreadMs: 3_600_000 });
    const times = (await control(sim, 'GET', '/objects/deals')).body.results.map((record: any) =>
      Date.parse(record.data.update_time)
    );
    expect(new Set(times).size).toBe(5);
    expect(Math.max(...times) - Math.min(...times)).toBeGreaterThan(2_500_000);
    expect(sim.state.webhooks.stats().eventsCreated).toBe(0);
  });

  it('creates, updates and deletes records as a Pipedrive user', async () => {
    const created = await control(sim, 'POST', '/objects/persons', {
      values: { name: 'Ann Archer' },
      userId: 22_000_002,
    });
    expect(created.status).toBe(201);
    expect(created.body.data).toMatchObject({ name: 'Ann Archer', owner_id: 22_000_002 });
    const updated = await control(sim, 'PATCH', `/objects/persons/${created.body.id}`, { values: { name: 'Ann B' } });
    expect(updated.body.previous).toEqual({ name: 'Ann Archer', last_name: 'Archer' });
    expect((await control(sim, 'DELETE', `/objects/persons/${created.body.id}`)).status).toBe(204);
    expect((await control(sim, 'GET', '/objects/persons')).body.total).toBe(0);
    expect((await control(sim, 'GET', '/objects/persons?includeDeleted=true')).body.results[0].deleted).toBe(true);
    const bad = await control(sim, 'POST', '/objects/persons', { values: { nickname: 'x' } });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ success: false, error: expect.stringContaining('unknown field nickname') });
  });

  it('adds users that records can then be owned by', async () => {
    const user = (await control(sim, 'POST', '/users', { name: 'New Rep', email: 'new.rep@example.com' })).body;
    const created = await api(sim, 'POST', '/api/v2/organizations', { name: 'Owned', owner_id: user.id });
    expect(created.body.data.owner_id).toBe(user.id);
    expect((await api(sim, 'GET', '/v1/users')).body.data).toHaveLength(4);
  });

  it('logs API requests with endpoint, status, outcome and tokens, and resets the log', async () => {
    await api(sim, 'GET', '/api/v2/persons?limit=5');
    await api(sim, 'GET', '/api/v2/persons/123');
    await api(sim, 'GET', '/api/v2/persons', undefined, 'bad');
    const log = (await control(sim, 'GET', '/requests')).body.results;
    expect(log.map((entry: any) => [entry.endpoint, entry.status, entry.outcome, entry.tokenCost])).toEqual([
      ['GET /api/v2/persons', 200, 'ok', 10],
      ['GET /api/v2/persons/{id}', 404, 'error', 1],
      ['GET /api/v2/persons', 401, 'unauthorized', undefined],
    ]);
    const counters = (await control(sim, 'GET', '/counters')).body;
    expect(counters).toMatchObject({
      requests: 3,
      unauthorized: 1,
      byStatus: { '200': 1, '404': 1, '401': 1 },
      tokens: { spentToday: 11, spentTotal: 11 },
    });
    await control(sim, 'DELETE', '/requests');
    expect((await control(sim, 'GET', '/counters')).body.requests).toBe(0);
  });

  it('injects 5xx, 429 and timeouts into the next matching requests', async () => {
    await control(sim, 'POST', '/faults', { mode: 'error', status: 503, count: 2, pathPrefix: '/api/v2/deals' });
    await control(sim, 'POST', '/faults', { mode: 'rate-limit', count: 1, method: 'POST' });
    expect((await api(sim, 'GET', '/api/v2/persons')).status).toBe(200);
    expect((await api(sim, 'GET', '/api/v2/deals')).status).toBe(503);
    expect((await api(sim, 'GET', '/api/v2/deals')).status).toBe(503);
    expect((await api(sim, 'GET', '/api/v2/deals')).status).toBe(200);
    const limited = await api(sim, 'POST', '/api/v2/persons', { name: 'A' });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('x-ratelimit-remaining')).toBe('0');

    await control(sim, 'POST', '/faults', { mode: 'timeout', hangMs: 100 });
    await expect(fetch(`${sim.url}/api/v2/persons`, { headers: { 'x-api-token': 'x' } })).rejects.toThrow();
    // A lost answer: the write takes effect, the caller never hears of it.
    await control(sim, 'POST', '/faults', { mode: 'timeout', hangMs: 100, applyFirst: true, method: 'POST' });
    await expect(api(sim, 'POST', '/api/v2/persons', { name: 'Applied' })).rejects.toThrow();
    expect((await api(sim, 'GET', '/api/v2/persons')).body.data.map((person: any) => person.name)).toEqual(['Applied']);
    const counters = (await control(sim, 'GET', '/counters')).body;
    expect(counters).toMatchObject({ faultsInjected: 5, rateLimited: { injected: 1 } });
    expect((await control(sim, 'GET', '/faults')).body).toEqual({ results: [], injected: 5 });
  });

  it('holds a request a while before handling it (a delay fault): what happens meanwhile lands first', async () => {
    const created = (await control(sim, 'POST', '/objects/persons', { values: { name: 'Ann Baker' } })).body;
    await control(sim, 'POST', '/faults', { mode: 'delay', hangMs: 300, method: 'PATCH', pathPrefix: '/api/v2/persons/' });
    const write = api(sim, 'PATCH', `/api/v2/persons/${created.id}`, { name: 'Xia Baker' });
    await new Promise((resolve) => setTimeout(resolve, 100));
    await control(sim, 'PATCH', `/objects/persons/${created.id}`, { values: { name: 'Ann Cole' } });
    expect((await write).status).toBe(200);
    expect((await api(sim, 'GET', `/api/v2/persons/${created.id}`)).body.data.name).toBe('Xia Baker');
  });

  it('freezes and advances the clock used for record times', async () => {
    await control(sim, 'PUT', '/clock', { freezeAt: '2024-06-01T12:00:00.000Z' });
    const a = (await control(sim, 'POST', '/objects/persons', { values: { name: 'A' } })).body;
    const b = (await control(sim, 'POST', '/objects/persons', { values: { name: 'B' } })).body;
    expect(a.data.update_time).toBe('2024-06-01T12:00:00Z');
    expect(b.data.update_time).toBe(a.data.update_time);
    await control(sim, 'PUT', '/clock', { advanceMs: 1_500 });
    const updated = (await control(sim, 'PATCH', `/objects/persons/${a.id}`, { values: { name: 'A2' } })).body;
    expect(updated.data.update_time).toBe('2024-06-01T12:00:01Z');
    await control(sim, 'PUT', '/clock', { freezeAt: null });
  });

  it("maps custom field names to this account's keys", async () => {
    const fields = (await control(sim, 'GET', '/fields')).body;
    expect(Object.keys(fields.organization)).toEqual(['domain', 'industry', 'revenue']);
    expect(fields.person.stage).toMatch(/^[0-9a-f]{40}$/);
  });

  it('validates control bodies', async () => {
    const response = await control(sim, 'POST', '/seed', { entity: 'widgets', count: 1 });
    expect(response.status).toBe(400);
    expect(response.body.error).toContain('Unknown entity');
    expect((await control(sim, 'POST', '/seed', { entity: 'notes', count: 1 })).status).toBe(400);
    expect((await control(sim, 'GET', '/nope')).status).toBe(404);
  });
});
