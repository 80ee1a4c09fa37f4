import type { Client } from '@hubspot/api-client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { seedRecords } from '../seed-data.ts';
import type { HubSpotSimulator } from '../server.ts';
import { api, clientError, control, hubspotClient, startSimulator } from '../test-support.ts';

let sim: HubSpotSimulator;
let client: Client;

beforeAll(async () => {
  sim = await startSimulator();
  client = hubspotClient(sim);
});
afterAll(() => sim.close());
beforeEach(() => sim.state.reset());

type Filter = { propertyName: string; operator: string; value?: string; highValue?: string; values?: string[] };

const search = (filters: Filter[], extra: Record<string, unknown> = {}) =>
  client.crm.contacts.searchApi.doSearch({
    filterGroups: filters.length ? [{ filters: filters as never }] : [],
    sorts: [],
    properties: ['email', 'lastname', 'lastmodifieddate'],
    limit: 100,
    after: '0',
    ...extra,
  });

describe('search', () => {
  it('finds records modified after a point in time, given as epoch milliseconds', async () => {
    sim.state.clock.freeze(Date.parse('2025-01-01T00:00:00Z'));
    const created = await client.crm.contacts.batchApi.create({
      inputs: Array.from({ length: 5 }, (_, n) => ({ properties: { email: `s${n}@example.com` }, associations: [] })),
    });
    const ids = created.results.map((result) => result.id);
    const checkpoint = sim.state.clock.now();
    sim.state.clock.advance(60_000);
    await client.crm.contacts.batchApi.update({
      inputs: [ids[1], ids[3]].map((id) => ({ id, properties: { lastname: 'Changed' } })),
    });

    const changed = await search([{ propertyName: 'lastmodifieddate', operator: 'GT', value: String(checkpoint) }]);
    expect(changed.total).toBe(2);
    expect(changed.results.map((result) => result.id).sort()).toEqual([ids[1], ids[3]].sort());

    const window = await search([{
      propertyName: 'lastmodifieddate',
      operator: 'BETWEEN',
      value: String(checkpoint),
      highValue: String(checkpoint + 1),
    }]);
    expect(window.total).toBe(3);
    const untouched = await search([{ propertyName: 'lastmodifieddate', operator: 'LTE', value: String(checkpoint) }]);
    expect(untouched.total).toBe(3);
  });

  it('supports EQ (case-insensitive), NEQ, IN, HAS_PROPERTY, NOT_HAS_PROPERTY and CONTAINS_TOKEN', async () => {
    await client.crm.contacts.batchApi.create({
      inputs: [
        { properties: { email: 'ann@alpha.test', lastname: 'Archer', lifecyclestage: 'lead' }, associations: [] },
        { properties: { email: 'bob@beta.test', lastname: 'Baker', lifecyclestage: 'customer' }, associations: [] },
        { properties: { email: 'cy@alpha.test' }, associations: [] },
      ],
    });
    const totals = async (filters: Filter[]) => (await search(filters)).total;
    expect(await totals([{ propertyName: 'lastname', operator: 'EQ', value: 'archer' }])).toBe(1);
    expect(await totals([{ propertyName: 'lastname', operator: 'NEQ', value: 'Archer' }])).toBe(2);
    expect(await totals([{ propertyName: 'lifecyclestage', operator: 'IN', values: ['lead', 'customer'] }])).toBe(2);
    expect(await totals([{ propertyName: 'lastname', operator: 'HAS_PROPERTY' }])).toBe(2);
    expect(await totals([{ propertyName: 'lastname', operator: 'NOT_HAS_PROPERTY' }])).toBe(1);
    expect(await totals([{ propertyName: 'email', operator: 'CONTAINS_TOKEN', value: '*@alpha.test' }])).toBe(2);
    // Two filter groups are ORed.
    const either = await client.crm.contacts.searchApi.doSearch({
      filterGroups: [
        { filters: [{ propertyName: 'lastname', operator: 'EQ' as never, value: 'Archer' }] },
        { filters: [{ propertyName: 'lastname', operator: 'EQ' as never, value: 'Baker' }] },
      ],
      sorts: [],
      properties: [],
      limit: 10,
      after: '0',
    });
    expect(either.total).toBe(2);
  });

  it('sorts by one property and pages with `after`', async () => {
    await client.crm.contacts.batchApi.create({
      inputs: ['m', 'c', 'x', 'a', 'q'].map((name) => ({
        properties: { email: `${name}@example.com`, lastname: name },
        associations: [],
      })),
    });
    const names: string[] = [];
    let after = '0';
    for (let page = 0; page < 3; page++) {
      const response = await search([], {
        sorts: [{ propertyName: 'lastname', direction: 'DESCENDING' }] as never,
        limit: 2,
        after,
      });
      expect(response.total).toBe(5);
      names.push(...response.results.map((result) => result.properties.lastname!));
      if (!response.paging?.next) break;
      after = response.paging.next.after;
    }
    expect(names).toEqual(['x', 'q', 'm', 'c', 'a']);
  });

  it('rejects unknown properties, limits above 200 and a second sort', async () => {
    expect((await clientError(search([{ propertyName: 'shoe_size', operator: 'EQ', value: '9' }]))).code).toBe(400);
    expect((await clientError(search([], { limit: 201 }))).code).toBe(400);
    const twoSorts = await clientError(search([], { sorts: ['email', 'lastname'] }));
    expect(twoSorts.code).toBe(400);
  });

  it('caps a query at 10,000 results: paging to offset 10000 is a 400', async () => {
    seedRecords(sim.state, { objectType: 'contacts', count: 10_050 });
    const lastPage = await search([], { limit: 200, after: '9800', properties: ['email'] });
    expect(lastPage.total).toBe(10_050);
    expect(lastPage.results).toHaveLength(200);
    expect(lastPage.paging?.next?.after).toBe('10000');
    const beyond = await clientError(search([], { limit: 200, after: '10000' }));
    expect(beyond.code).toBe(400);
    expect(beyond.body.category).toBe('VALIDATION_ERROR');
  }, 30_000);

  it('hides writes from search until the index catches up (searchIndexDelayMs)', async () => {
    await control(sim, 'PUT', '/config', { searchIndexDelayMs: 150 });
    await client.crm.contacts.basicApi.create({ properties: { email: 'late@example.com' }, associations: [] });
    expect((await search([])).total).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await search([])).total).toBe(1);
    await control(sim, 'PUT', '/config', { searchIndexDelayMs: 0 });
  });

  it('limits search to 5 requests per second with the secondly 429 and no rate-limit headers', async () => {
    sim.state.rateLimiter.configure({ searchPerSecond: 5 });
    const body = { filterGroups: [], limit: 1 };
    const statuses: number[] = [];
    let last;
    for (let n = 0; n < 6; n++) {
      last = await api(sim, 'POST', '/crm/v3/objects/contacts/search', body);
      statuses.push(last.status);
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    expect(last!.body).toMatchObject({
      status: 'error',
      message: 'You have reached your secondly limit.',
      errorType: 'RATE_LIMIT',
      policyName: 'SECONDLY',
    });
    expect(last!.headers.get('x-hubspot-ratelimit-remaining')).toBeNull();
    sim.state.rateLimiter.configure({ searchPerSecond: 10_000 });
  });
});
