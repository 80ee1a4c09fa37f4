// The adapter against the Pipedrive simulator in process (the official
// client over HTTP, as in the functions): listing pages, the incremental
// listing that recovers events a webhook ban lost, creates that a lost
// answer cannot double, merges and erasure.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPipedriveSimulator, type PipedriveSimulator } from '../../../../../scripts/simulators/pipedrive/server.ts';
import type { EntityType } from '../../model/unified.ts';
import type { CrmAdapter } from '../adapter.ts';
import { buildValueMaps } from '../hubspot/value-maps.ts';
import { createPipedriveAdapter, type CreateAttempts, versionAt } from './adapter.ts';
import { createPipedriveCaller } from './client.ts';
import { buildPipedriveFieldMap, propertyOfKey } from './field-map.ts';
import { stageValueMaps } from './value-maps.ts';
import { interpretPipedriveEvents } from './webhook-events.ts';

let sim: PipedriveSimulator;
let adapter: CrmAdapter;
const attemptsLog = new Map<string, string>();

async function control(method: string, path: string, body?: unknown) {
  const res = await fetch(`${sim.url}/_sim${path}`, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

/** The engine's ledger of create attempts, in memory (sync.note_create_attempts in production). */
const attempts: CreateAttempts = {
  async note(entityType: EntityType, localIds: string[]) {
    const before = new Map<string, string>();
    for (const id of localIds) {
      const key = `${entityType}:${id}`;
      if (attemptsLog.has(key)) before.set(id, attemptsLog.get(key)!);
      else attemptsLog.set(key, new Date().toISOString());
    }
    return before;
  },
  async forget(entityType: EntityType, localIds: string[]) {
    for (const id of localIds) attemptsLog.delete(`${entityType}:${id}`);
  },
};

beforeAll(async () => {
  sim = await createPipedriveSimulator({ token: 'adapter-test-token', companyId: 4_242_001, rateLimit: { burstLimit: 1_000, dailyBudget: 10_000_000 } });
  const fields = await control('GET', '/fields');
  const fieldMap = buildPipedriveFieldMap([
    { entity_type: 'contact', local_field: 'lead_source', remote_property: propertyOfKey(fields.person.source) },
    { entity_type: 'company', local_field: 'domain', remote_property: propertyOfKey(fields.organization.domain) },
  ]);
  const budget = { take: async () => {}, pause: async () => {} };
  adapter = createPipedriveAdapter(
    createPipedriveCaller({ apiToken: 'adapter-test-token', basePath: sim.url, budget }),
    buildValueMaps(stageValueMaps([{ id: 1, name: 'Qualified', pipeline_id: 1 }])),
    fieldMap,
    attempts,
  );
}, 30_000);
afterAll(async () => {
  await sim?.close();
});

async function listAll(list: (cursor: string | null) => Promise<{ records: { remoteId: string; archived: boolean }[]; nextCursor: string | null }>) {
  const records: { remoteId: string; archived: boolean }[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const page = await list(cursor);
    records.push(...page.records);
    cursor = page.nextCursor;
    pages++;
  } while (cursor && pages < 50);
  return { records, pages };
}

describe('listing', () => {
  it('pages through every live person, 500 a page', async () => {
    await control('POST', '/seed', { entity: 'persons', count: 620 });
    const { records, pages } = await listAll((cursor) => adapter.listRecords('contact', cursor));
    expect(records.length).toBe(620);
    expect(new Set(records.map((r) => r.remoteId)).size).toBe(620);
    expect(pages).toBe(2);
  });

  it('lists activities and then notes, notes with their own ids', async () => {
    await control('POST', '/seed', { entity: 'activities', count: 3 });
    await control('POST', '/seed', { entity: 'notes', count: 2 });
    const { records } = await listAll((cursor) => adapter.listRecords('activity', cursor));
    expect(records.filter((r) => r.remoteId.startsWith('note:')).length).toBe(2);
    expect(records.filter((r) => !r.remoteId.startsWith('note:')).length).toBe(3);
  });

  it('finds the changes a webhook ban lost: changed records, and deleted deals as archived', async () => {
    const deals = await control('POST', '/seed', { entity: 'deals', count: 3 });
    // Pipedrive's times have whole seconds: start the window on the next one.
    const since = new Date(Math.ceil(Date.now() / 1_000) * 1_000).toISOString();
    await new Promise((r) => setTimeout(r, Date.parse(since) - Date.now() + 50));
    // Meanwhile (say, while Pipedrive had banned the webhook): one deal changed, one deleted.
    await control('PATCH', `/objects/deals/${deals.ids[0]}`, { values: { title: 'Changed during the ban' } });
    await control('DELETE', `/objects/deals/${deals.ids[1]}`, {});
    // The window ends at the current whole second (exclusive): list once that second is over.
    await new Promise((r) => setTimeout(r, 1_050 - (Date.now() % 1_000)));
    const { records } = await listAll((cursor) => adapter.listChangedSince('deal', since, cursor));
    expect(records.map((r) => [r.remoteId, r.archived]).sort()).toEqual([[String(deals.ids[0]), false], [String(deals.ids[1]), true]].sort());
  });
});

describe('listing notes by change', () => {
  it('takes a note changed in the first second of the window (inclusive), as the v2 lists do', async () => {
    const start = Math.floor(Date.now() / 1_000) * 1_000 - 5_000;
    const [person] = (await control('GET', '/objects/persons')).results;
    await control('PUT', '/clock', { freezeAt: start - 1_000 });
    const before = await control('POST', '/objects/notes', { values: { content: 'Before the window', person_id: person.id } });
    await control('PUT', '/clock', { freezeAt: start });
    const first = await control('POST', '/objects/notes', { values: { content: 'First second of the window', person_id: person.id } });
    await control('PUT', '/clock', { freezeAt: null });
    const since = new Date(start).toISOString();
    const { records } = await listAll((cursor) => adapter.listChangedSince('activity', since, cursor));
    const notes = records.map((r) => r.remoteId).filter((id) => id.startsWith('note:'));
    expect(notes).toContain(`note:${first.id}`);
    expect(notes).not.toContain(`note:${before.id}`);
  });
});

describe('writes', () => {
  it('a create whose answer was lost is found on retry, not made twice', async () => {
    await control('POST', '/faults', { mode: 'error', count: 1, pathPrefix: '/api/v2/persons', method: 'POST', status: 502, applyFirst: true });
    const input = { localId: '6f1c3b0e-2d4a-4e8b-9c1d-000000000001', fields: { email: 'once@x.example', first_name: 'Once' }, references: {} };
    const first = await adapter.createRecords('contact', [input]).catch((e) => e);
    expect(first).toMatchObject({ kind: 'unavailable' });
    const [retry] = await adapter.createRecords('contact', [input]);
    expect(retry.ok).toBe(true);
    const persons = (await control('GET', '/objects/persons')).results.filter((p: any) => p.data.emails?.[0]?.value === 'once@x.example');
    expect(persons.length).toBe(1);
    expect(retry.ok && retry.remoteId).toBe(String(persons[0].id));
    expect(attemptsLog.size).toBe(0);
  });

  it('a person whose create answer was lost is found on retry by its email, though its name was edited meanwhile', async () => {
    await control('POST', '/faults', { mode: 'error', count: 1, pathPrefix: '/api/v2/persons', method: 'POST', status: 502, applyFirst: true });
    const input = { localId: '6f1c3b0e-2d4a-4e8b-9c1d-000000000002', fields: { email: 'renamed@x.example', first_name: 'Before' }, references: {} };
    expect(await adapter.createRecords('contact', [input]).catch((e) => e)).toMatchObject({ kind: 'unavailable' });
    const [retry] = await adapter.createRecords('contact', [{ ...input, fields: { ...input.fields, first_name: 'After' } }]);
    const persons = (await control('GET', '/objects/persons')).results.filter((p: any) => p.data.emails?.[0]?.value === 'renamed@x.example');
    expect(persons.length).toBe(1);
    expect(retry.ok && retry.remoteId).toBe(String(persons[0].id));
    expect(persons[0].data.first_name).toBe('After');
  });

  it('a 429 in the middle of a batch keeps what was written and leaves the rest for a retry; a bad id fails alone', async () => {
    await control('POST', '/faults', { mode: 'rate-limit', count: 1, pathPrefix: '/api/v2/organizations', method: 'POST' });
    const inputs = [7, 8, 9].map((n) => ({ localId: `6f1c3b0e-2d4a-4e8b-9c1d-00000000000${n}`, fields: { name: `Batch Org ${n}` }, references: {} }));
    const results = await adapter.createRecords('company', inputs);
    expect(results.filter((r) => r.ok).length).toBe(2);
    expect(results.filter((r) => !r.ok).map((r) => !r.ok && r.retryable)).toEqual([true]);
    const updates = await adapter.updateRecords('company', [
      { localId: inputs[0].localId, remoteId: 'not-an-id', fields: { name: 'X' }, references: {}, baseReferences: {} },
    ]);
    expect(updates).toEqual([expect.objectContaining({ ok: false, retryable: false })]);
  });

  it('creates, updates (PATCH), reads back and archives a deal with its references', async () => {
    const [org] = await adapter.createRecords('company', [{ localId: '6f1c3b0e-2d4a-4e8b-9c1d-000000000002', fields: { name: 'Hooli', domain: 'hooli.example' }, references: {} }]);
    expect(org.ok).toBe(true);
    const orgId = org.ok ? org.remoteId : '';
    const [deal] = await adapter.createRecords('deal', [{ localId: '6f1c3b0e-2d4a-4e8b-9c1d-000000000003', fields: { name: 'Nucleus', amount: 50, stage: 'qualified' }, references: { company: orgId } }]);
    const dealId = deal.ok ? deal.remoteId : '';
    const [updated] = await adapter.updateRecords('deal', [{ localId: '6f1c3b0e-2d4a-4e8b-9c1d-000000000003', remoteId: dealId, fields: { amount: 75 }, references: {}, baseReferences: { company: orgId } }]);
    expect(updated.ok).toBe(true);
    const [read] = await adapter.fetchRecords('deal', [dealId]);
    expect(read).toMatchObject({ archived: false, fields: { name: 'Nucleus', amount: 75, stage: 'qualified' }, references: { company: orgId } });
    const [company] = await adapter.fetchRecords('company', [orgId]);
    expect(company.fields).toMatchObject({ name: 'Hooli', domain: 'hooli.example' });
    await adapter.archiveRecords('deal', [{ localId: '6f1c3b0e-2d4a-4e8b-9c1d-000000000003', remoteId: dealId }]);
    expect((await adapter.fetchRecords('deal', [dealId]))[0].archived).toBe(true);
  });

  it('merges persons with v1 (merge_with_id survives) and erases a person', async () => {
    const made = await adapter.createRecords('contact', [
      { localId: '6f1c3b0e-2d4a-4e8b-9c1d-000000000004', fields: { email: 'keep@x.example', first_name: 'Keep' }, references: {} },
      { localId: '6f1c3b0e-2d4a-4e8b-9c1d-000000000005', fields: { email: 'fold@x.example', first_name: 'Fold' }, references: {} },
    ]);
    const [keep, fold] = made.map((r) => (r.ok ? r.remoteId : ''));
    const [merged] = await adapter.mergeRecords('contact', [{ survivorLocalId: '6f1c3b0e-2d4a-4e8b-9c1d-000000000004', survivorRemoteId: keep, mergedRemoteId: fold }]);
    expect(merged.ok).toBe(true);
    const [survivor, gone] = await adapter.fetchRecords('contact', [keep, fold]);
    expect(survivor.archived).toBe(false);
    expect(gone.archived).toBe(true);
    expect(await adapter.eraseContacts([keep])).toEqual([{ remoteId: keep, ok: true }]);
    expect((await adapter.fetchRecords('contact', [keep]))[0].archived).toBe(true);
  });
});

describe('names', () => {
  it('a change of one name part keeps the other as Pipedrive has it, not the shadow (a user edit not taken in yet survives)', async () => {
    const [made] = await adapter.createRecords('contact', [
      { localId: '6f1c3b0e-2d4a-4e8b-9c1d-000000000020', fields: { email: 'parts@x.example', first_name: 'Ann', last_name: 'Archer' }, references: {} },
    ]);
    if (!made.ok) throw new Error('create failed');
    // A user renames the person; its webhook has not reached the engine, so the shadow still says Archer.
    await control('PATCH', `/objects/persons/${made.remoteId}`, { values: { name: 'Ann Baker' } });
    const [updated] = await adapter.updateRecords('contact', [{
      localId: made.localId, remoteId: made.remoteId, fields: { first_name: 'Anna' },
      base: { email: 'parts@x.example', first_name: 'Ann', last_name: 'Archer' }, references: {}, baseReferences: {},
    }]);
    expect(updated).toMatchObject({ ok: true, written: { first_name: 'Anna' } });
    const person = await control('GET', `/objects/persons/${made.remoteId}`);
    expect(person.data).toMatchObject({ name: 'Anna Baker', first_name: 'Anna', last_name: 'Baker' });
  });

  it('reads the name and writes it back to back: the budget for both is taken at once, before the read', async () => {
    const [made] = await adapter.createRecords('contact', [
      { localId: '6f1c3b0e-2d4a-4e8b-9c1d-000000000021', fields: { email: 'pair@x.example', first_name: 'Pia', last_name: 'Pair' }, references: {} },
    ]);
    if (!made.ok) throw new Error('create failed');
    const steps: string[] = [];
    const budget = {
      take: async () => {},
      takeForCall: async () => { steps.push('grant'); return { answered: async () => { steps.push('answered'); } }; },
      takeForCalls: async (tokens: number[]) => {
        steps.push(`grant ${tokens.length} together`);
        return tokens.map(() => ({ answered: async () => { steps.push('answered'); } }));
      },
      pause: async () => {},
    };
    const fetchLogged: typeof fetch = (input, init) => {
      steps.push(`${init?.method} ${new URL(String(input)).pathname}`);
      return fetch(input, init);
    };
    const paired = createPipedriveAdapter(
      createPipedriveCaller({ apiToken: 'adapter-test-token', basePath: sim.url, budget, fetch: fetchLogged }),
      buildValueMaps([]), buildPipedriveFieldMap([]), attempts,
    );
    const [updated] = await paired.updateRecords('contact', [{
      localId: made.localId, remoteId: made.remoteId, fields: { last_name: 'Paired' },
      base: { email: 'pair@x.example', first_name: 'Pia', last_name: 'Pair' }, references: {}, baseReferences: {},
    }]);
    expect(updated).toMatchObject({ ok: true });
    const id = made.remoteId.split(':').at(-1);
    expect(steps).toEqual(['grant 2 together', 'GET /api/v2/persons', 'answered', `PATCH /api/v2/persons/${id}`, 'answered']);
  });
});

describe('versionAt', () => {
  it('dates a state read or written within a second after its whole-second update_time at the request', () => {
    expect(versionAt('2026-11-25T10:00:00.000Z', '2026-11-25T10:00:00.420Z')).toBe('2026-11-25T10:00:00.420Z');
    expect(versionAt('2026-11-25T10:00:01.000Z', '2026-11-25T10:00:00.990Z')).toBe('2026-11-25T10:00:01.000Z');
  });
});

describe('write versions', () => {
  it('a write is dated exactly at its webhook echo\'s time (the echo costs no fetch)', async () => {
    const [made] = await adapter.createRecords('contact', [
      { localId: '6f1c3b0e-2d4a-4e8b-9c1d-000000000010', fields: { email: 'echo@x.example', first_name: 'Echo' }, references: {} },
    ]);
    if (!made.ok) throw new Error('create failed');
    const [updated] = await adapter.updateRecords('contact', [
      { localId: made.localId, remoteId: made.remoteId, fields: { first_name: 'Echoed' }, base: { first_name: 'Echo' }, references: {}, baseReferences: {} },
    ]);
    if (!updated.ok) throw new Error('update failed');
    const res = await fetch(`${sim.url}/api/v2/persons/${made.remoteId}`, { headers: { 'x-api-token': 'adapter-test-token' } });
    const { data } = await res.json();
    // The echo of the engine's own change: change_source "api" by the webhook's owner.
    const [echo] = interpretPipedriveEvents([{
      meta: { action: 'change', entity: 'person', entity_id: made.remoteId, change_source: 'api', user_id: '1', webhook_owner_id: '1' },
      data,
    }]);
    expect(echo.occurredAt).toBe(Date.parse(updated.remoteUpdatedAt));
    expect(Date.parse(made.remoteUpdatedAt)).toBeLessThanOrEqual(echo.occurredAt);
  });

  it('a read is versioned no earlier than the read, and keeps the update_time as when the record was last modified', async () => {
    const [made] = await adapter.createRecords('contact', [
      { localId: '6f1c3b0e-2d4a-4e8b-9c1d-000000000011', fields: { email: 'read@x.example', first_name: 'Read' }, references: {} },
    ]);
    if (!made.ok) throw new Error('create failed');
    const readAt = Date.now();
    const [read] = await adapter.fetchRecords('contact', [made.remoteId]);
    // Nothing changed since the engine's write: last modified exactly then (identity_map.remote_written_at).
    expect(read.modifiedAt).toBe(made.remoteUpdatedAt);
    expect(Date.parse(read.remoteUpdatedAt)).toBeGreaterThanOrEqual(readAt);
  });
});
