// Inbound apply with an in-memory database: how a new remote record finds
// the local record it belongs to before one is created.
import { describe, expect, it } from 'vitest';
import type { RemoteRecord } from '../model/unified.ts';
import type { OutboundState } from './plan-outbound.ts';
import type { CrmAdapter, InboundWork } from '../providers/adapter.ts';
import { applyRecords, type InboundStats, syncInbound } from './inbound.ts';
import type { InboundChange } from './resolve-inbound.ts';
import type { SyncDb } from './sync-db.ts';

const CONNECTION = 'c1c1c1c1-0000-4000-8000-000000000001';
const L1 = '11111111-0000-4000-8000-000000000001';
const updatedAt = new Date('2026-11-01T10:00:00Z');

const deal = (remoteId: string, localId?: string): RemoteRecord => ({
  entityType: 'deal', remoteId, remoteUpdatedAt: '2026-11-01T10:00:01.000Z', archived: false,
  fields: { name: 'Deal', amount: 100 }, references: {}, unmapped: [], ...(localId ? { localId } : {}),
});

function fakeDb(locals: OutboundState[], mapped: Record<string, unknown>[] = []) {
  const applied: InboundChange[] = [];
  const db = {
    applied,
    async connection() { return { id: CONNECTION, tenant_id: 't1', provider: 'hubspot' }; },
    async loadConflictStrategies() { return []; },
    async heldConflictFields() { return new Map(); },
    async loadInboundState(_c: string, _e: string, remoteIds: string[]) {
      return remoteIds.map((remote_id) => mapped.find((m) => m.remote_id === remote_id) ??
        ({ remote_id, local_id: null, remote_updated_at: null, base: {}, base_references: {}, local: null, local_updated_at: null, local_deleted: null }));
    },
    async loadOutboundState(_c: string, _e: string, localIds: string[]) {
      return locals.filter((l) => localIds.includes(l.local_id));
    },
    async matchLocalRecords() { return []; },
    async applyInboundChanges(_c: string, _e: string, changes: InboundChange[]) {
      applied.push(...changes);
      return changes.map((c) => ({ remote_id: c.remote_id, local_id: c.local_id ?? null, outcome: c.local_id ? 'matched' : 'created' }));
    },
    async reportUnmapped() {},
  };
  return db as unknown as SyncDb & { applied: InboundChange[] };
}

const local = (overrides: Partial<OutboundState> & { tenant?: string; deleted?: boolean } = {}): OutboundState => ({
  local_id: L1,
  local: { id: L1, tenant_id: overrides.tenant ?? 't1', name: 'Deal', amount: 100, deleted_at: overrides.deleted ? '2026-11-01T11:00:00Z' : null },
  local_updated_at: updatedAt.toISOString(),
  remote_id: null,
  remote_deleted: false,
  base: {},
  base_references: {},
  local_references: {},
  ...overrides,
});

const stats = (): InboundStats => ({ skipped: 0, fetched: 0, created: 0, updated: 0, deleted: 0, stale: 0, merged: 0, erased: 0, conflicts: 0 });

describe('a new remote record that carries a local id (the engine created it; its result is not recorded yet)', () => {
  it('attaches to that local record instead of creating another', async () => {
    const db = fakeDb([local()]);
    await applyRecords(db, CONNECTION, 'deal', [deal('901', L1)], stats());
    expect(db.applied).toEqual([expect.objectContaining({ remote_id: '901', local_id: L1, expected_local_updated_at: updatedAt.toISOString() })]);
  });

  it.each([
    ['belongs to another tenant', local({ tenant: 't2' })],
    ['is mapped to another remote record', local({ remote_id: '777' })],
    ['is deleted', local({ deleted: true })],
  ])('creates a new record when the named local record %s', async (_what, row) => {
    const db = fakeDb([row]);
    await applyRecords(db, CONNECTION, 'deal', [deal('901', L1)], stats());
    expect(db.applied).toHaveLength(1);
    expect(db.applied[0].local_id).toBeUndefined();
  });

  it('ignores a local id that is no uuid (a value someone typed into the property)', async () => {
    const db = fakeDb([local()]);
    await applyRecords(db, CONNECTION, 'deal', [deal('901', 'not-a-uuid')], stats());
    expect(db.applied[0].local_id).toBeUndefined();
  });
});

describe('a CRM deletion the engine knows already', () => {
  const mappedDeleted = (localDeleted: boolean) => ({
    remote_id: '901', local_id: L1, remote_updated_at: '2026-11-01T10:00:00Z', base: {}, base_references: {},
    local: { id: L1, name: 'Deal', deleted_at: localDeleted ? '2026-11-01T10:00:00Z' : null }, local_updated_at: updatedAt.toISOString(),
    local_deleted: localDeleted, remote_deleted: true,
  });

  it('does not delete the local record restored since (the webhook of the engine\'s own archive, late)', async () => {
    const db = fakeDb([], [mappedDeleted(false)]);
    const counted = stats();
    await applyRecords(db, CONNECTION, 'deal', [{ ...deal('901'), archived: true }], counted);
    expect(db.applied).toEqual([]);
    expect(counted.stale).toBe(1);
  });

  it('applies a deletion the engine did not know of', async () => {
    const db = fakeDb([], [{ ...mappedDeleted(false), remote_deleted: false }]);
    await applyRecords(db, CONNECTION, 'deal', [{ ...deal('901'), archived: true }], stats());
    expect(db.applied).toEqual([expect.objectContaining({ remote_id: '901', deleted: true })]);
  });
});

describe('which events cost a fetch', () => {
  const readAt = Date.parse('2026-11-01T10:00:00.000Z');
  const writtenAt = Date.parse('2026-11-01T10:00:05.000Z');
  const fetched: string[] = [];
  const adapter = (work: InboundWork[]): CrmAdapter => ({
    provider: 'hubspot',
    interpretEvents: () => work,
    fetchRecords: async (_e, ids) => { fetched.push(...ids); return []; },
    createRecords: async () => [], updateRecords: async () => [], archiveRecords: async () => [], mergeRecords: async () => [],
  });
  const db = {
    async loadInboundState(_c: string, _e: string, remoteIds: string[]) {
      return remoteIds.map((remote_id) => ({
        remote_id, local_id: L1, remote_updated_at: new Date(readAt).toISOString(), remote_written_at: new Date(writtenAt).toISOString(),
        base: {}, base_references: {}, local: null, local_updated_at: null, local_deleted: false,
      }));
    },
  } as unknown as SyncDb;
  const fetchEvent = (remoteId: string, occurredAt: number): InboundWork => ({ kind: 'fetch', entityType: 'deal', remoteId, occurredAt });

  it.each([
    ['the echo of the engine\'s own write (exactly its time)', [writtenAt], false],
    ['an event no newer than the version read', [readAt - 5, readAt], false],
    ['a CRM edit made just before the engine\'s write (on a field the write did not touch)', [writtenAt - 2_000], true],
    ['that edit arriving together with the echo', [writtenAt, writtenAt - 2_000], true],
    ['a change after the write', [writtenAt + 1], true],
  ])('%s', async (_what, times, expected) => {
    fetched.length = 0;
    const stats = await syncInbound(db as never, adapter(times.map((t) => fetchEvent('901', t))), CONNECTION, []);
    expect(fetched).toEqual(expected ? ['901'] : []);
    expect(stats.skipped).toBe(expected ? 0 : 1);
  });
});

describe('a restored record (its associations came back without events of the records on their other end)', () => {
  const restoredAt = Date.parse('2026-11-01T10:00:09.000Z');
  const fetched: string[] = [];
  const asked: string[][] = [];
  const db = {
    async loadInboundState(_c: string, entityType: string, remoteIds: string[]) {
      return remoteIds.map((remote_id) => ({
        remote_id, local_id: L1, remote_updated_at: '2026-11-01T10:00:00.000Z', base: {}, base_references: {}, local: null,
        local_updated_at: null, local_deleted: false, entityType,
      }));
    },
  } as unknown as SyncDb;
  const adapter = (work: InboundWork[], withReferrers: boolean): CrmAdapter => ({
    provider: 'hubspot',
    interpretEvents: () => work,
    fetchRecords: async (entityType, ids) => { fetched.push(...ids.map((id) => `${entityType}:${id}`)); return []; },
    createRecords: async () => [], updateRecords: async () => [], archiveRecords: async () => [], mergeRecords: async () => [],
    ...(withReferrers ? {
      referrers: async (_e: string, ids: string[]) => {
        asked.push(ids);
        return [{ entityType: 'contact' as const, remoteId: '51' }, { entityType: 'deal' as const, remoteId: '61' }];
      },
    } : {}),
  } as CrmAdapter);

  it('reads again the records that reference it, after it', async () => {
    fetched.length = 0;
    asked.length = 0;
    const work: InboundWork[] = [
      { kind: 'fetch', entityType: 'company', remoteId: '41', occurredAt: restoredAt, restored: true },
      { kind: 'fetch', entityType: 'company', remoteId: '42', occurredAt: restoredAt },
    ];
    await syncInbound(db as never, adapter(work, true), CONNECTION, []);
    expect(asked).toEqual([['41']]);
    expect(fetched).toEqual(['company:41', 'company:42', 'contact:51', 'deal:61']);
  });

  it('applies a referrer read again as of the restore, so the version already applied does not make it stale', async () => {
    const applied: InboundChange[] = [];
    const contactDb = {
      async connection() { return { id: CONNECTION, tenant_id: 't1', provider: 'hubspot' }; },
      async loadConflictStrategies() { return []; },
      async heldConflictFields() { return new Map(); },
      async matchLocalRecords() { return []; },
      async reportUnmapped() {},
      async queueOutbound() {},
      async loadInboundState(_c: string, _e: string, remoteIds: string[]) {
        return remoteIds.map((remote_id) => ({
          remote_id, local_id: L1, remote_updated_at: '2026-11-01T10:00:00.000Z', base: { email: 'a@x.io' }, base_references: { company: null },
          local: { email: 'a@x.io', company_id: null }, local_updated_at: '2026-11-01T09:00:00.000Z', local_deleted: false,
        }));
      },
      async applyInboundChanges(_c: string, _e: string, changes: InboundChange[]) {
        applied.push(...changes);
        return changes.map((c) => ({ remote_id: c.remote_id, local_id: L1, outcome: 'updated' }));
      },
    } as unknown as SyncDb;
    const contact: RemoteRecord = {
      entityType: 'contact', remoteId: '51', remoteUpdatedAt: '2026-11-01T10:00:00.000Z', archived: false, fields: { email: 'a@x.io' },
      references: { company: '41' }, unmapped: [],
    };
    const crm = {
      provider: 'hubspot',
      interpretEvents: () => [{ kind: 'fetch', entityType: 'company', remoteId: '41', occurredAt: restoredAt, restored: true }],
      fetchRecords: async (entityType: string) => entityType === 'contact' ? [contact] : [],
      referrers: async () => [{ entityType: 'contact' as const, remoteId: '51' }],
    } as unknown as CrmAdapter;
    await syncInbound(contactDb as never, crm, CONNECTION, []);
    expect(applied).toEqual([expect.objectContaining({
      remote_id: '51', remote_updated_at: new Date(restoredAt).toISOString(), references: { company: '41' },
    })]);
  });

  it('asks nothing more of a CRM without that need, nor for records that were not restored', async () => {
    fetched.length = 0;
    asked.length = 0;
    await syncInbound(db as never, adapter([{ kind: 'fetch', entityType: 'company', remoteId: '41', occurredAt: restoredAt, restored: true }], false),
      CONNECTION, []);
    expect(fetched).toEqual(['company:41']);
    await syncInbound(db as never, adapter([{ kind: 'fetch', entityType: 'company', remoteId: '42', occurredAt: restoredAt }], true), CONNECTION, []);
    expect(asked).toEqual([]);
  });
});

describe('an edit the engine\'s own write overwrote (a Pipedrive name written whole)', () => {
  const writtenAt = Date.parse('2026-11-01T10:00:05.000Z');
  const base = { first_name: 'Ann', last_name: 'Baker' };
  // The engine was asked for first_name Xia, read "Ann Baker", wrote "Xia Baker"; a user had made it "Ann Cole" in between.
  const echo: InboundWork = {
    kind: 'fetch', entityType: 'contact', remoteId: '12', occurredAt: writtenAt,
    ownWrite: { before: { first_name: 'Ann', last_name: 'Cole' }, after: { first_name: 'Xia', last_name: 'Baker' } },
  };
  const person = (fields: Record<string, unknown>): RemoteRecord => ({
    entityType: 'contact', remoteId: '12', remoteUpdatedAt: '2026-11-01T10:00:06.000Z', modifiedAt: new Date(writtenAt).toISOString(),
    archived: false, fields, references: {}, unmapped: [],
  });

  function setup(row: Record<string, unknown>, holds: Record<string, unknown> = { first_name: 'Xia', last_name: 'Baker' }) {
    const fetched: string[] = [];
    const queued: Record<string, unknown>[] = [];
    const applied: InboundChange[] = [];
    const state = {
      remote_id: '12', local_id: L1, remote_updated_at: new Date(writtenAt).toISOString(), remote_written_at: new Date(writtenAt).toISOString(),
      base: { first_name: 'Xia', last_name: 'Baker' }, base_references: {},
      local: { id: L1, first_name: 'Xia', last_name: 'Baker' }, local_updated_at: '2026-11-01T10:00:00.000Z', local_deleted: false,
      written_fields: ['first_name'], pending_write: null, ...row,
    };
    const db = {
      async connection() { return { id: CONNECTION, tenant_id: 't1', provider: 'pipedrive' }; },
      async loadConflictStrategies() { return []; },
      async heldConflictFields() { return new Map(); },
      async loadInboundState() { return [state]; },
      async matchLocalRecords() { return []; },
      async applyInboundChanges(_c: string, _e: string, changes: InboundChange[]) {
        applied.push(...changes);
        return changes.map((c) => ({ remote_id: c.remote_id, local_id: L1, outcome: 'updated' }));
      },
      async queueOutbound(messages: Record<string, unknown>[]) { queued.push(...messages); },
      async reportUnmapped() {},
    };
    const adapter: CrmAdapter = {
      provider: 'pipedrive',
      interpretEvents: (events) => events as InboundWork[],
      fetchRecords: async (_e, ids) => { fetched.push(...ids); return [person(holds)]; },
      createRecords: async () => [], updateRecords: async () => [], archiveRecords: async () => [], mergeRecords: async () => [],
    } as unknown as CrmAdapter;
    return { db: db as unknown as SyncDb, adapter, fetched, queued, applied };
  }

  it('restores the edit locally, keeps the shadow at what Pipedrive holds, and writes Pipedrive again', async () => {
    const { db, adapter, fetched, queued, applied } = setup({});
    await syncInbound(db as never, adapter, CONNECTION, [echo]);
    expect(fetched).toEqual(['12']);
    expect(applied).toEqual([expect.objectContaining({ set: { last_name: 'Cole' }, base: { first_name: 'Xia', last_name: 'Baker' } })]);
    expect(queued).toEqual([{ connection_id: CONNECTION, entity_type: 'contact', local_id: L1, op: 'upsert' }]);
  });

  it('judges the echo of a write in flight by its pending note', async () => {
    const { db, adapter, applied } = setup({
      remote_written_at: '2026-11-01T09:00:00.000Z', written_fields: ['email'], base, local: { id: L1, ...base, first_name: 'Xia' },
      pending_write: { first_name: ['Xia'] },
    });
    await syncInbound(db as never, adapter, CONNECTION, [echo]);
    expect(applied).toEqual([expect.objectContaining({ set: { last_name: 'Cole' } })]);
  });

  it.each([
    ['the write was asked for both parts', { written_fields: ['first_name', 'last_name'] }],
    ['the echo is of an older write', { remote_written_at: '2026-11-01T10:00:09.000Z' }],
    ['the write\'s fields are not known (a create)', { written_fields: null }],
  ])('leaves the value when %s', async (_what, row) => {
    const { db, adapter, queued, applied } = setup(row);
    await syncInbound(db as never, adapter, CONNECTION, [echo]);
    expect(applied.flatMap((c) => Object.keys(c.set ?? {}))).toEqual([]);
    expect(queued).toEqual([]);
  });

  it('lets a later edit of that part in Pipedrive stand', async () => {
    const { db, adapter, applied, queued } = setup({}, { first_name: 'Xia', last_name: 'Dunn' });
    await syncInbound(db as never, adapter, CONNECTION, [echo]);
    expect(applied).toEqual([expect.objectContaining({ set: { last_name: 'Dunn' }, base: { first_name: 'Xia', last_name: 'Dunn' } })]);
    expect(queued).toEqual([]);
  });
});

describe('a record gone from the CRM whose events carried its last state', () => {
  const lastKnown: RemoteRecord = {
    entityType: 'deal', remoteId: '901', remoteUpdatedAt: '2026-11-01T10:00:02.999Z', modifiedAt: '2026-11-01T10:00:02Z',
    archived: false, fields: { name: 'Renamed', amount: 100 }, references: {}, unmapped: [],
  };
  const gone: RemoteRecord = { ...lastKnown, remoteUpdatedAt: '2026-11-01T10:00:05.000Z', archived: true, fields: {} as never };

  function setup(localId: string | null) {
    const applied: InboundChange[][] = [];
    const db = {
      async connection() { return { id: CONNECTION, tenant_id: 't1', provider: 'pipedrive' }; },
      async loadConflictStrategies() { return []; },
      async heldConflictFields() { return new Map(); },
      async loadInboundState() {
        return [{
          remote_id: '901', local_id: localId, remote_updated_at: localId ? '2026-11-01T10:00:00.000Z' : null, base: { name: 'Deal', amount: 100 },
          base_references: {}, local: localId ? { id: localId, name: 'Deal', amount: 100 } : null,
          local_updated_at: localId ? '2026-11-01T09:00:00.000Z' : null, local_deleted: false,
        }];
      },
      async matchLocalRecords() { return []; },
      async applyInboundChanges(_c: string, _e: string, changes: InboundChange[]) {
        applied.push(changes);
        return changes.map((c) => ({ remote_id: c.remote_id, local_id: localId, outcome: c.deleted ? 'deleted' : 'updated' }));
      },
      async queueOutbound() {},
      async reportUnmapped() {},
    };
    const adapter = {
      provider: 'pipedrive',
      interpretEvents: (events: unknown[]) => events as InboundWork[],
      fetchRecords: async () => [gone],
    } as unknown as CrmAdapter;
    return { db: db as unknown as SyncDb, adapter, applied };
  }
  const events: InboundWork[] = [
    { kind: 'fetch', entityType: 'deal', remoteId: '901', occurredAt: Date.parse('2026-11-01T10:00:02.999Z'), lastKnown: () => lastKnown },
    { kind: 'delete', entityType: 'deal', remoteId: '901', occurredAt: Date.parse('2026-11-01T10:00:04.000Z') },
  ];

  it('applies that state first, then the deletion: an edit made just before it is kept', async () => {
    const { db, adapter, applied } = setup(L1);
    await syncInbound(db as never, adapter, CONNECTION, events);
    expect(applied).toEqual([
      [expect.objectContaining({ remote_id: '901', set: { name: 'Renamed' } })],
      [expect.objectContaining({ remote_id: '901', deleted: true })],
    ]);
  });

  it('dates that state before the read that found the record gone, so the deletion stays the later version', async () => {
    const { db, adapter, applied } = setup(L1);
    const late = { ...lastKnown, remoteUpdatedAt: '2026-11-01T10:00:05.999Z' }; // the end of the deletion's second
    await syncInbound(db as never, adapter, CONNECTION, [{ ...events[0], lastKnown: () => late } as InboundWork, events[1]]);
    expect(applied.map(([c]) => c.remote_updated_at)).toEqual(['2026-11-01T10:00:04.999Z', '2026-11-01T10:00:05.000Z']);
  });

  it('creates nothing for a record never seen here: only the deletion', async () => {
    const { db, adapter, applied } = setup(null);
    await syncInbound(db as never, adapter, CONNECTION, events);
    expect(applied).toEqual([[expect.objectContaining({ remote_id: '901', deleted: true })]]);
  });
});
