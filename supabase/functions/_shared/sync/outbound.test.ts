// Outbound writes with an in-memory database and adapter: a record that
// changed while it was being written is queued again.
import { describe, expect, it } from 'vitest';
import type { CrmAdapter } from '../providers/adapter.ts';
import type { OutboundState } from './plan-outbound.ts';
import { syncOutbound } from './outbound.ts';
import type { SyncDb } from './sync-db.ts';

const CONNECTION = 'c1c1c1c1-0000-4000-8000-000000000001';
const L1 = '11111111-0000-4000-8000-000000000001';
const L2 = '11111111-0000-4000-8000-000000000002';

const row = (localId: string, updatedAt: string): OutboundState => ({
  local_id: localId,
  local: { id: localId, name: `Deal ${localId.slice(-1)}`, deleted_at: null },
  local_updated_at: updatedAt,
  remote_id: null,
  remote_deleted: false,
  base: {},
  base_references: {},
  local_references: { company: null, contact: null },
});

function fakeDb(loads: OutboundState[][]) {
  const queued: Record<string, unknown>[] = [];
  const db = {
    queued,
    async loadOutboundState() { return loads.shift() ?? []; },
    async recordOutboundResults() {},
    async reportUnmapped() {},
    merged: [] as string[],
    async recordRemoteMerge(_c: string, _e: string, mergedRemoteId: string) { db.merged.push(mergedRemoteId); },
    async queueOutbound(messages: Record<string, unknown>[]) { queued.push(...messages); },
    async heldConflictFields() { return new Map(); },
    async loadConflictStrategies() { return []; },
  };
  return db as unknown as SyncDb & { queued: Record<string, unknown>[]; merged: string[] };
}

const adapter: CrmAdapter = {
  provider: 'hubspot',
  interpretEvents: () => [],
  fetchRecords: async () => [],
  createRecords: async (_e, inputs) => inputs.map((i, n) => ({
    localId: i.localId, ok: true, remoteId: String(900 + n), remoteUpdatedAt: '2026-11-01T10:00:05.000Z',
    written: i.fields, references: i.references, unmapped: [],
  })),
  updateRecords: async () => [],
  archiveRecords: async () => [],
  mergeRecords: async (_e, inputs) => inputs.map((i) => ({ survivorLocalId: i.survivorLocalId, mergedRemoteId: i.mergedRemoteId, ok: true })),
};

const message = (id: number, localId: string) => ({
  msg_id: id, read_ct: 1, message: { connection_id: CONNECTION, entity_type: 'deal' as const, local_id: localId, op: 'upsert' as const },
});

describe('syncOutbound', () => {
  it('queues again a record that changed while it was written, and only that one', async () => {
    const before = [row(L1, '2026-11-01T10:00:00.000Z'), row(L2, '2026-11-01T10:00:00.000Z')];
    const after = [row(L1, '2026-11-01T10:00:03.000Z'), row(L2, '2026-11-01T10:00:00.000Z')];
    const db = fakeDb([before, after]);
    const outcome = await syncOutbound(db, adapter, CONNECTION, [message(1, L1), message(2, L2)]);
    expect(outcome.stats.created).toBe(2);
    expect(outcome.done.sort()).toEqual([1, 2]);
    expect(db.queued).toEqual([{ connection_id: CONNECTION, entity_type: 'deal', local_id: L1, op: 'upsert' }]);
  });

  it('queues nothing when no record changed meanwhile', async () => {
    const rows = [row(L1, '2026-11-01T10:00:00.000Z')];
    const db = fakeDb([rows, rows]);
    await syncOutbound(db, adapter, CONNECTION, [message(1, L1)]);
    expect(db.queued).toEqual([]);
  });

  it('merges in the CRM a local merge of two mapped records, then forgets the merged remote id', async () => {
    const mapped = (localId: string, remoteId: string, deleted: boolean): OutboundState => ({
      ...row(localId, '2026-11-01T10:00:00.000Z'), remote_id: remoteId, remote_deleted: deleted,
    });
    const db = fakeDb([[mapped(L1, '501', false), mapped(L2, '502', true)]]);
    const calls: unknown[] = [];
    const merging: CrmAdapter = { ...adapter, mergeRecords: async (e, inputs) => { calls.push([e, inputs]); return adapter.mergeRecords(e, inputs); } };
    const merge = (id: number) => ({
      msg_id: id, read_ct: 1,
      message: { connection_id: CONNECTION, entity_type: 'deal' as const, local_id: L1, merged_local_id: L2, op: 'merge' as const },
    });
    const outcome = await syncOutbound(db, merging, CONNECTION, [merge(7), merge(8)]);
    expect(calls).toEqual([['deal', [{ survivorLocalId: L1, survivorRemoteId: '501', mergedRemoteId: '502' }]]]);
    expect(db.merged).toEqual(['502']);
    expect(outcome.stats.merged).toBe(1);
    expect(outcome.done.sort()).toEqual([7, 8]);
  });

  it('a merge whose merged record is no longer mapped needs nothing', async () => {
    const db = fakeDb([[{ ...row(L1, '2026-11-01T10:00:00.000Z'), remote_id: '501' }, row(L2, '2026-11-01T10:00:00.000Z')]]);
    const outcome = await syncOutbound(db, adapter, CONNECTION, [{
      msg_id: 9, read_ct: 1,
      message: { connection_id: CONNECTION, entity_type: 'deal' as const, local_id: L1, merged_local_id: L2, op: 'merge' as const },
    }]);
    expect(db.merged).toEqual([]);
    expect(outcome.done).toEqual([9]);
  });
});
