// Listing against the HubSpot simulator through the official client: every
// record exactly once across pages and object types, change windows that
// hold more records than search's 10,000 cap and many records sharing one
// modified time, deletions inside the window, and GDPR erasure.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSimulator, TEST_TOKEN } from '../../../../../scripts/simulators/hubspot/test-support.ts';
import type { HubSpotSimulator } from '../../../../../scripts/simulators/hubspot/server.ts';
import type { RemoteRecord } from '../../model/unified.ts';
import type { RecordPage } from '../adapter.ts';
import { createHubSpotAdapter } from './adapter.ts';
import { createHubSpotCaller } from './client.ts';
import { buildFieldMap } from './field-map.ts';
import { createHubSpotListing, decodeCursor } from './listing.ts';
import { buildValueMaps } from './value-maps.ts';

let sim: HubSpotSimulator;
const freeBudget = { take: async () => {}, pause: async () => {} };

beforeAll(async () => {
  sim = await startSimulator();
});

afterAll(async () => {
  await sim?.close();
});

beforeEach(() => {
  sim.state.reset();
});

const caller = () => createHubSpotCaller({ accessToken: TEST_TOKEN, basePath: sim.url, budget: freeBudget });
const adapter = () => createHubSpotAdapter(caller(), buildValueMaps([]), buildFieldMap([]));
const user = () => sim.state.userSource();

function createContacts(count: number, at: number, prefix = 'c') {
  return Array.from({ length: count }, (_, i) =>
    sim.state.store.create('contacts', { email: `${prefix}${i}@list.example`, firstname: `N${i}` }, user(), { at }));
}

/** Every page of a listing, in order. */
async function allPages(next: (cursor: string | null) => Promise<RecordPage>): Promise<RecordPage[]> {
  const pages: RecordPage[] = [];
  let cursor: string | null = null;
  do {
    const page = await next(cursor);
    pages.push(page);
    cursor = page.nextCursor;
  } while (cursor !== null);
  return pages;
}

const ids = (records: RemoteRecord[]) => records.map((r) => r.remoteId);

describe('listRecords', () => {
  it('returns every live contact once, with its company reference, a page of 100 at a time', async () => {
    const company = sim.state.store.create('companies', { name: 'Listing Co', domain: 'listing.example' }, user());
    const contacts = createContacts(250, Date.now());
    sim.state.store.associate('contacts', contacts[7].id, 'companies', company.id, [1], user());
    sim.state.store.archive('contacts', contacts[3].id, user());

    sim.state.log.clear();
    const pages = await allPages((cursor) => adapter().listRecords('contact', cursor));
    const records = pages.flatMap((p) => p.records);
    expect(pages.map((p) => p.records.length)).toEqual([100, 100, 49]);
    // The references come with the list call: one request per page, none to the associations API.
    expect(sim.state.log.recent(100).map((r) => r.endpoint)).toEqual(Array(3).fill('GET /crm/v3/objects/contacts'));
    expect(new Set(ids(records)).size).toBe(249);
    expect(ids(records)).not.toContain(contacts[3].id);
    const seventh = records.find((r) => r.remoteId === contacts[7].id)!;
    expect(seventh.fields).toMatchObject({ email: 'c7@list.example', first_name: 'N7' });
    expect(seventh.references.company).toBe(company.id);
  });

  it('walks every engagement object type of activities, with type-qualified ids', async () => {
    sim.state.store.create('notes', { hs_note_body: 'a note', hs_timestamp: String(Date.now()) }, user());
    sim.state.store.create('calls', { hs_call_title: 'a call', hs_timestamp: String(Date.now()) }, user());
    const records = (await allPages((cursor) => adapter().listRecords('activity', cursor))).flatMap((p) => p.records);
    expect(ids(records).map((id) => id.split(':')[0]).sort()).toEqual(['calls', 'notes']);
    expect(records.map((r) => r.fields.type).sort()).toEqual(['call', 'note']);
  });

  it('lists nothing, in one empty page, for tasks (not synced with HubSpot) instead of failing', async () => {
    expect(await adapter().listRecords('task', null)).toEqual({ records: [], nextCursor: null });
    expect(await adapter().listChangedSince('task', '2026-01-01T00:00:00.000Z', null))
      .toEqual({ records: [], nextCursor: null, until: '2026-01-01T00:00:00.000Z' });
  });

  it('rejects a cursor it did not make', async () => {
    await expect(adapter().listRecords('contact', 'not-a-cursor')).rejects.toThrow(/not a HubSpot listing cursor/);
  });
});

describe('listChangedSince', () => {
  const t0 = Date.parse('2026-11-20T10:00:00Z');

  function listing(nowMs: number) {
    return createHubSpotListing(caller(), {
      properties: () => ['email', 'lastmodifieddate', 'hs_lastmodifieddate'],
      associations: () => [],
      toRecords: async (entityType, objectType, objects) => objects.map((o) => ({
        entityType, remoteId: String(o.id), remoteUpdatedAt: o.updatedAt, archived: false,
        fields: { email: o.properties.email ?? null }, references: {}, unmapped: [],
      } as RemoteRecord)),
      now: () => nowMs,
      searchIntervalMs: 0,
    });
  }

  it('lists more records than the search cap that all share one modified time, each exactly once', async () => {
    const before = createContacts(5, t0 - 60_000, 'old');
    const shared = createContacts(10_050, t0, 'same');
    const pages = await allPages((cursor) => listing(t0 + 3_600_000).listChangedSince('contact', new Date(t0).toISOString(), cursor));
    const listed = ids(pages.flatMap((p) => p.records));
    expect(listed).toHaveLength(10_050);
    expect(new Set(listed)).toEqual(new Set(shared.map((c) => c.id)));
    expect(listed.some((id) => before.some((c) => c.id === id))).toBe(false);
    expect(new Set(pages.map((p) => p.until))).toEqual(new Set([new Date(t0 + 3_600_000 - 30_000).toISOString()]));
  }, 60_000);

  it('waits out the search endpoints\' per-second limit when another run took it, without pausing the connection', async () => {
    createContacts(450, t0, 'busy');
    const pauses: number[] = [];
    const budget = { take: async () => {}, pause: async (ms: number) => void pauses.push(ms) };
    const searches = createHubSpotListing(createHubSpotCaller({ accessToken: TEST_TOKEN, basePath: sim.url, budget }), {
      properties: () => ['email'],
      associations: () => [],
      toRecords: async (entityType, _objectType, objects) => objects.map((o) => ({
        entityType, remoteId: String(o.id), remoteUpdatedAt: o.updatedAt, archived: false, fields: {}, references: {}, unmapped: [],
      } as RemoteRecord)),
      now: () => t0 + 3_600_000,
      searchIntervalMs: 0,
    });
    sim.state.rateLimiter.configure({ searchPerSecond: 1 });
    try {
      sim.state.log.clear();
      const pages = await allPages((cursor) => searches.listChangedSince('contact', new Date(t0).toISOString(), cursor));
      expect(new Set(ids(pages.flatMap((p) => p.records))).size).toBe(450);
      const statuses = sim.state.log.recent(100).filter((r) => r.endpoint.endsWith('/search')).map((r) => r.status);
      expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(2); // three pages in well under three seconds
      expect(statuses.filter((s) => s === 200)).toHaveLength(3);
      expect(pauses).toEqual([]);
    } finally {
      sim.state.rateLimiter.configure({ searchPerSecond: 10_000 });
    }
  });

  it('pays for the search from the budget, not for the association read of its references (exempt from the ten-secondly limit)', async () => {
    const company = sim.state.store.create('companies', { name: 'Budget Co', domain: 'budget.example' }, user(), { at: t0 });
    const contacts = createContacts(3, t0, 'paid');
    sim.state.store.associate('contacts', contacts[0].id, 'companies', company.id, [1], user());
    let taken = 0;
    const budget = { take: async (requests = 1) => void (taken += requests), pause: async () => {} };
    const api = createHubSpotCaller({ accessToken: TEST_TOKEN, basePath: sim.url, budget });
    sim.state.log.clear();
    const [page] = await allPages((cursor) =>
      createHubSpotAdapter(api, buildValueMaps([]), buildFieldMap([])).listChangedSince('contact', new Date(t0).toISOString(), cursor));
    expect(page.records.find((r) => r.remoteId === contacts[0].id)?.references.company).toBe(company.id);
    const endpoints = sim.state.log.recent(100).map((r) => r.endpoint);
    expect(endpoints).toContain('POST /crm/v4/associations/contacts/companies/batch/read');
    expect(endpoints.filter((e) => !e.startsWith('POST /crm/v4/associations')).length).toBeGreaterThan(0);
    expect(taken).toBe(endpoints.filter((e) => !e.startsWith('POST /crm/v4/associations')).length);
  });

  it('leaves changes at or after the window end to the next run, which starts there', async () => {
    const inside = createContacts(3, t0 + 1_000, 'in');
    const late = createContacts(2, t0 + 100_000, 'late');
    const now = t0 + 120_000; // the window ends 30 s before now: t0 + 90 s
    const first = (await allPages((cursor) => listing(now).listChangedSince('contact', new Date(t0).toISOString(), cursor)));
    expect(new Set(ids(first.flatMap((p) => p.records)))).toEqual(new Set(inside.map((c) => c.id)));
    const next = await allPages((cursor) => listing(t0 + 600_000).listChangedSince('contact', first[0].until!, cursor));
    expect(new Set(ids(next.flatMap((p) => p.records)))).toEqual(new Set(late.map((c) => c.id)));
  });

  it('reports records archived inside the window as deleted, and not those archived before it', async () => {
    const [keep, goneBefore, goneInside] = createContacts(3, t0 - 3_600_000, 'arch');
    sim.state.store.archive('contacts', goneBefore.id, user(), t0 - 1_000);
    sim.state.store.archive('contacts', goneInside.id, user(), t0 + 5_000);
    const records = (await allPages((cursor) => listing(t0 + 600_000).listChangedSince('contact', new Date(t0).toISOString(), cursor)))
      .flatMap((p) => p.records);
    expect(records).toEqual([expect.objectContaining({ remoteId: goneInside.id, archived: true, remoteUpdatedAt: new Date(t0 + 5_000).toISOString() })]);
    expect(ids(records)).not.toContain(keep.id);
  });

  it('moves from the live phase to the archived one and then ends', async () => {
    createContacts(1, t0 + 1_000, 'phase');
    const first = await listing(t0 + 600_000).listChangedSince('contact', new Date(t0).toISOString(), null);
    expect(decodeCursor(first.nextCursor!)).toMatchObject({ phase: 'archived', after: null });
    const second = await listing(t0 + 600_000).listChangedSince('contact', new Date(t0).toISOString(), first.nextCursor);
    expect(second.nextCursor).toBeNull();
  });

  it('refuses a since that is not a time', async () => {
    await expect(listing(t0).listChangedSince('contact', 'yesterday', null)).rejects.toThrow(/ISO 8601/);
  });
});

describe('eraseContacts', () => {
  it('purges each person from HubSpot and treats one already gone as erased', async () => {
    const [ann] = createContacts(1, Date.now(), 'erase');
    const results = await adapter().eraseContacts([ann.id, '999999999']);
    expect(results).toEqual([{ remoteId: ann.id, ok: true }, { remoteId: '999999999', ok: true }]);
    expect(sim.state.store.get('contacts', ann.id, { includeArchived: true })).toBeUndefined();
  });
});
