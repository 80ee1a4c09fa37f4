// deno-lint-ignore-file no-explicit-any -- tests assert on raw JSON bodies
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { HubSpotSimulator } from './server.ts';
import { api, control, startSimulator } from './test-support.ts';

let sim: HubSpotSimulator;

beforeAll(async () => {
  sim = await startSimulator({ seed: 42 });
});
afterAll(() => sim.close());
beforeEach(async () => {
  await control(sim, 'POST', '/reset');
});

describe('control API', () => {
  it('seeds records reproducibly for a seed', async () => {
    const first = await control(sim, 'POST', '/seed', { objectType: 'contacts', count: 20 });
    expect(first.status).toBe(201);
    expect(first.body.ids).toHaveLength(20);
    const emails = (await control(sim, 'GET', '/objects/contacts')).body.results.map((record: any) =>
      record.properties.email
    );
    await control(sim, 'POST', '/reset');
    await control(sim, 'POST', '/seed', { objectType: 'contacts', count: 20 });
    const again = (await control(sim, 'GET', '/objects/contacts')).body.results.map((record: any) =>
      record.properties.email
    );
    expect(again).toEqual(emails);
    expect(new Set(emails).size).toBe(20);
  });

  it('seeds with associations and a spread of modification times', async () => {
    await control(sim, 'POST', '/seed', { objectType: 'companies', count: 3 });
    const seeded = await control(sim, 'POST', '/seed', {
      objectType: 'deals',
      count: 10,
      associateWith: 'companies',
      spreadMs: 3_600_000,
    });
    const deals = (await control(sim, 'GET', '/objects/deals')).body.results;
    expect(deals.every((deal: any) => deal.associations.companies?.length === 1)).toBe(true);
    const modified = deals.map((deal: any) => Date.parse(deal.properties.hs_lastmodifieddate));
    expect(new Set(modified).size).toBe(10);
    expect(Math.max(...modified) - Math.min(...modified)).toBeGreaterThan(3_000_000);
    expect(seeded.body.ids).toEqual(deals.map((deal: any) => deal.id));
  });

  it('resets the portal', async () => {
    await control(sim, 'POST', '/seed', { objectType: 'contacts', count: 5 });
    await control(sim, 'POST', '/reset');
    expect((await control(sim, 'GET', '/objects/contacts')).body.total).toBe(0);
  });

  it('logs API requests with endpoint, status and outcome', async () => {
    await api(sim, 'GET', '/crm/v3/objects/contacts?limit=5');
    await api(sim, 'GET', '/crm/v3/objects/contacts/123');
    await api(sim, 'GET', '/crm/v3/objects/contacts', undefined, 'bad');
    const log = (await control(sim, 'GET', '/requests')).body.results;
    expect(log.map((entry: any) => [entry.endpoint, entry.status, entry.outcome])).toEqual([
      ['GET /crm/v3/objects/contacts', 200, 'ok'],
      ['GET /crm/v3/objects/contacts/{objectId}', 404, 'error'],
      ['GET /crm/v3/objects/contacts', 401, 'unauthorized'],
    ]);
    const counters = (await control(sim, 'GET', '/counters')).body;
    expect(counters).toMatchObject({ requests: 3, unauthorized: 1, byStatus: { '200': 1, '404': 1, '401': 1 } });
    await control(sim, 'DELETE', '/requests');
    expect((await control(sim, 'GET', '/counters')).body.requests).toBe(0);
  });

  it('freezes and advances the clock used for record timestamps', async () => {
    await control(sim, 'PUT', '/clock', { freezeAt: '2024-06-01T12:00:00.000Z' });
    const a = (await control(sim, 'POST', '/objects/contacts', { properties: { email: 'a@example.com' } })).body;
    const b = (await control(sim, 'POST', '/objects/contacts', { properties: { email: 'b@example.com' } })).body;
    expect(a.properties.lastmodifieddate).toBe('2024-06-01T12:00:00.000Z');
    expect(b.properties.lastmodifieddate).toBe(a.properties.lastmodifieddate);
    await control(sim, 'PUT', '/clock', { advanceMs: 1_000 });
    const updated = (await control(sim, 'PATCH', `/objects/contacts/${a.id}`, { properties: { firstname: 'A' } })).body;
    expect(updated.properties.lastmodifieddate).toBe('2024-06-01T12:00:01.000Z');
    expect(updated.changed).toEqual(['firstname']);
    await control(sim, 'PUT', '/clock', { freezeAt: null });
  });

  it('adds owners that hubspot_owner_id can then reference', async () => {
    const owner = (await control(sim, 'POST', '/owners', { email: 'new.rep@example.com', firstName: 'New' })).body;
    const created = await api(sim, 'POST', '/crm/v3/objects/contacts', {
      properties: { email: 'c@example.com', hubspot_owner_id: owner.id },
    });
    expect(created.status).toBe(201);
    expect(created.body.properties.hubspot_owner_id).toBe(owner.id);
  });

  it('validates control bodies', async () => {
    const response = await control(sim, 'POST', '/seed', { objectType: 'widgets', count: 1 });
    expect(response.status).toBe(400);
    expect(response.body.message).toContain('Unknown object type');
    expect((await control(sim, 'GET', '/nope')).status).toBe(404);
  });
});
