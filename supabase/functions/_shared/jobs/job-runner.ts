// One bounded invocation of a batch job: claim it, work page by page on its
// entity types side by side (every provider call paid from the connection's
// shared rate budget), save each page's records and checkpoint in one
// transaction, and end by handing over to the next invocation, waiting for
// the rate budget, finishing, or pausing on a CRM that is down. A wall-clock
// budget and a record budget (CPU grows with records) bound each invocation.
import { type EntityType, referenceColumn, type ReferenceName, referencesOf, type RemoteRecord } from '../model/unified.ts';
import type { CrmAdapter } from '../providers/adapter.ts';
import { ProviderError } from '../providers/adapter.ts';
import { applyRecords, entityOrder, type InboundStats, inboundStateOf, resolveContext } from '../sync/inbound.ts';
import { type OutboundMessage, syncOutbound } from '../sync/outbound.ts';
import { BudgetExhaustedError } from '../sync/rate-budget.ts';
import { resolveInbound } from '../sync/resolve-inbound.ts';
import type { ConnectionInfo, InboundStateRow, QueueMessage, SyncDb } from '../sync/sync-db.ts';
import { type DriftRow, type EntityCheckpoint, type JobDb, type JobRow, notHeldState } from './job-db.ts';
import { prefetchingAdapter } from './prefetch.ts';
import { agrees, compareRecord, type LocalReferences } from './reconcile.ts';

export interface JobLimits {
  /** Wall clock of one invocation (hosted: 150 s). */
  budgetMs: number;
  /** Records one invocation handles at most (hosted CPU: 2 s per invocation). */
  maxRecords: number;
}

export const defaultJobLimits: JobLimits = { budgetMs: 25_000, maxRecords: 5_000 };
const exportPageSize = 100;
/** Entity types that can be matched to a remote record by a natural key (email, domain). */
const matchable = new Set<EntityType>(['contact', 'company']);

export interface JobDeps {
  jobs: JobDb;
  db: SyncDb;
  adapterFor(connection: ConnectionInfo, deadline: () => number): Promise<CrmAdapter>;
  log(line: string): void;
  now?: () => number;
}

export interface InvocationReport {
  job_id: string;
  claimed: boolean;
  /** The job's status after this invocation. */
  status: string;
  records: number;
  pages: number;
  elapsed_ms: number;
  /**
   * Where the pages' time went, summed over the entity types that ran side
   * by side: page transactions (apply and checkpoint) and the rest (waiting
   * for the CRM, mapping its records).
   */
  page_ms?: { database: number; other: number };
  inbound?: InboundStats;
  /** Tables analyzed before the pages, their statistics stale (sync.refresh_job_statistics). */
  analyzed?: string[];
  error?: string;
}

/** Why an invocation stopped early: each maps to how the run ends. */
type Stop =
  | { kind: 'wait'; waitMs: number; message: string }
  | { kind: 'paused'; message: string }
  | { kind: 'failed'; message: string }
  | { kind: 'lost' };

export async function runJobInvocation(deps: JobDeps, jobId: string, fallback: JobLimits = defaultJobLimits): Promise<InvocationReport> {
  const now = deps.now ?? Date.now;
  const started = now();
  const report: InvocationReport = { job_id: jobId, claimed: false, status: 'unknown', records: 0, pages: 0, elapsed_ms: 0 };
  const claimed = await deps.jobs.claim(jobId, 60);
  if (!claimed) {
    report.status = (await deps.jobs.job(jobId))?.status ?? 'missing';
    report.elapsed_ms = now() - started;
    return report;
  }
  const job = claimed as JobRow & { run_id: string };
  report.claimed = true;
  const limits = { budgetMs: job.options.budget_ms ?? fallback.budgetMs, maxRecords: job.options.max_records ?? fallback.maxRecords };
  const leaseSeconds = Math.ceil(limits.budgetMs / 1000) + 30;
  const deadline = () => started + limits.budgetMs;
  // Stop starting pages early enough for the last one to finish inside the budget.
  const stopAt = deadline() - Math.min(5_000, limits.budgetMs / 4);
  const stats: InboundStats = { skipped: 0, fetched: 0, created: 0, updated: 0, deleted: 0, stale: 0, merged: 0, erased: 0, conflicts: 0 };
  let stop: Stop | null = null;

  const end = async () => {
    // A short wait for the rate budget fits in the next run's budget: hand over now rather than wait for the cron.
    if (stop?.kind === 'wait' && stop.waitMs < limits.budgetMs / 2) stop = null;
    const outcome = stop === null
      ? (job.entity_types.every((e) => job.checkpoint[e]?.finished) ? 'done' : 'continue')
      : stop.kind;
    if (outcome !== 'lost') {
      report.status = await deps.jobs.endRun(job, outcome, message(stop), stop?.kind === 'wait' ? stop.waitMs : 0);
    } else {
      report.status = (await deps.jobs.job(jobId))?.status ?? 'missing';
    }
    if (message(stop)) report.error = message(stop);
    report.inbound = stats;
    report.elapsed_ms = now() - started;
    return report;
  };

  const connection = await deps.db.connection(job.connection_id);
  if (!connection?.enabled) {
    stop = { kind: 'paused', message: `connection ${job.connection_id} is disconnected; connect it again, then resume the job` };
    return await end();
  }
  let adapter: CrmAdapter;
  try {
    // Listings fetch their next page while the current one is applied, as long as the run goes on.
    adapter = prefetchingAdapter(await deps.adapterFor(connection, deadline),
      () => stop === null && now() < stopAt && report.records < limits.maxRecords);
  } catch (error) {
    stop = classify(error);
    return await end();
  }
  if (job.kind === 'export' && job.total_count === null) {
    await deps.jobs.setTotal(job.id, await deps.jobs.countUnmappedLocalRecords(job.connection_id, job.entity_types));
  }

  // The connection and its conflict strategies are read once per run, not per page (a change applies from the next run).
  const strategies = await deps.db.loadConflictStrategies(connection.id);
  const withRunSettings = (db: SyncDb): SyncDb => ({
    ...db,
    connection: async (id) => id === connection.id ? connection : await db.connection(id),
    loadConflictStrategies: async (id) => id === connection.id ? strategies : await db.loadConflictStrategies(id),
  });
  const pageMs = report.page_ms = { database: 0, other: 0 };
  const inPage: JobDb['inPage'] = async (pageJob, entityType, lease, work) => {
    const start = now();
    try {
      return await deps.jobs.inPage(pageJob, entityType, lease, (db, tx) => work(withRunSettings(db), tx));
    } finally {
      const spent = now() - start;
      pageMs.database += spent;
      pageMs.other -= spent;
    }
  };
  const page = createPageRunner({ ...deps, jobs: { ...deps.jobs, inPage } }, job, adapter, stats, leaseSeconds);
  const entityLoop = async (entityType: EntityType) => {
    let pagesRun = 0;
    while (stop === null && now() < stopAt && report.records < limits.maxRecords && !job.checkpoint[entityType].finished) {
      const start = now();
      try {
        // A tenant new to a table can be taken for one row until the next analyze, and the pages' lookups by key
        // then scan: stale statistics are refreshed every few pages (20261126073000; the threshold is 1,000 rows).
        if (pagesRun++ % statisticsEveryPages === 0) {
          for (const table of await deps.jobs.refreshStatistics([entityType])) {
            report.analyzed = [...new Set([...report.analyzed ?? [], table])];
          }
        }
        const { checkpoint, records } = await page(entityType, job.checkpoint[entityType]);
        job.checkpoint[entityType] = checkpoint;
        report.records += records;
        report.pages++;
      } catch (error) {
        stop ??= classify(error);
        if (stop.kind === 'failed') deps.log(`sync-jobs ${job.kind} ${job.id} ${entityType}: ${stop.message}`);
      } finally {
        pageMs.other += now() - start;
      }
    }
  };
  // Parents first in the list, all side by side: the rate budget is what they share.
  await Promise.all(entityOrder.filter((e) => job.entity_types.includes(e) && !job.checkpoint[e]?.finished).map(entityLoop));
  return await end();
}

function message(stop: Stop | null): string | undefined {
  return stop && stop.kind !== 'lost' ? stop.message : undefined;
}

/** How a failure ends the invocation. */
export function classify(error: unknown): Stop {
  const text = error instanceof Error ? error.message : String(error);
  if (error instanceof BudgetExhaustedError) return { kind: 'wait', waitMs: error.waitMs, message: text };
  if (error instanceof ProviderError) {
    if (error.kind === 'rate_limited') return { kind: 'wait', waitMs: error.retryAfterMs ?? 10_000, message: text };
    if (error.kind === 'unavailable' || error.kind === 'unauthorized') return { kind: 'paused', message: text };
  }
  if ((error as { code?: unknown })?.code === notHeldState) return { kind: 'lost' };
  return { kind: 'failed', message: text };
}

/** How often a run checks the statistics of the tables its pages read: about every 1,000 records of full pages. */
const statisticsEveryPages = 10;

type PageRunner = (entityType: EntityType, checkpoint: EntityCheckpoint) => Promise<{ checkpoint: EntityCheckpoint; records: number }>;

/** One page of the job's kind for one entity type; the checkpoint it returns is already saved. */
function createPageRunner(deps: JobDeps, job: JobRow & { run_id: string }, adapter: CrmAdapter, stats: InboundStats,
                          leaseSeconds: number): PageRunner {
  const connectionId = job.connection_id;
  const { jobs } = deps;

  /** Applies listed records through the resolver and saves the checkpoint, in one transaction. */
  const applyPage = async (entityType: EntityType, records: RemoteRecord[], checkpoint: EntityCheckpoint) => {
    await jobs.inPage(job, entityType, leaseSeconds, async (db) => {
      if (records.length) await applyRecords(db, connectionId, entityType, records, stats);
      return { result: null, checkpoint, done: records.length };
    });
    return { checkpoint, records: records.length };
  };

  const next = (current: EntityCheckpoint, cursor: string | null, records: number, extra: Partial<EntityCheckpoint> = {}) =>
    ({ ...current, ...extra, cursor, done: current.done + records, finished: cursor === null }) as EntityCheckpoint;

  switch (job.kind) {
    case 'backfill':
      return async (entityType, current) => {
        const listed = await adapter.listRecords(entityType, current.cursor);
        return await applyPage(entityType, listed.records, next(current, listed.nextCursor, listed.records.length));
      };

    case 'incremental':
      return async (entityType, current) => {
        let since = current.since;
        if (current.cursor === null && current.done === 0 && since === undefined) {
          since = (await jobs.highWaterMark(connectionId, entityType)) ?? undefined;
        }
        if (since === undefined) {
          // Never listed in full: this run does it (the high-water mark becomes the job's start).
          const listed = await adapter.listRecords(entityType, current.cursor);
          return await applyPage(entityType, listed.records, next(current, listed.nextCursor, listed.records.length));
        }
        const listed = await adapter.listChangedSince(entityType, since, current.cursor);
        return await applyPage(entityType, listed.records,
          next(current, listed.nextCursor, listed.records.length, { since, ...(listed.until ? { until: listed.until } : {}) }));
      };

    case 'export':
      return async (entityType, current) => {
        const phase = current.phase ?? (matchable.has(entityType) ? 'link' : 'create');
        if (phase === 'link') {
          // Remote records that already exist locally (same email or domain) are linked first, so they are not created twice.
          const listed = await adapter.listRecords(entityType, current.cursor);
          const keys: Record<string, string> = {};
          for (const record of listed.records) {
            const fields = record.fields as Record<string, unknown>;
            const key = entityType === 'contact' ? fields.email : fields.domain;
            if (typeof key === 'string' && key) keys[record.remoteId] = key;
          }
          const matched = Object.keys(keys).length ? new Set((await deps.db.matchLocalRecords(connectionId, entityType, keys)).map((m) => m.remote_id)) : new Set();
          const linked = listed.records.filter((r) => matched.has(r.remoteId));
          const checkpoint: EntityCheckpoint = listed.nextCursor === null
            ? { ...current, phase: 'create', cursor: null, done: current.done + linked.length, finished: false }
            : { ...current, phase: 'link', cursor: listed.nextCursor, done: current.done + linked.length, finished: false };
          await applyPage(entityType, linked, checkpoint);
          return { checkpoint, records: listed.records.length };
        }
        const localIds = await jobs.unmappedLocalRecords(connectionId, entityType, current.cursor, exportPageSize);
        if (localIds.length > 0) await exportRecords(deps.db, adapter, connectionId, entityType, localIds);
        const last = localIds.at(-1) ?? null;
        const checkpoint: EntityCheckpoint = {
          ...current, phase: 'create', cursor: last ?? current.cursor, done: current.done + localIds.length,
          finished: localIds.length < exportPageSize,
        };
        await jobs.inPage(job, entityType, leaseSeconds, async () => ({ result: null, checkpoint, done: localIds.length }));
        return { checkpoint, records: localIds.length };
      };

    case 'reconcile':
      return async (entityType, current) => {
        if (current.phase === 'unseen') {
          // Mapped records the listing did not show: deleted in the CRM behind the engine's back, or created during the listing.
          const remoteIds = await jobs.unseenMappedRecords(job.id, entityType, current.cursor, exportPageSize);
          const records = remoteIds.length ? await adapter.fetchRecords(entityType, remoteIds) : [];
          const checkpoint: EntityCheckpoint = {
            ...current, cursor: remoteIds.at(-1) ?? current.cursor, done: current.done, finished: remoteIds.length < exportPageSize,
          };
          await jobs.inPage(job, entityType, leaseSeconds, async (db, tx) => {
            await reconcilePage(db, connectionId, entityType, records, stats,
              (_compared, drift) => jobs.recordReconcilePage(tx, job.id, entityType, [], 0, drift));
            return { result: null, checkpoint, done: 0 };
          });
          return { checkpoint, records: records.length };
        }
        const listed = await adapter.listRecords(entityType, current.cursor);
        const checkpoint: EntityCheckpoint = listed.nextCursor === null
          ? { ...current, phase: 'unseen', cursor: null, done: current.done + listed.records.length, finished: false }
          : { ...current, phase: 'list', cursor: listed.nextCursor, done: current.done + listed.records.length, finished: false };
        await jobs.inPage(job, entityType, leaseSeconds, async (db, tx) => {
          await reconcilePage(db, connectionId, entityType, listed.records, stats,
            (compared, drift) => jobs.recordReconcilePage(tx, job.id, entityType, listed.records.map((r) => r.remoteId), compared, drift));
          return { result: null, checkpoint, done: listed.records.length };
        });
        return { checkpoint, records: listed.records.length };
      };
  }
}

/**
 * Creates local records in the CRM through the outbound path (the same plan,
 * batch creates and shadow as the worker). Records that must wait for a
 * reference, or whose write can be retried, go on the outbound queue, where
 * the worker finishes them.
 */
async function exportRecords(db: SyncDb, adapter: CrmAdapter, connectionId: string, entityType: EntityType, localIds: string[]) {
  const messages: QueueMessage<OutboundMessage>[] = localIds.map((localId, i) => ({
    msg_id: i, read_ct: 0, message: { connection_id: connectionId, entity_type: entityType, local_id: localId, op: 'upsert' },
  }));
  const outcome = await syncOutbound(db, adapter, connectionId, messages);
  const retry = outcome.retry.flatMap((r) => r.ids).map((i) => localIds[i]);
  await db.queueOutbound(retry.map((localId) => ({ connection_id: connectionId, entity_type: entityType, local_id: localId, op: 'upsert' })));
}

/**
 * Compares a listed page with Postgres, applies the drifted records through
 * the resolver (the CRM's side where it wins), queues the records whose local
 * side wins for the outbound path, and stores every difference. Every record
 * is checked on what a comparison needs (sync.load_reconcile_state); only
 * those that disagree are loaded in full and compared field by field.
 */
async function reconcilePage(db: SyncDb, connectionId: string, entityType: EntityType, records: RemoteRecord[], stats: InboundStats,
                             store: (compared: number, drift: DriftRow[]) => Promise<void>) {
  const sides = new Map((await db.loadReconcileState(connectionId, entityType, records.map((r) => r.remoteId)))
    .map((row) => [row.remote_id, row]));
  const references = await localReferenceReader(db, connectionId, entityType, [...sides.values()].map((row) => row.local));
  const suspects = records.filter((record) => {
    const row = sides.get(record.remoteId);
    const side = { localId: row?.local_id ?? null, local: row?.local ?? null, localDeleted: row?.local_deleted ?? false };
    return !agrees(record, side, references.of(side.local));
  });
  const drift: DriftRow[] = [];
  const pushLocal = new Set<string>();
  if (suspects.length > 0) {
    const rows = await db.loadInboundState(connectionId, entityType, suspects.map((r) => r.remoteId));
    const byRemote = new Map<string, InboundStateRow>(rows.map((row) => [row.remote_id, row]));
    await references.learn(rows.map((row) => row.local));
    const context = await resolveContext(db, connectionId, entityType);
    const drifted: RemoteRecord[] = [];
    for (const record of suspects) {
      const row = byRemote.get(record.remoteId)!;
      const state = inboundStateOf(row);
      const found = compareRecord(record, state, () => resolveInbound(record, state, context), references.of(row.local));
      if (found.length === 0) continue;
      drift.push(...found);
      drifted.push(record);
      for (const d of found) if (d.resolution === 'queued_outbound' && d.local_id) pushLocal.add(d.local_id);
    }
    if (drifted.length > 0) {
      try {
        await applyRecords(db, connectionId, entityType, drifted, stats, byRemote);
      } catch (error) {
        if ((error as { name?: string }).name === 'PostgresError') throw error;
        // The resolver could not settle them (the local rows kept changing): left for a person.
        for (const d of drift) Object.assign(d, { resolution: 'alerted', detail: (error as Error).message });
        pushLocal.clear();
      }
    }
  }
  await db.queueOutbound([...pushLocal].map((localId) => ({ connection_id: connectionId, entity_type: entityType, local_id: localId, op: 'upsert' })));
  await store(records.length, drift);
}

/**
 * The local side's references as remote ids, to compare with the CRM's: the
 * local ids they hold are looked up in the identity map once per batch of
 * rows (`learn` looks up those not seen yet).
 */
async function localReferenceReader(db: SyncDb, connectionId: string, entityType: EntityType,
                                    locals: (Record<string, unknown> | null)[]) {
  const names = Object.keys(referencesOf[entityType]) as ReferenceName[];
  const remoteOfLocal = new Map<string, string | null>();
  const learn = async (rows: (Record<string, unknown> | null)[]) => {
    const ids = new Set<string>();
    for (const local of rows) {
      for (const name of names) {
        const id = local?.[referenceColumn[name]];
        if (typeof id === 'string' && !remoteOfLocal.has(id)) ids.add(id);
      }
    }
    if (ids.size === 0) return;
    for (const id of ids) remoteOfLocal.set(id, null);
    for (const m of await db.remoteIdsOfLocal(connectionId, [...ids])) remoteOfLocal.set(m.local_id, m.remote_id);
  };
  await learn(locals);
  return {
    learn,
    of(local: Record<string, unknown> | null): LocalReferences | undefined {
      if (!local) return undefined;
      const refs: LocalReferences = {};
      for (const name of names) {
        const id = local[referenceColumn[name]];
        refs[name] = typeof id === 'string' ? remoteOfLocal.get(id) ?? null : null;
      }
      return refs;
    },
  };
}
