// The batch jobs' calls into Postgres (the sync.*_job functions). One method
// per function; the page transaction (records + checkpoint) is `inPage`.
import type { Sql } from '../db.ts';
import type { EntityType } from '../model/unified.ts';
import { createSyncDb, type SyncDb } from '../sync/sync-db.ts';

export type JobKind = 'backfill' | 'export' | 'incremental' | 'reconcile';
export type JobStatus = 'queued' | 'running' | 'paused' | 'done' | 'failed' | 'cancelled';
export const jobKinds: JobKind[] = ['backfill', 'export', 'incremental', 'reconcile'];

/** Where one entity type of a job stands. */
export interface EntityCheckpoint {
  /** The adapter's listing cursor (null: from the start), or for an export's create phase, the last local id. */
  cursor: string | null;
  done: number;
  finished: boolean;
  /**
   * export: 'link' (match remote records to local ones by email/domain) then 'create';
   * reconcile: 'list' (compare the listing) then 'unseen' (mapped records the listing did not show, read by id).
   */
  phase?: 'link' | 'create' | 'list' | 'unseen';
  /** incremental: the window's start, fixed by the first page; absent means a full listing (no high-water mark yet). */
  since?: string;
  /** incremental: the window's end, the next high-water mark. */
  until?: string;
}

export interface JobRow {
  id: string;
  tenant_id: string;
  connection_id: string;
  kind: JobKind;
  entity_types: EntityType[];
  status: JobStatus;
  checkpoint: Record<string, EntityCheckpoint>;
  done_count: number;
  total_count: number | null;
  options: { budget_ms?: number; max_records?: number };
  error: string | null;
  started_by: string;
  run_id: string | null;
  lease_until: string | null;
  heartbeat_at: string | null;
  invocations: number;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  updated_at: string;
}

export interface DriftRow {
  entity_type: EntityType;
  remote_id: string | null;
  local_id: string | null;
  field: string;
  kind: 'field' | 'missing_local' | 'missing_remote';
  local_value: unknown;
  remote_value: unknown;
  base_value: unknown;
  winner: 'local' | 'remote' | null;
  resolution: 'applied_locally' | 'queued_outbound' | 'alerted';
  detail?: string;
}

/** The database refused a checkpoint: the job is no longer this invocation's (cancelled, paused, taken over). */
export const notHeldState = '40001';

const jobColumns = (sql: Sql) => sql`id, tenant_id, connection_id, kind, entity_types, status, checkpoint,
  done_count::float8 as done_count, total_count::float8 as total_count, options, error, started_by, run_id, lease_until,
  heartbeat_at, invocations, created_at, started_at, finished_at, updated_at`;

export function createJobDb(sql: Sql) {
  return {
    sql,
    async start(connectionId: string, kind: string, entityTypes: string[] | null, startedBy: string, options: Record<string, number>) {
      const [row] = await sql<{ job_id: string; created: boolean }[]>`
        select * from sync.start_job(${connectionId}, ${kind}, ${entityTypes}::text[], ${startedBy}, ${sql.json(options)})`;
      return row;
    },
    async job(id: string): Promise<JobRow | null> {
      const [row] = await sql<JobRow[]>`select ${jobColumns(sql)} from sync.jobs where id = ${id}`;
      return row ?? null;
    },
    async list(filter: { connectionId?: string; tenantId?: string; status?: string; limit: number }): Promise<JobRow[]> {
      return await sql<JobRow[]>`
        select ${jobColumns(sql)} from sync.jobs
         where (${filter.connectionId ?? null}::uuid is null or connection_id = ${filter.connectionId ?? null})
           and (${filter.tenantId ?? null}::uuid is null or tenant_id = ${filter.tenantId ?? null})
           and (${filter.status ?? null}::text is null or status = ${filter.status ?? null})
         order by created_at desc limit ${filter.limit}`;
    },
    async reconcileRun(jobId: string) {
      const [row] = await sql`
        select id, records_compared::float8 as records_compared, records_drifted::float8 as records_drifted,
               fields_drifted::float8 as fields_drifted, resolved::float8 as resolved, alerted::float8 as alerted,
               started_at, finished_at
          from sync.reconcile_runs where job_id = ${jobId}`;
      return row ?? null;
    },
    async cancel(id: string): Promise<string> {
      const [row] = await sql<{ status: string }[]>`select sync.cancel_job(${id}) as status`;
      return row.status;
    },
    async resume(id: string): Promise<string> {
      const [row] = await sql<{ status: string }[]>`select sync.resume_job(${id}) as status`;
      return row.status;
    },
    async claim(id: string, leaseSeconds: number): Promise<JobRow | null> {
      const [claimed] = await sql<{ id: string }[]>`select id from sync.claim_job(${id}, ${leaseSeconds})`;
      return claimed ? await this.job(id) : null;
    },
    /** Analyzes the tables these entity types' pages read where their statistics are stale; the tables analyzed. */
    async refreshStatistics(entityTypes: EntityType[]): Promise<string[]> {
      const [row] = await sql<{ analyzed: string[] }[]>`select sync.refresh_job_statistics(${entityTypes}::crm.entity_type[]) as analyzed`;
      return row.analyzed;
    },
    async setTotal(id: string, total: number): Promise<void> {
      await sql`update sync.jobs set total_count = ${total} where id = ${id}`;
    },
    async highWaterMark(connectionId: string, entityType: EntityType): Promise<string | null> {
      const [row] = await sql<{ at: Date }[]>`
        select high_water_mark as at from sync.sync_marks where connection_id = ${connectionId} and entity_type = ${entityType}`;
      return row ? new Date(row.at).toISOString() : null;
    },
    async unmappedLocalRecords(connectionId: string, entityType: EntityType, after: string | null, limit: number): Promise<string[]> {
      const rows = await sql<{ local_id: string }[]>`
        select local_id from sync.unmapped_local_records(${connectionId}, ${entityType}, ${after}::uuid, ${limit})`;
      return rows.map((r) => r.local_id);
    },
    async countUnmappedLocalRecords(connectionId: string, entityTypes: EntityType[]): Promise<number> {
      const [row] = await sql<{ n: number }[]>`select sync.count_unmapped_local_records(${connectionId}, ${entityTypes}::text[])::float8 as n`;
      return row.n;
    },
    /**
     * Runs `work` in one transaction with the engine's database calls bound
     * to it, then saves the entity type's checkpoint in that transaction: the
     * page's records and its checkpoint commit together or not at all.
     */
    async inPage<T>(job: { id: string; run_id: string }, entityType: EntityType, leaseSeconds: number,
                    work: (db: SyncDb, tx: Sql) => Promise<{ result: T; checkpoint: EntityCheckpoint; done: number }>): Promise<T> {
      return await sql.begin(async (tx) => {
        const txSql = tx as unknown as Sql;
        const { result, checkpoint, done } = await work(createSyncDb(txSql), txSql);
        await txSql`select sync.save_job_checkpoint(${job.id}, ${job.run_id}, ${entityType}, ${sql.json(checkpoint as never)},
                                                     ${done}, ${leaseSeconds})`;
        return result;
      }) as T;
    },
    async unseenMappedRecords(jobId: string, entityType: EntityType, after: string | null, limit: number): Promise<string[]> {
      const rows = await sql<{ remote_id: string }[]>`
        select remote_id from sync.unseen_mapped_records(${jobId}, ${entityType}, ${after}, ${limit})`;
      return rows.map((r) => r.remote_id);
    },
    /** One reconcile page: the remote ids it listed (none in the unseen phase), the records compared, its drift. */
    async recordReconcilePage(tx: Sql, jobId: string, entityType: EntityType, listed: string[], compared: number,
                              drift: DriftRow[]): Promise<void> {
      await tx`select sync.record_reconcile_page(${jobId}, ${entityType}, ${listed}::text[], ${compared}, ${tx.json(drift as never)})`;
    },
    async endRun(job: { id: string; run_id: string }, outcome: 'continue' | 'wait' | 'done' | 'paused' | 'failed', error?: string,
                 waitMs = 0): Promise<string> {
      const [row] = await sql<{ status: string }[]>`
        select sync.end_job_run(${job.id}, ${job.run_id}, ${outcome}, ${error ?? null}, ${Math.ceil(waitMs)}) as status`;
      return row.status;
    },
  };
}

export type JobDb = ReturnType<typeof createJobDb>;
