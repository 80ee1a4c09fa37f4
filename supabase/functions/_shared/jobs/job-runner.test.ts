import { describe, expect, it } from 'vitest';
import type { RemoteRecord } from '../model/unified.ts';
import { type CrmAdapter, ProviderError } from '../providers/adapter.ts';
import { BudgetExhaustedError } from '../sync/rate-budget.ts';
import type { SyncDb } from '../sync/sync-db.ts';
import type { JobDb, JobRow } from './job-db.ts';
import { classify, runJobInvocation } from './job-runner.ts';

describe('classify: how a failure ends a job run', () => {
  it('waits for the rate budget instead of spinning', () => {
    expect(classify(new BudgetExhaustedError(4_000))).toMatchObject({ kind: 'wait', waitMs: 4_000 });
    expect(classify(new ProviderError('429', 'rate_limited', 7_000))).toMatchObject({ kind: 'wait', waitMs: 7_000 });
  });

  it('pauses on a CRM that is down or refuses the credentials, with the message', () => {
    expect(classify(new ProviderError('HubSpot 503: down', 'unavailable'))).toEqual({ kind: 'paused', message: 'HubSpot 503: down' });
    expect(classify(new ProviderError('HubSpot refused', 'unauthorized')).kind).toBe('paused');
  });

  it('stops quietly when the job is no longer this run\'s, and fails on anything else', () => {
    expect(classify(Object.assign(new Error('job is no longer held'), { code: '40001' }))).toEqual({ kind: 'lost' });
    expect(classify(new ProviderError('HubSpot 400', 'invalid'))).toEqual({ kind: 'failed', message: 'HubSpot 400' });
    expect(classify(new TypeError('x is undefined'))).toEqual({ kind: 'failed', message: 'x is undefined' });
  });
});

describe('runJobInvocation: a run of a backfill', () => {
  const connection = { id: 'c1', tenant_id: 't1', provider: 'hubspot', account_id: 'a1', settings: {}, enabled: true, auth_status: 'ok' };
  const record = (remoteId: string): RemoteRecord => ({
    entityType: 'contact', remoteId, remoteUpdatedAt: '2026-03-01T12:00:00.000Z', archived: false,
    fields: { email: `p${remoteId}@x.io` } as RemoteRecord['fields'], references: {}, unmapped: [],
  });

  it('reads the connection and its conflict strategies once, however many pages it applies', async () => {
    const reads = { connection: 0, strategies: 0 };
    const checkpoints: unknown[] = [];
    const db = {
      connection: async () => (reads.connection++, connection),
      loadConflictStrategies: async () => (reads.strategies++, []),
      loadInboundState: async (_c: string, _e: string, ids: string[]) =>
        ids.map((remote_id) => ({ remote_id, local_id: null, base: {}, local: null, local_updated_at: null })),
      matchLocalRecords: async () => [],
      loadOutboundState: async () => [],
      heldConflictFields: async () => new Map(),
      applyInboundChanges: async (_c: string, _e: string, changes: { remote_id: string }[]) =>
        changes.map((c) => ({ remote_id: c.remote_id, local_id: `L${c.remote_id}`, outcome: 'created' })),
      reportUnmapped: async () => {},
      queueOutbound: async () => {},
    } as unknown as SyncDb;
    const job = {
      id: 'j1', connection_id: 'c1', kind: 'backfill', entity_types: ['contact'], options: {}, run_id: 'r1',
      checkpoint: { contact: { cursor: null, done: 0, finished: false } },
    } as unknown as JobRow;
    const jobs = {
      claim: async () => job,
      job: async () => job,
      refreshStatistics: async () => [],
      endRun: async (_job: unknown, outcome: string) => outcome === 'done' ? 'done' : 'running',
      inPage: async (_job: unknown, _e: string, _lease: number, work: (db: SyncDb, tx: unknown) => Promise<{ result: unknown; checkpoint: unknown }>) => {
        const { result, checkpoint } = await work(db, null);
        checkpoints.push(checkpoint);
        return result;
      },
    } as unknown as JobDb;
    const pages: Record<string, { records: RemoteRecord[]; nextCursor: string | null }> = {
      start: { records: [record('1'), record('2')], nextCursor: 'p2' },
      p2: { records: [record('3')], nextCursor: 'p3' },
      p3: { records: [record('4')], nextCursor: null },
    };
    const adapter = { provider: 'hubspot', listRecords: async (_e: string, cursor: string | null) => pages[cursor ?? 'start'] } as unknown as CrmAdapter;

    const report = await runJobInvocation({ jobs, db, adapterFor: async () => adapter, log: () => {} }, 'j1');

    expect(report).toMatchObject({ status: 'done', records: 4, pages: 3 });
    expect(report.inbound?.created).toBe(4);
    expect(checkpoints).toHaveLength(3);
    expect(reads).toEqual({ connection: 1, strategies: 1 });
  });
});

describe('runJobInvocation: a page of a reconciliation', () => {
  const connection = { id: 'c1', tenant_id: 't1', provider: 'hubspot', account_id: 'a1', settings: {}, enabled: true, auth_status: 'ok' };
  const record = (remoteId: string, phone: string): RemoteRecord => ({
    entityType: 'contact', remoteId, remoteUpdatedAt: '2026-03-01T12:00:00.000Z', archived: false,
    fields: { email: `p${remoteId}@x.io`, phone } as RemoteRecord['fields'], references: {}, unmapped: [],
  });
  const local = (remoteId: string, phone: string) => ({ email: `p${remoteId}@x.io`, phone, company_id: null });

  it('loads the full state only of the records whose checksums differ, and stores their drift', async () => {
    const fullStateOf: string[][] = [];
    const stored: { compared: number; drift: { remote_id: string; field: string; resolution: string }[] }[] = [];
    const db = {
      connection: async () => connection,
      loadConflictStrategies: async () => [],
      loadReconcileState: async (_c: string, _e: string, ids: string[]) =>
        ids.map((remote_id) => ({ remote_id, local_id: `L${remote_id}`, local: local(remote_id, remote_id === '2' ? 'local' : '1'),
                                  local_deleted: false, remote_deleted: false })),
      loadInboundState: async (_c: string, _e: string, ids: string[]) => {
        fullStateOf.push(ids);
        return ids.map((remote_id) => ({
          remote_id, local_id: `L${remote_id}`, remote_updated_at: '2026-03-01T11:00:00.000Z', base: { email: `p${remote_id}@x.io`, phone: '1' },
          base_references: {}, local: { id: `L${remote_id}`, ...local(remote_id, 'local') }, local_updated_at: '2026-03-01T11:30:00.000Z',
          local_deleted: false,
        }));
      },
      remoteIdsOfLocal: async () => [],
      matchLocalRecords: async () => [],
      loadOutboundState: async () => [],
      heldConflictFields: async () => new Map(),
      applyInboundChanges: async (_c: string, _e: string, changes: { remote_id: string }[]) =>
        changes.map((c) => ({ remote_id: c.remote_id, local_id: `L${c.remote_id}`, outcome: 'updated' })),
      reportUnmapped: async () => {},
      queueOutbound: async () => {},
    } as unknown as SyncDb;
    const job = {
      id: 'j1', connection_id: 'c1', kind: 'reconcile', entity_types: ['contact'], options: {}, run_id: 'r1',
      checkpoint: { contact: { cursor: null, done: 0, finished: false, phase: 'list' } },
    } as unknown as JobRow;
    const jobs = {
      claim: async () => job,
      job: async () => job,
      refreshStatistics: async () => [],
      endRun: async () => 'running',
      recordReconcilePage: async (_tx: unknown, _j: string, _e: string, _listed: string[], compared: number, drift: never[]) => {
        stored.push({ compared, drift });
      },
      inPage: async (_job: unknown, _e: string, _lease: number, work: (db: SyncDb, tx: unknown) => Promise<{ result: unknown }>) =>
        (await work(db, null)).result,
    } as unknown as JobDb;
    const adapter = {
      provider: 'hubspot',
      listRecords: async () => ({ records: [record('1', '1'), record('2', '1'), record('3', '1')], nextCursor: 'more' }),
    } as unknown as CrmAdapter;

    await runJobInvocation({ jobs, db, adapterFor: async () => adapter, log: () => {} }, 'j1', { budgetMs: 60_000, maxRecords: 3 });

    expect(fullStateOf).toEqual([['2']]);
    expect(stored).toHaveLength(1);
    expect(stored[0].compared).toBe(3);
    // The CRM holds the shadow's value and the database changed it: the database's value wins and goes out.
    expect(stored[0].drift.map((d) => [d.remote_id, d.field, d.resolution])).toEqual([['2', 'phone', 'queued_outbound']]);
  });
});
