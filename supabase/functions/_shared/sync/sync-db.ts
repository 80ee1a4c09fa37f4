// The engine's calls into Postgres: the verb-named SQL functions of the sync
// schema and pgmq. One method per function; no SQL elsewhere in the engine.
import type { Sql } from '../db.ts';
import type { EntityType, UnmappedValue } from '../model/unified.ts';
import type { Provider } from '../providers/adapter.ts';
import type { FieldConflict, InboundChange } from './resolve-inbound.ts';
import type { OutboundState } from './plan-outbound.ts';

export type QueueName = 'crm_inbound' | 'crm_outbound';

export interface QueueMessage<T = Record<string, unknown>> {
  msg_id: number;
  read_ct: number;
  message: T;
}

export interface ConnectionInfo {
  id: string;
  tenant_id: string;
  provider: Provider;
  account_id: string;
  settings: Record<string, unknown>;
  enabled: boolean;
  /** needs_reauth: the CRM refused the credentials; the connection's work waits for a new connect. */
  auth_status: 'active' | 'needs_reauth';
}

export interface InboundStateRow {
  remote_id: string;
  local_id: string | null;
  remote_updated_at: string | null;
  base: Record<string, unknown>;
  base_references: Record<string, string | null>;
  local: Record<string, unknown> | null;
  local_updated_at: string | null;
  local_deleted: boolean | null;
  /** When the engine last wrote the record (its echo carries this time). */
  remote_written_at?: string | null;
  /** The mapped record is known to be deleted in the CRM. */
  remote_deleted?: boolean | null;
  /** Per field, the values the engine is writing to the CRM record, not recorded yet (20261126133000). */
  pending_write?: Record<string, unknown[]> | null;
  /** Fields the engine's last recorded write was asked to write (20261126070000); null for a create. */
  written_fields?: string[] | null;
}

/** What reconciliation compares of a listed record (sync.load_reconcile_state). */
export interface ReconcileStateRow {
  remote_id: string;
  local_id: string | null;
  /** The local row's synced columns and references (null when unmapped). */
  local: Record<string, unknown> | null;
  local_deleted: boolean;
  remote_deleted: boolean;
}

export interface OutboundResult {
  local_id: string;
  remote_id: string;
  remote_updated_at: string;
  base: Record<string, unknown>;
  base_references: Record<string, string | null>;
  deleted?: boolean;
  /** An update's fields: those the write was asked to write (not those a CRM sent along). */
  written_fields?: string[];
}

const json = (sql: Sql, value: unknown) => sql.json(value as Parameters<Sql['json']>[0]);

/**
 * An answer of sync.take_rate_budget; grant_id (a bigint as text) names a
 * grant taken until answered; spare: the spare grants that came with it, to
 * be sent within a second (20261126131000).
 */
export interface RateGrant {
  granted: boolean;
  wait_ms: number;
  grant_id: string | null;
  spare?: number;
}

export function createSyncDb(sql: Sql) {
  return {
    async readQueue(queue: QueueName, visibilitySeconds: number, limit: number): Promise<QueueMessage[]> {
      return await sql<QueueMessage[]>`select msg_id, read_ct, message from pgmq.read(${queue}, ${visibilitySeconds}, ${limit})`;
    },
    async deleteMessages(queue: QueueName, ids: number[]): Promise<void> {
      if (ids.length) await sql`select pgmq.delete(${queue}, ${ids}::bigint[])`;
    },
    async delayMessages(queue: QueueName, ids: number[], seconds: number): Promise<void> {
      if (ids.length) await sql`select pgmq.set_vt(${queue}, id, ${Math.ceil(seconds)}) from unnest(${ids}::bigint[]) id`;
    },
    async failMessages(queue: QueueName, ids: number[], error: string, maxAttempts?: number) {
      if (!ids.length) return { retried: 0, dead_lettered: 0 };
      const [row] = maxAttempts === undefined
        ? await sql`select * from sync.fail_messages(${queue}, ${ids}::bigint[], ${error})`
        : await sql`select * from sync.fail_messages(${queue}, ${ids}::bigint[], ${error}, ${maxAttempts})`;
      return row as { retried: number; dead_lettered: number };
    },
    async queueOutbound(messages: Record<string, unknown>[], delaySeconds = 0): Promise<void> {
      if (messages.length) {
        // One JSON array, split in SQL: a JS array of JSON strings cast to jsonb[] arrives as jsonb strings.
        await sql`select pgmq.send_batch('crm_outbound', array(select jsonb_array_elements(${json(sql, messages)}::jsonb)), ${delaySeconds})`;
      }
    },
    async connection(id: string): Promise<ConnectionInfo | null> {
      const [row] = await sql<ConnectionInfo[]>`
        select id, tenant_id, provider, account_id, settings, enabled, auth_status from sync.connections where id = ${id}`;
      return row ?? null;
    },
    async credentials(connectionId: string): Promise<Record<string, unknown>> {
      const [row] = await sql`select sync.connection_credentials(${connectionId}) as credentials`;
      return row.credentials as Record<string, unknown>;
    },
    /** Runs `work` holding the connection's credentials lock (one refresher at a time); `save` writes them back to Vault. */
    async withLockedCredentials<T>(
      connectionId: string,
      work: (credentials: Record<string, unknown>, save: (next: Record<string, unknown>) => Promise<void>) => Promise<T>,
    ): Promise<T> {
      return await sql.begin(async (tx) => {
        const [row] = await tx`select sync.lock_connection_credentials(${connectionId}) as credentials`;
        return await work(row.credentials as Record<string, unknown>, async (next) => {
          await tx`select sync.set_connection_credentials(${connectionId}, ${json(tx as unknown as Sql, next)})`;
        });
      }) as T;
    },
    async markNeedsReauth(connectionId: string, reason: string): Promise<void> {
      await sql`select sync.mark_needs_reauth(${connectionId}, ${reason})`;
    },
    async valueMaps(connectionId: string): Promise<unknown[]> {
      return [...await sql`select kind, remote_value, local_value, remote_context from sync.value_maps where connection_id = ${connectionId}`];
    },
    async fieldMaps(connectionId: string): Promise<unknown[]> {
      return [...await sql`
        select entity_type, local_field, remote_property, direction from sync.field_maps where connection_id = ${connectionId}`];
    },
    async loadInboundState(connectionId: string, entityType: EntityType, remoteIds: string[]): Promise<InboundStateRow[]> {
      return await sql<InboundStateRow[]>`select * from sync.load_inbound_state(${connectionId}, ${entityType}, ${remoteIds}::text[])`;
    },
    async loadReconcileState(connectionId: string, entityType: EntityType, remoteIds: string[]): Promise<ReconcileStateRow[]> {
      return await sql<ReconcileStateRow[]>`select * from sync.load_reconcile_state(${connectionId}, ${entityType}, ${remoteIds}::text[])`;
    },
    /** The remote ids in this connection of local records (any entity type), for comparing references. */
    async remoteIdsOfLocal(connectionId: string, localIds: string[]): Promise<{ local_id: string; remote_id: string }[]> {
      if (localIds.length === 0) return [];
      return [...await sql<{ local_id: string; remote_id: string }[]>`
        select local_id, remote_id from sync.identity_map where connection_id = ${connectionId} and local_id = any(${localIds}::uuid[])`];
    },
    async matchLocalRecords(connectionId: string, entityType: EntityType, keys: Record<string, string>) {
      return await sql<{ remote_id: string; local_id: string; local: Record<string, unknown>; local_updated_at: string }[]>`
        select * from sync.match_local_records(${connectionId}, ${entityType}, ${json(sql, keys)})`;
    },
    /**
     * Applies inbound decisions and, in the same transaction, records the
     * conflict decisions (by remote id) of the changes that took effect: a
     * stale or retried change decided nothing.
     */
    async applyInboundChanges(connectionId: string, entityType: EntityType, changes: InboundChange[],
                              conflicts: Map<string, FieldConflict[]> = new Map()) {
      type Outcome = { remote_id: string; local_id: string | null; outcome: string };
      const apply = async (tx: Sql) => await tx<Outcome[]>`
        select * from sync.apply_inbound_changes(${connectionId}, ${entityType}, ${json(tx, changes)})`;
      if (conflicts.size === 0) return await apply(sql);
      // In a transaction already (a job's page), it is the one; else one of its own.
      const begin = (sql as { begin?: Sql['begin'] }).begin?.bind(sql) ?? (async (work: (tx: Sql) => Promise<Outcome[]>) => await work(sql));
      return await begin(async (tx) => {
        const outcomes = await apply(tx as unknown as Sql);
        const decisions = outcomes.filter((o) => o.local_id && ['updated', 'matched'].includes(o.outcome)).flatMap((o) =>
          (conflicts.get(o.remote_id) ?? []).map((c) => ({ remote_id: o.remote_id, local_id: o.local_id, ...c })));
        if (decisions.length) {
          await tx`select sync.record_conflict_decisions(${connectionId}, ${entityType}, ${json(tx as unknown as Sql, decisions)})`;
        }
        return outcomes;
      }) as Outcome[];
    },
    async loadConflictStrategies(connectionId: string): Promise<unknown[]> {
      return [...await sql`select * from sync.load_conflict_strategies(${connectionId})`];
    },
    /** Fields held for manual review, by local id. */
    async heldConflictFields(connectionId: string, entityType: EntityType, localIds: string[]): Promise<Map<string, string[]>> {
      if (localIds.length === 0) return new Map();
      const rows = await sql<{ local_id: string; fields: string[] }[]>`
        select * from sync.held_conflict_fields(${connectionId}, ${entityType}, ${localIds}::uuid[])`;
      return new Map(rows.map((r) => [r.local_id, r.fields]));
    },
    async applyRemoteMerge(connectionId: string, entityType: EntityType, primary: string, merged: string[]): Promise<void> {
      await sql`select sync.apply_remote_merge(${connectionId}, ${entityType}, ${primary}, ${merged}::text[])`;
    },
    async applyRemoteErasure(connectionId: string, entityType: EntityType, remoteId: string): Promise<void> {
      await sql`select sync.apply_remote_erasure(${connectionId}, ${entityType}, ${remoteId})`;
    },
    async loadOutboundState(connectionId: string, entityType: EntityType, localIds: string[]): Promise<OutboundState[]> {
      return await sql<OutboundState[]>`select * from sync.load_outbound_state(${connectionId}, ${entityType}, ${localIds}::uuid[])`;
    },
    /** Notes the fields about to be written to these mapped records, so their values read back meanwhile are not taken for CRM edits. */
    async markOutboundPending(connectionId: string, entityType: EntityType, writes: { local_id: string; fields: Record<string, unknown> }[]) {
      if (writes.length) await sql`select sync.mark_outbound_pending(${connectionId}, ${entityType}, ${json(sql, writes)})`;
    },
    async recordOutboundResults(connectionId: string, entityType: EntityType, results: OutboundResult[]): Promise<void> {
      if (results.length) await sql`select sync.record_outbound_results(${connectionId}, ${entityType}, ${json(sql, results)})`;
    },
    async recordRemoteMerge(connectionId: string, entityType: EntityType, mergedRemoteId: string): Promise<void> {
      await sql`select sync.record_remote_merge(${connectionId}, ${entityType}, ${mergedRemoteId})`;
    },
    async recordRemoteErasures(connectionId: string, erasureIds: string[]): Promise<void> {
      if (erasureIds.length) await sql`select privacy.record_remote_erasures(${connectionId}, ${erasureIds}::uuid[])`;
    },
    async reportUnmapped(connectionId: string, direction: 'inbound' | 'outbound', values: (UnmappedValue & { entityType: EntityType; localId?: string | null })[]) {
      if (!values.length) return;
      const rows = values.map((v) => ({ kind: v.kind, remote_value: v.remoteValue, direction, entity_type: v.entityType, local_id: v.localId ?? null }));
      await sql`select sync.report_unmapped_values(${connectionId}, ${json(sql, rows)})`;
    },
    async takeRateBudget(connectionId: string, requests: number, tokens = 0, untilAnswered = false, spare = 0): Promise<RateGrant> {
      const [row] = await sql`select granted, wait_ms, grant_id::text, spare
                                from sync.take_rate_budget(${connectionId}, ${requests}, ${tokens}, ${untilAnswered}, ${spare})`;
      return row as RateGrant;
    },
    async settleRateBudget(connectionId: string, grantId: string, requests: number): Promise<void> {
      await sql`select sync.settle_rate_budget(${connectionId}, ${grantId}::bigint, ${requests})`;
    },
    async noteCreateAttempts(connectionId: string, entityType: EntityType, localIds: string[]): Promise<Map<string, string>> {
      if (!localIds.length) return new Map();
      const rows = await sql<{ local_id: string; first_attempt_at: Date }[]>`
        select * from sync.note_create_attempts(${connectionId}, ${entityType}, ${localIds}::uuid[])`;
      return new Map(rows.map((r) => [r.local_id, new Date(r.first_attempt_at).toISOString()]));
    },
    async forgetCreateAttempts(connectionId: string, entityType: EntityType, localIds: string[]): Promise<void> {
      if (localIds.length) await sql`select sync.forget_create_attempts(${connectionId}, ${entityType}, ${localIds}::uuid[])`;
    },
    async pauseConnection(connectionId: string, ms: number, reason: string): Promise<void> {
      await sql`select sync.pause_connection(${connectionId}, ${Math.ceil(ms)}, ${reason})`;
    },
    /** Holds (or extends) this run's own lease: others see a worker running until it is released or expires. */
    async holdWorkerLease(runId: string, seconds: number): Promise<void> {
      await sql`select sync.hold_worker_lease(${seconds}, ${runId})`;
    },
    async releaseWorkerLease(runId: string): Promise<void> {
      await sql`select sync.release_worker_lease(${runId})`;
    },
  };
}

export type SyncDb = ReturnType<typeof createSyncDb>;
