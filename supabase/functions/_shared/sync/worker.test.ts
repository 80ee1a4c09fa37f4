// The worker's control flow with an in-memory queue and adapter: which
// messages are deleted, retried, delayed or dead-lettered, and the lease.
import { describe, expect, it } from 'vitest';
import type { CrmAdapter } from '../providers/adapter.ts';
import { ProviderError } from '../providers/adapter.ts';
import type { ConnectionInfo, QueueMessage, QueueName, SyncDb } from './sync-db.ts';
import { runSyncWorker } from './worker.ts';

const C1 = 'c1c1c1c1-0000-4000-8000-000000000001';
const C2 = 'c2c2c2c2-0000-4000-8000-000000000002';
const GONE = '00000000-0000-4000-8000-00000000dead';
const connection: ConnectionInfo = { id: C1, tenant_id: 't1', provider: 'hubspot', account_id: '42', settings: {}, enabled: true, auth_status: 'active' };

function fakeDb(queues: Record<QueueName, QueueMessage[]>, connections: ConnectionInfo[] = [connection]) {
  const calls: string[] = [];
  const db = {
    calls,
    async readQueue(queue: QueueName, _vt: number, limit: number) {
      const taken = queues[queue].splice(0, limit);
      return taken;
    },
    async deleteMessages(queue: QueueName, ids: number[]) { calls.push(`delete ${queue} ${ids.join(',')}`); },
    async delayMessages(queue: QueueName, ids: number[], seconds: number) { calls.push(`delay ${queue} ${ids.join(',')} ${Math.round(seconds)}s`); },
    async failMessages(queue: QueueName, ids: number[], error: string, max?: number) {
      calls.push(`fail ${queue} ${ids.join(',')} ${max === 1 ? 'dead' : 'retry'}: ${error}`);
      return max === 1 ? { retried: 0, dead_lettered: ids.length } : { retried: ids.length, dead_lettered: 0 };
    },
    async pauseConnection(id: string, ms: number) { calls.push(`pause ${id} ${ms}ms`); },
    async markNeedsReauth(id: string, reason: string) { calls.push(`needs_reauth ${id}: ${reason}`); },
    async holdWorkerLease() { calls.push('lease'); },
    async releaseWorkerLease() { calls.push('release'); },
    async connection(id: string) { return connections.find((c) => c.id === id) ?? null; },
    async loadInboundState() { return []; },
    async matchLocalRecords() { return []; },
    async applyInboundChanges() { return []; },
    async reportUnmapped() {},
    async applyRemoteMerge() {},
    async applyRemoteErasure() {},
    async loadOutboundState() { return []; },
    async markOutboundPending() {},
    async recordOutboundResults() {},
    async queueOutbound() {},
    async loadConflictStrategies() { return []; },
    async heldConflictFields() { return new Map(); },
  };
  return db as unknown as SyncDb & { calls: string[] };
}

const inbound = (id: number, connectionId = C1): QueueMessage => ({
  msg_id: id, read_ct: 1, message: { connection_id: connectionId, event: { subscriptionType: 'contact.creation', objectId: id } },
});

function adapter(fetchRecords: CrmAdapter['fetchRecords']): CrmAdapter {
  return {
    provider: 'hubspot',
    interpretEvents: (events) => (events as { objectId: number }[]).map((e) => ({ kind: 'fetch', entityType: 'contact', remoteId: String(e.objectId), occurredAt: 0 })),
    fetchRecords,
    createRecords: async () => [],
    updateRecords: async () => [],
    archiveRecords: async () => [],
    mergeRecords: async () => [],
  };
}

const run = (db: SyncDb, a: CrmAdapter, kicks: string[] = []) =>
  runSyncWorker({ db, adapterFor: async () => a, kickNextRun: async () => { kicks.push('kick'); }, log: () => {} },
    { budgetMs: 20_000, batchSize: 10, visibilitySeconds: 60 });

describe('runSyncWorker', () => {
  it('pauses a connection whose credentials the CRM refuses, keeps its messages and leaves the others running', async () => {
    const other: ConnectionInfo = { ...connection, id: C2, account_id: '43' };
    const db = fakeDb({ crm_inbound: [inbound(1, C1), inbound(2, C2), inbound(3, C1)], crm_outbound: [] }, [connection, other]);
    const refused = adapter(async () => { throw new ProviderError('HubSpot refused the credentials (401)', 'unauthorized'); });
    const report = await runSyncWorker({
      db, adapterFor: async (c) => (c.id === C1 ? refused : adapter(async () => [])), kickNextRun: async () => {}, log: () => {},
    }, { budgetMs: 20_000, batchSize: 10, visibilitySeconds: 60 });
    expect(db.calls).toContain(`needs_reauth ${C1}: HubSpot refused the credentials (401)`);
    expect(db.calls).toContain('delay crm_inbound 1,3 300s');
    expect(db.calls).toContain('delete crm_inbound 2');
    expect(db.calls.filter((c) => c.startsWith('fail'))).toEqual([]);
    expect(report.paused).toEqual([C1]);
  });

  it('leaves the messages of a connection that needs re-authorization waiting', async () => {
    const db = fakeDb({ crm_inbound: [inbound(1)], crm_outbound: [] }, [{ ...connection, auth_status: 'needs_reauth' }]);
    await run(db, adapter(async () => { throw new Error('must not be called'); }));
    expect(db.calls).toContain('delay crm_inbound 1 300s');
    expect(db.calls.some((c) => c.startsWith('delete') || c.startsWith('fail'))).toBe(false);
  });

  it('deletes messages once their work is done and releases the lease', async () => {
    const db = fakeDb({ crm_inbound: [inbound(1), inbound(2)], crm_outbound: [] });
    const report = await run(db, adapter(async () => []));
    expect(db.calls).toContain('delete crm_inbound 1,2');
    expect(db.calls.at(-1)).toBe('release');
    expect(report.batches).toBe(1);
  });

  it('pauses only the rate-limited connection and delays its messages until the pause ends', async () => {
    const other: ConnectionInfo = { ...connection, id: C2, account_id: '43' };
    const db = fakeDb({ crm_inbound: [inbound(1, C1), inbound(2, C2)], crm_outbound: [] }, [connection, other]);
    const limited = adapter(async () => { throw new ProviderError('429', 'rate_limited', 7_000); });
    const fine = adapter(async () => []);
    const report = await runSyncWorker({
      db, adapterFor: async (c) => (c.id === C1 ? limited : fine), kickNextRun: async () => {}, log: () => {},
    }, { budgetMs: 20_000, batchSize: 10, visibilitySeconds: 60 });
    expect(db.calls).toEqual(expect.arrayContaining([`pause ${C1} 7000ms`, 'delay crm_inbound 1 7s', 'delete crm_inbound 2']));
    expect(report.paused).toEqual([C1]);
  });

  it('retries messages with backoff when the CRM is unavailable', async () => {
    const db = fakeDb({ crm_inbound: [inbound(1)], crm_outbound: [] });
    const report = await run(db, adapter(async () => { throw new ProviderError('HubSpot 503', 'unavailable'); }));
    expect(db.calls).toContain('fail crm_inbound 1 retry: HubSpot 503');
    expect(report.retried).toBe(1);
  });

  it('keeps the messages of a disabled connection, and dead-letters those of a deleted one or without one', async () => {
    const disabled: ConnectionInfo = { ...connection, enabled: false };
    const db = fakeDb({ crm_inbound: [inbound(1, C1), inbound(2, GONE), inbound(3, 'not-a-uuid')], crm_outbound: [] }, [disabled]);
    const report = await run(db, adapter(async () => []));
    expect(db.calls).toContain('delay crm_inbound 1 300s');
    expect(db.calls.find((c) => c.startsWith('fail crm_inbound 2 dead'))).toBeDefined();
    expect(db.calls).toContain('fail crm_inbound 3 dead: malformed message: no connection_id');
    expect(report.deadLettered).toBe(2);
  });

  it('does not kick another run when the queues were drained', async () => {
    const messages = Array.from({ length: 10 }, (_, i) => inbound(i + 1));
    const db = fakeDb({ crm_inbound: messages, crm_outbound: [] });
    const kicks: string[] = [];
    const report = await run(db, adapter(async () => []), kicks);
    expect(report.batches).toBe(1);
    expect(report.moreWork).toBe(false);
    expect(kicks).toEqual([]);
  });

  it('kicks the next run when time runs out after a full batch', async () => {
    const messages = Array.from({ length: 25 }, (_, i) => inbound(i + 1));
    const db = fakeDb({ crm_inbound: messages, crm_outbound: [] });
    let clock = 0;
    const kicks: string[] = [];
    const report = await runSyncWorker({
      db,
      adapterFor: async () => adapter(async () => { clock += 8_000; return []; }),
      kickNextRun: async () => { kicks.push('kick'); },
      log: () => {},
      now: () => clock,
    }, { budgetMs: 20_000, batchSize: 10, visibilitySeconds: 60 });
    // 8 s a batch against a 20 s budget that stops starting batches at 13.3 s: two batches run.
    expect(report.batches).toBe(2);
    expect(report.moreWork).toBe(true);
    expect(kicks).toEqual(['kick']);
    expect(messages).toHaveLength(5); // left for the next run
  });

  it('hands over to the next run once it has claimed maxMessages, whatever time is left', async () => {
    const messages = Array.from({ length: 35 }, (_, i) => inbound(i + 1));
    const db = fakeDb({ crm_inbound: messages, crm_outbound: [] });
    const kicks: string[] = [];
    const report = await runSyncWorker({ db, adapterFor: async () => adapter(async () => []), kickNextRun: async () => { kicks.push('kick'); }, log: () => {} },
      { budgetMs: 20_000, maxMessages: 20, batchSize: 10, visibilitySeconds: 60 });
    expect(report.batches).toBe(2);
    expect(report.moreWork).toBe(true);
    expect(kicks).toEqual(['kick']);
    expect(messages).toHaveLength(15); // left for the next run
  });

  it('hands over once it has used its CPU budget, however few messages it claimed', async () => {
    const messages = Array.from({ length: 35 }, (_, i) => inbound(i + 1));
    const db = fakeDb({ crm_inbound: messages, crm_outbound: [] });
    const kicks: string[] = [];
    let cpu = 10_000;
    const report = await runSyncWorker({
      db, adapterFor: async () => adapter(async () => { cpu += 700; return []; }), kickNextRun: async () => { kicks.push('kick'); }, log: () => {},
      cpuMs: () => cpu,
    }, { budgetMs: 20_000, maxMessages: 5_000, batchSize: 10, visibilitySeconds: 60, cpuBudgetMs: 1_500 });
    // 700 ms of CPU a batch: after the third (2,100 ms) no fourth is claimed.
    expect(report.batches).toBe(3);
    expect(report.moreWork).toBe(true);
    expect(kicks).toEqual(['kick']);
    expect(messages).toHaveLength(5);
  });

  it('releases the lease even when the database fails', async () => {
    const db = fakeDb({ crm_inbound: [], crm_outbound: [] });
    db.readQueue = async () => { throw new Error('connection lost'); };
    await expect(run(db, adapter(async () => []))).rejects.toThrow('connection lost');
    expect(db.calls).toEqual(['lease', 'release']);
  });
});
