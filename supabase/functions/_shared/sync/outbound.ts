// Outbound sync of one connection: queued local changes → current local
// state against the shadow → batched provider writes → the new shadow.
// Messages only name records; the current row is what gets sent, so ten
// edits of one record before the worker runs cost one write.
import type { EntityType } from '../model/unified.ts';
import type { CrmAdapter, WriteResult } from '../providers/adapter.ts';
import { ConflictPolicy } from './conflict-policy.ts';
import { syncErasures } from './erase-outbound.ts';
import { applyRecords, entityOrder, type InboundStats } from './inbound.ts';
import { type OutboundState, type OutboundUpdate, planOutbound } from './plan-outbound.ts';
import type { OutboundResult, QueueMessage, SyncDb } from './sync-db.ts';
import { sameValue, toMillis } from './values.ts';

export const writeBatchSize = 100;

export interface OutboundMessage {
  connection_id: string;
  entity_type: EntityType;
  local_id: string;
  op: 'upsert' | 'delete' | 'merge' | 'erase';
  /** op 'merge': the local record merged into local_id (soft-deleted); the CRM merges its remote record into local_id's. */
  merged_local_id?: string;
  /** op 'erase' (GDPR): the person's record in this CRM, and the erasure (privacy.erasures) it belongs to. */
  remote_id?: string;
  erasure_id?: string;
  /** How many times the record was put back to wait for a record it references. */
  waits?: number;
}

/** After this many waits a record goes out without the reference it waits for (that record may have failed for good). */
export const maxWaits = 5;

export interface OutboundStats {
  created: number;
  updated: number;
  archived: number;
  merged: number;
  erased: number;
  unchanged: number;
  waiting: number;
  failed: number;
}

/**
 * What became of each message: done (delete it), retry later (after waitMs
 * when the CRM's rate limit refused it: no attempt used up), or dead-letter now.
 */
export interface OutboundOutcome {
  stats: OutboundStats;
  done: number[];
  retry: { ids: number[]; error: string; waitMs?: number }[];
  rejected: { ids: number[]; error: string }[];
}

type OutboundDb = Pick<
  SyncDb,
  'loadOutboundState' | 'markOutboundPending' | 'recordOutboundResults' | 'queueOutbound' | 'reportUnmapped' | 'recordRemoteMerge' | 'recordRemoteErasures' |
  'heldConflictFields' | 'loadConflictStrategies' | 'remoteIdsOfLocal'
> & Parameters<typeof applyRecords>[0];

export async function syncOutbound(
  db: OutboundDb,
  adapter: CrmAdapter,
  connectionId: string,
  messages: QueueMessage<OutboundMessage>[],
): Promise<OutboundOutcome> {
  const outcome: OutboundOutcome = {
    stats: { created: 0, updated: 0, archived: 0, merged: 0, erased: 0, unchanged: 0, waiting: 0, failed: 0 },
    done: [],
    retry: [],
    rejected: [],
  };
  // Erasures first: nothing else about the person is left to send.
  const erasures = messages.filter((m) => m.message.op === 'erase');
  if (erasures.length > 0) await syncErasures(db, adapter, connectionId, erasures, outcome);
  for (const entityType of entityOrder) {
    const merges = messages.filter((m) => m.message.entity_type === entityType && m.message.op === 'merge');
    if (merges.length > 0) await syncMerges(db, adapter, connectionId, entityType, merges, outcome);
    const ofType = messages.filter((m) => m.message.entity_type === entityType && m.message.op !== 'merge' && m.message.op !== 'erase');
    if (ofType.length === 0) continue;
    const idsByLocal = new Map<string, number[]>();
    const waits = new Map<string, number>();
    for (const m of ofType) {
      idsByLocal.set(m.message.local_id, [...(idsByLocal.get(m.message.local_id) ?? []), m.msg_id]);
      waits.set(m.message.local_id, Math.max(waits.get(m.message.local_id) ?? 0, m.message.waits ?? 0));
    }
    await syncEntity(db, adapter, connectionId, entityType, idsByLocal, waits, outcome);
  }
  return outcome;
}

async function syncEntity(
  db: OutboundDb,
  adapter: CrmAdapter,
  connectionId: string,
  entityType: EntityType,
  idsByLocal: Map<string, number[]>,
  waits: Map<string, number>,
  outcome: OutboundOutcome,
) {
  const waitedEnough = new Set([...waits].filter(([, n]) => n >= maxWaits).map(([localId]) => localId));
  const planNow = async () => {
    const rows = await db.loadOutboundState(connectionId, entityType, [...idsByLocal.keys()]);
    const mapped = rows.filter((r) => r.remote_id).map((r) => r.local_id);
    return { rows, plan: planOutbound(entityType, rows, waitedEnough, await db.heldConflictFields(connectionId, entityType, mapped)) };
  };
  let { rows, plan } = await planNow();
  if (plan.updates.length > 0 && new ConflictPolicy(await db.loadConflictStrategies(connectionId)).guardsWrites(entityType) &&
      await applyUnseenRemoteChanges(db, adapter, connectionId, entityType, plan.updates)) {
    ({ rows, plan } = await planNow());
  }
  // A deletion is read first whatever the rules: an edit made in the CRM after the local delete (its webhook still
  // on the way) would be deleted with the record, unseen. Applied, it restores the record when it is the later change.
  if (plan.archives.length > 0) {
    const baseOf = new Map(rows.map((r) => [r.local_id, r.base]));
    if (await applyUnseenRemoteChanges(db, adapter, connectionId, entityType,
                                       plan.archives.map((a) => ({ remoteId: a.remoteId, base: baseOf.get(a.localId) ?? {} })))) {
      ({ rows, plan } = await planNow());
    }
  }
  const byLocal = new Map(rows.map((r) => [r.local_id, r]));
  const touched = new Set<string>();
  const written = new Set<string>();

  const settle = async (results: WriteResult[], toResult: (r: Extract<WriteResult, { ok: true }>) => OutboundResult) => {
    const recorded: OutboundResult[] = [];
    for (const result of results) {
      touched.add(result.localId);
      const ids = idsByLocal.get(result.localId) ?? [];
      if (result.ok) {
        recorded.push(toResult(result));
        written.add(result.localId);
        outcome.done.push(...ids);
        if (result.unmapped.length) {
          await db.reportUnmapped(connectionId, 'outbound', result.unmapped.map((u) => ({ ...u, entityType, localId: result.localId })));
        }
      } else {
        outcome.stats.failed++;
        if (result.retryAfterMs !== undefined) outcome.retry.push({ ids, error: result.error, waitMs: result.retryAfterMs });
        else (result.retryable ? outcome.retry : outcome.rejected).push({ ids, error: result.error });
      }
    }
    await db.recordOutboundResults(connectionId, entityType, recorded);
  };

  for (const batch of chunks(plan.creates, writeBatchSize)) {
    const results = await adapter.createRecords(entityType, batch);
    const copies = await removeCopies(db, adapter, connectionId, entityType, results, byLocal);
    outcome.stats.created += results.filter((r) => r.ok && !copies.has(r.localId)).length;
    if (copies.size > 0) {
      // Compared again with the record each is mapped to now.
      await db.queueOutbound([...copies].map((localId) => ({ connection_id: connectionId, entity_type: entityType, local_id: localId, op: 'upsert' })));
      for (const localId of copies) {
        touched.add(localId);
        outcome.done.push(...(idsByLocal.get(localId) ?? []));
      }
    }
    await settle(results.filter((r) => !copies.has(r.localId)), (r) => ({
      local_id: r.localId, remote_id: r.remoteId, remote_updated_at: r.remoteUpdatedAt,
      base: r.written, base_references: r.references,
    }));
  }
  for (const batch of chunks(plan.updates, writeBatchSize)) {
    await db.markOutboundPending(connectionId, entityType, batch.map((u) => ({ local_id: u.localId, fields: u.fields })));
    const results = await adapter.updateRecords(entityType, batch);
    outcome.stats.updated += results.filter((r) => r.ok).length;
    const planned = new Map(batch.map((u) => [u.localId, u]));
    await settle(results, (r) => {
      const update = planned.get(r.localId)!;
      return {
        local_id: r.localId, remote_id: r.remoteId, remote_updated_at: r.remoteUpdatedAt,
        base: { ...update.base, ...r.written }, base_references: { ...update.baseReferences, ...r.references },
        written_fields: Object.keys(update.fields),
      };
    });
  }
  // A record that changed while it was being written may have had that change
  // sent and recorded by another worker meanwhile, and the shadow recorded
  // here (or a late replay of this write) may hide it: queue it again, so the
  // next run compares the row with the shadow as it now stands.
  if (written.size > 0) {
    const changed = (await db.loadOutboundState(connectionId, entityType, [...written])).filter((now) =>
      now.local !== null && toMillis(now.local_updated_at) !== toMillis(byLocal.get(now.local_id)?.local_updated_at)
    );
    await db.queueOutbound(changed.map((r) => ({ connection_id: connectionId, entity_type: entityType, local_id: r.local_id, op: 'upsert' })));
  }

  for (const batch of chunks(plan.archives, writeBatchSize)) {
    const results = await adapter.archiveRecords(entityType, batch);
    outcome.stats.archived += results.filter((r) => r.ok).length;
    await settle(results, (r) => ({
      local_id: r.localId, remote_id: r.remoteId, remote_updated_at: r.remoteUpdatedAt,
      base: byLocal.get(r.localId)?.base ?? {}, base_references: byLocal.get(r.localId)?.base_references ?? {}, deleted: true,
    }));
  }

  // Records pointing at something not yet in this CRM: send that first, then try again shortly.
  if (plan.waits.length > 0) {
    const dependencies = new Map<string, { entity_type: EntityType; local_id: string }>();
    for (const wait of plan.waits) {
      for (const d of wait.dependencies) dependencies.set(`${d.entityType}:${d.localId}`, { entity_type: d.entityType, local_id: d.localId });
    }
    await db.queueOutbound([...dependencies.values()].map((d) => ({ connection_id: connectionId, ...d, op: 'upsert' })));
    await db.queueOutbound(plan.waits.map((w) => ({
      connection_id: connectionId, entity_type: entityType, local_id: w.localId, op: 'upsert', waits: (waits.get(w.localId) ?? 0) + 1,
    })), 2);
    for (const wait of plan.waits) {
      touched.add(wait.localId);
      outcome.done.push(...(idsByLocal.get(wait.localId) ?? []));
    }
    outcome.stats.waiting += plan.waits.length;
  }

  // Messages whose record needed no write (already in sync) are done too.
  for (const [localId, ids] of idsByLocal) {
    if (touched.has(localId)) continue;
    outcome.stats.unchanged++;
    outcome.done.push(...ids);
  }
}

/**
 * Records mapped to another remote record while this run created them (another
 * worker run created them too, or the webhook of that creation was matched by
 * email): the copy made here is removed from the CRM again, so neither side
 * keeps two. Returns their local ids.
 */
async function removeCopies(db: OutboundDb, adapter: CrmAdapter, connectionId: string, entityType: EntityType,
                            results: WriteResult[], planned: Map<string, OutboundState>): Promise<Set<string>> {
  const made = results.filter((r): r is Extract<WriteResult, { ok: true }> => r.ok);
  if (made.length === 0) return new Set();
  const mapped = new Map((await db.remoteIdsOfLocal(connectionId, made.map((r) => r.localId))).map((m) => [m.local_id, m.remote_id]));
  // (A record created anew in place of one deleted there is still mapped to the deleted one.)
  const copies = made.filter((r) => mapped.has(r.localId) && ![r.remoteId, planned.get(r.localId)?.remote_id].includes(mapped.get(r.localId)));
  if (copies.length > 0) await adapter.archiveRecords(entityType, copies.map((r) => ({ localId: r.localId, remoteId: r.remoteId })));
  return new Set(copies.map((r) => r.localId));
}

/**
 * Reads the CRM's current state of the records about to be updated or
 * deleted; those the CRM changed since the shadow (their webhook has not
 * arrived yet) are resolved and applied first, as inbound changes, so the
 * write that follows carries the settled values instead of overwriting (or
 * deleting) the CRM's edit unseen. Returns whether any record was applied
 * (the caller plans again).
 */
async function applyUnseenRemoteChanges(db: OutboundDb, adapter: CrmAdapter, connectionId: string, entityType: EntityType,
                                        updates: Pick<OutboundUpdate, 'remoteId' | 'base'>[]): Promise<boolean> {
  const baseOf = new Map(updates.map((u) => [u.remoteId, u.base]));
  const moved = [];
  for (const batch of chunks(updates, writeBatchSize)) {
    for (const record of await adapter.fetchRecords(entityType, batch.map((u) => u.remoteId))) {
      const base = baseOf.get(record.remoteId) ?? {};
      const changed = record.archived ||
        Object.entries(record.fields as Record<string, unknown>).some(([field, value]) => !sameValue(value, base[field]));
      if (changed) moved.push(record);
    }
  }
  if (moved.length === 0) return false;
  const stats: InboundStats = { skipped: 0, fetched: moved.length, created: 0, updated: 0, deleted: 0, stale: 0, merged: 0, erased: 0, conflicts: 0 };
  await applyRecords(db, connectionId, entityType, moved, stats);
  return true;
}

/**
 * Merges made in the app (sync._apply_local_merge queued them): the CRM folds
 * the merged record into the survivor's, then the merged record's identity row
 * goes, so the CRM's merge webhook finds nothing left to do. A merge whose
 * records are no longer both mapped here (done before) needs nothing.
 */
async function syncMerges(
  db: OutboundDb,
  adapter: CrmAdapter,
  connectionId: string,
  entityType: EntityType,
  messages: QueueMessage<OutboundMessage>[],
  outcome: OutboundOutcome,
) {
  const localIds = [...new Set(messages.flatMap((m) => [m.message.local_id, m.message.merged_local_id ?? '']).filter(Boolean))];
  const rows = await db.loadOutboundState(connectionId, entityType, localIds);
  const remoteOf = new Map(rows.map((r) => [r.local_id, r.remote_id]));
  const idsByPair = new Map<string, { ids: number[]; input: { survivorLocalId: string; survivorRemoteId: string; mergedRemoteId: string } }>();
  for (const m of messages) {
    const survivorRemoteId = remoteOf.get(m.message.local_id);
    const mergedRemoteId = m.message.merged_local_id ? remoteOf.get(m.message.merged_local_id) : null;
    if (!survivorRemoteId || !mergedRemoteId || survivorRemoteId === mergedRemoteId) {
      outcome.stats.unchanged++;
      outcome.done.push(m.msg_id);
      continue;
    }
    const key = `${survivorRemoteId}<${mergedRemoteId}`;
    const entry = idsByPair.get(key) ?? { ids: [], input: { survivorLocalId: m.message.local_id, survivorRemoteId, mergedRemoteId } };
    entry.ids.push(m.msg_id);
    idsByPair.set(key, entry);
  }
  if (idsByPair.size === 0) return;
  const pairs = [...idsByPair.values()];
  const results = await adapter.mergeRecords(entityType, pairs.map((p) => p.input));
  for (const result of results) {
    const ids = pairs.find((p) => p.input.survivorLocalId === result.survivorLocalId && p.input.mergedRemoteId === result.mergedRemoteId)?.ids ?? [];
    if (result.ok) {
      await db.recordRemoteMerge(connectionId, entityType, result.mergedRemoteId);
      outcome.stats.merged++;
      outcome.done.push(...ids);
    } else {
      outcome.stats.failed++;
      (result.retryable ? outcome.retry : outcome.rejected).push({ ids, error: result.error });
    }
  }
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
