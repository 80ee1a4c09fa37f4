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

function fakeDb(loads: OutboundState[][], mapped: { local_id: string; remote_id: string }[] = []) {
  const queued: Record<string, unknown>[] = [];
  const db = {
    queued,
    recorded: [] as { local_id: string; remote_id: string }[],
    pending: [] as { local_id: string; fields: Record<string, unknown> }[],
    async loadOutboundState() { return loads.shift() ?? []; },
    async markOutboundPending(_c: string, _e: string, writes: { local_id: string; fields: Record<string, unknown> }[]) { db.pending.push(...writes); },
    async recordOutboundResults(_c: string, _e: string, results: { local_id: string; remote_id: string }[]) { db.recorded.push(...results); },
    async remoteIdsOfLocal() { return mapped; },
    async reportUnmapped() {},
    merged: [] as string[],
    async recordRemoteMerge(_c: string, _e: string, mergedRemoteId: string) { db.merged.push(mergedRemoteId); },
    async queueOutbound(messages: Record<string, unknown>[]) { queued.push(...messages); },
    async heldConflictFields() { return new Map(); },
    async loadConflictStrategies() { return []; },
  };
  return db as unknown as SyncDb & {
    queued: Record<string, unknown>[]; merged: string[]; recorded: { local_id: string; remote_id: string }[];
    pending: { local_id: string; fields: Record<string, unknown> }[];
  };
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

  it('removes from the CRM a record created while another run mapped it, and compares it again with the mapped one', async () => {
    const rows = [row(L1, '2026-11-01T10:00:00.000Z'), row(L2, '2026-11-01T10:00:00.000Z')];
    const db = fakeDb([rows, rows], [{ local_id: L1, remote_id: '777' }]);
    const archived: unknown[] = [];
    const outcome = await syncOutbound(db, { ...adapter, archiveRecords: async (_e, inputs) => {
      archived.push(...inputs);
      return [];
    } }, CONNECTION, [message(1, L1), message(2, L2)]);
    expect(archived).toEqual([{ localId: L1, remoteId: '900' }]);
    expect(db.recorded.map((r) => [r.local_id, r.remote_id])).toEqual([[L2, '901']]);
    expect(outcome.stats.created).toBe(1);
    expect(outcome.done.sort()).toEqual([1, 2]);
    expect(db.queued).toEqual([{ connection_id: CONNECTION, entity_type: 'deal', local_id: L1, op: 'upsert' }]);
  });

  it('records a record created anew in place of one the CRM deleted, not as a copy', async () => {
    const restored = [{ ...row(L1, '2026-11-01T10:00:00.000Z'), remote_id: '555', remote_deleted: true }];
    const db = fakeDb([restored, restored], [{ local_id: L1, remote_id: '555' }]);
    const outcome = await syncOutbound(db, adapter, CONNECTION, [message(1, L1)]);
    expect(db.recorded.map((r) => [r.local_id, r.remote_id])).toEqual([[L1, '900']]);
    expect(outcome.stats.created).toBe(1);
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

  describe('reading the CRM before a write', () => {
    const mapped = (name: string): OutboundState => ({
      ...row(L1, '2026-11-01T10:00:00.000Z'), local: { id: L1, name, deleted_at: null }, remote_id: '501', base: { name: 'Base' },
    });
    const remoteDeal = (name: string) => ({
      entityType: 'deal' as const, remoteId: '501', remoteUpdatedAt: '2026-11-01T10:00:02.000Z', archived: false,
      fields: { name }, references: {}, unmapped: [],
    });

    function guardedDb(rules: unknown[], loads: OutboundState[][]) {
      const db = fakeDb(loads) as ReturnType<typeof fakeDb> & Record<string, unknown>;
      const applied: unknown[] = [];
      Object.assign(db, {
        applied,
        async loadConflictStrategies() { return rules; },
        async connection() { return { id: CONNECTION, tenant_id: 't1', provider: 'hubspot' }; },
        async loadInboundState() {
          return [{ remote_id: '501', local_id: L1, remote_updated_at: '2026-11-01T09:00:00.000Z', base: { name: 'Base' }, base_references: {},
                    local: { id: L1, name: 'Local' }, local_updated_at: '2026-11-01T10:00:00.000Z', local_deleted: false }];
        },
        async matchLocalRecords() { return []; },
        async applyInboundChanges(_c: string, _e: string, changes: unknown[], conflicts: Map<string, unknown[]>) {
          applied.push({ changes, conflicts: [...conflicts.values()].flat() });
          return [{ remote_id: '501', local_id: L1, outcome: 'updated' }];
        },
      });
      return db as typeof db & { applied: { changes: unknown[]; conflicts: { winner: string }[] }[] };
    }

    const writer = (fetched: string) => {
      const updates: unknown[] = [];
      const a: CrmAdapter = {
        ...adapter,
        fetchRecords: async () => [remoteDeal(fetched)],
        updateRecords: async (_e, inputs) => {
          updates.push(...inputs.map((i) => i.fields));
          return inputs.map((i) => ({ localId: i.localId, ok: true, remoteId: i.remoteId, remoteUpdatedAt: '2026-11-01T10:00:03.000Z',
            written: i.fields, references: {}, unmapped: [] }));
        },
      };
      return { adapter: a, updates };
    };

    it('resolves a CRM edit whose webhook has not arrived before writing over it (manual review holds the field)', async () => {
      const db = guardedDb([{ strategy: 'manual_review' }], [[mapped('Local')], [mapped('Local')], [mapped('Local')]]);
      // Held once the conflict is open (sync.record_conflict_decisions did that in the apply).
      db.heldConflictFields = async () => new Map(db.applied.length ? [[L1, ['name']]] : []);
      const { adapter: crm, updates } = writer('Remote');
      await syncOutbound(db, crm, CONNECTION, [message(1, L1)]);
      expect(db.applied).toHaveLength(1);
      expect(db.applied[0].conflicts).toEqual([expect.objectContaining({ field: 'name', winner: 'pending' })]);
      expect(updates).toEqual([]);
    });

    const deleted = (): OutboundState => ({ ...mapped('Base'), local: { id: L1, name: 'Base', deleted_at: '2026-11-01T10:00:00.000Z' } });
    const archiver = (fetched: string) => {
      const archived: unknown[] = [];
      const a: CrmAdapter = {
        ...adapter,
        fetchRecords: async () => [remoteDeal(fetched)],
        archiveRecords: async (_e, inputs) => {
          archived.push(...inputs);
          return inputs.map((i) => ({ localId: i.localId, ok: true, remoteId: i.remoteId, remoteUpdatedAt: '2026-11-01T10:00:03.000Z',
            written: {}, references: {}, unmapped: [] }));
        },
      };
      return { adapter: a, archived };
    };

    it('resolves a CRM edit made after the local delete before deleting the record, whatever the rules', async () => {
      // The edit restores the record (sync.apply_inbound_changes did that in the apply): planned again, nothing is deleted.
      const db = guardedDb([], [[deleted()], [mapped('Remote')]]);
      const { adapter: crm, archived } = archiver('Remote');
      await syncOutbound(db, crm, CONNECTION, [message(1, L1)]);
      expect(db.applied).toHaveLength(1);
      expect(archived).toEqual([]);
    });

    it('deletes at once when the CRM still holds the shadow', async () => {
      const db = guardedDb([], [[deleted()], [deleted()]]);
      const { adapter: crm, archived } = archiver('Base');
      await syncOutbound(db, crm, CONNECTION, [message(1, L1)]);
      expect(db.applied).toEqual([]);
      expect(archived).toEqual([{ localId: L1, remoteId: '501' }]);
    });

    it('writes at once when the CRM still holds the shadow', async () => {
      const db = guardedDb([{ strategy: 'manual_review' }], [[mapped('Local')], [mapped('Local')]]);
      const { adapter: crm, updates } = writer('Base');
      await syncOutbound(db, crm, CONNECTION, [message(1, L1)]);
      expect(db.applied).toEqual([]);
      expect(updates).toEqual([{ name: 'Local' }]);
    });

    it('does not read first under the timestamp rule (the write is the later change)', async () => {
      const db = guardedDb([], [[mapped('Local')], [mapped('Local')]]);
      const { adapter: crm, updates } = writer('Remote');
      const fetch = crm.fetchRecords;
      let reads = 0;
      crm.fetchRecords = async (e, ids) => { reads++; return fetch(e, ids); };
      const update = crm.updateRecords;
      let notedBeforeWrite: unknown[] = [];
      crm.updateRecords = async (e, inputs) => { notedBeforeWrite = [...db.pending]; return update(e, inputs); };
      await syncOutbound(db, crm, CONNECTION, [message(1, L1)]);
      expect(reads).toBe(0);
      expect(updates).toEqual([{ name: 'Local' }]);
      // What is written is noted first: read back before the result is recorded, it is no CRM edit.
      expect(notedBeforeWrite).toEqual([{ local_id: L1, fields: { name: 'Local' } }]);
    });
  });
});
