// Inbound sync of one connection: provider events → current remote state →
// three-way resolution → one guarded apply per entity type. Events are
// coalesced per record and the current state is fetched in batches, so a
// burst of property changes to one record costs one read, and a late or
// duplicated event cannot undo a newer state.
import type { EntityType, RemoteRecord } from '../model/unified.ts';
import type { CrmAdapter, InboundWork, OwnWriteChange } from '../providers/adapter.ts';
import { ConflictPolicy } from './conflict-policy.ts';
import {
  type FieldConflict,
  type InboundChange,
  type InboundState,
  isKnownDeletion,
  type ResolveContext,
  resolveInbound,
} from './resolve-inbound.ts';
import type { InboundStateRow, SyncDb } from './sync-db.ts';
import { sameValue, toMillis } from './values.ts';

/** Parents first, so references resolve in the same pass. */
export const entityOrder: EntityType[] = ['company', 'contact', 'deal', 'activity', 'task'];
const fetchBatchSize = 100;
const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const maxRetries = 3;

export interface InboundStats {
  /** Records whose events were already applied (echoes, duplicates): not fetched. */
  skipped: number;
  fetched: number;
  created: number;
  updated: number;
  deleted: number;
  stale: number;
  merged: number;
  erased: number;
  conflicts: number;
}

type InboundDb = Pick<SyncDb, 'loadInboundState' | 'matchLocalRecords' | 'applyInboundChanges' | 'reportUnmapped' | 'loadOutboundState' |
  'connection' | 'loadConflictStrategies' | 'heldConflictFields' | 'queueOutbound'> & {
  applyRemoteMerge(connectionId: string, entityType: EntityType, primary: string, merged: string[]): Promise<void>;
  applyRemoteErasure(connectionId: string, entityType: EntityType, remoteId: string): Promise<void>;
};

export async function syncInbound(db: InboundDb, adapter: CrmAdapter, connectionId: string, events: unknown[]): Promise<InboundStats> {
  const stats: InboundStats = { skipped: 0, fetched: 0, created: 0, updated: 0, deleted: 0, stale: 0, merged: 0, erased: 0, conflicts: 0 };
  const work = [...adapter.interpretEvents(events)];
  const referrers = await referrersOfRestored(adapter, work);
  for (const [entityType, ids] of referrers) {
    for (const [remoteId, occurredAt] of ids) work.push({ kind: 'fetch', entityType, remoteId, occurredAt });
  }

  for (const item of work.filter((w) => w.kind === 'merge')) {
    await db.applyRemoteMerge(connectionId, item.entityType, item.primaryRemoteId, item.mergedRemoteIds);
    stats.merged++;
  }
  const erased = new Set<string>();
  for (const item of work.filter((w) => w.kind === 'erase')) {
    await db.applyRemoteErasure(connectionId, item.entityType, item.remoteId);
    erased.add(`${item.entityType}:${item.remoteId}`);
    stats.erased++;
  }

  for (const entityType of entityOrder) {
    // Every event time per record: an echo and an earlier CRM edit of one record can arrive together.
    const eventTimes = new Map<string, number[]>();
    const ownWrites = new Map<string, OwnWriteEvent[]>();
    const lastKnown = new Map<string, { occurredAt: number; read: () => RemoteRecord | undefined }>();
    for (const item of work) {
      for (const id of fetchTargets(item, entityType)) {
        if (erased.has(`${entityType}:${id}`)) continue;
        eventTimes.set(id, [...(eventTimes.get(id) ?? []), item.occurredAt]);
        if (item.kind === 'fetch' && item.ownWrite) {
          ownWrites.set(id, [...(ownWrites.get(id) ?? []), { occurredAt: item.occurredAt, change: item.ownWrite }]);
        }
        // The latest event's (a deletion's previous state is the last there was).
        const read = 'lastKnown' in item ? item.lastKnown : undefined;
        if (read && !((lastKnown.get(id)?.occurredAt ?? -Infinity) > item.occurredAt)) lastKnown.set(id, { occurredAt: item.occurredAt, read });
      }
    }
    const { remoteIds, rows } = await withoutAppliedEvents(db, connectionId, entityType, eventTimes);
    const overwritten = overwrittenEdits(ownWrites, rows);
    // An echo that shows an overwritten edit is fetched although applied: the edit is restored from it.
    const toFetch = [...new Set([...remoteIds, ...overwritten.keys()])];
    stats.skipped += eventTimes.size - toFetch.length;
    for (let i = 0; i < toFetch.length; i += fetchBatchSize) {
      const records = (await adapter.fetchRecords(entityType, toFetch.slice(i, i + fetchBatchSize)))
        .map((r) => datedAsOf(r, referrers.get(entityType)?.get(r.remoteId)));
      stats.fetched += records.length;
      // A record gone from the CRM whose events carried its last state: that state first (an edit made just before the
      // deletion is kept should the record live on, restored by a later edit elsewhere), then the deletion. Only for
      // mapped records: one never seen here is not created just to be deleted.
      const before = records.flatMap((r) => {
        const known = r.archived && rows.get(r.remoteId)?.local_id ? lastKnown.get(r.remoteId)?.read() : undefined;
        if (!known) return [];
        // That state preceded the read that found the record gone: dated before it, so the deletion is the later version.
        const readAt = toMillis(r.remoteUpdatedAt) - 1;
        return [toMillis(known.remoteUpdatedAt) <= readAt ? known : { ...known, remoteUpdatedAt: new Date(readAt).toISOString() }];
      });
      if (before.length) await applyRecords(db, connectionId, entityType, before, stats, rows);
      await applyRecords(db, connectionId, entityType, records.map((r) => withOverwritten(r, overwritten.get(r.remoteId))), stats,
        before.length ? undefined : rows);
    }
  }
  return stats;
}

/**
 * Records that reference restored ones, to be read again, with the restore's
 * time (by entity type and remote id): the CRM brought the associations back
 * without an event of theirs, and a read made while the record was deleted
 * lost the reference.
 */
async function referrersOfRestored(adapter: CrmAdapter, work: InboundWork[]): Promise<Map<EntityType, Map<string, number>>> {
  const reads = new Map<EntityType, Map<string, number>>();
  if (!adapter.referrers) return reads;
  const restored = new Map<EntityType, Map<string, number>>();
  const note = (into: Map<EntityType, Map<string, number>>, entityType: EntityType, remoteId: string, at: number) => {
    const ids = into.get(entityType) ?? new Map<string, number>();
    ids.set(remoteId, Math.max(ids.get(remoteId) ?? -Infinity, at));
    into.set(entityType, ids);
  };
  for (const item of work) {
    if (item.kind === 'fetch' && item.restored) note(restored, item.entityType, item.remoteId, item.occurredAt);
  }
  for (const [entityType, ids] of restored) {
    const latest = Math.max(...ids.values());
    for (const referrer of await adapter.referrers(entityType, [...ids.keys()])) note(reads, referrer.entityType, referrer.remoteId, latest);
  }
  return reads;
}

/**
 * A record read again because a record it references was restored: its
 * references changed then, although its own modified date says otherwise, so
 * that restore is its version (its modified date stays what it was, for
 * conflicts). Otherwise the version already applied would make it stale.
 */
function datedAsOf(record: RemoteRecord, restoredAt: number | undefined): RemoteRecord {
  if (restoredAt === undefined || record.archived || toMillis(record.remoteUpdatedAt) >= restoredAt) return record;
  return { ...record, remoteUpdatedAt: new Date(restoredAt).toISOString(), modifiedAt: record.modifiedAt ?? record.remoteUpdatedAt };
}

interface OwnWriteEvent {
  occurredAt: number;
  change: OwnWriteChange;
}

/** A field the engine's write changed unasked: what an unseen CRM edit had set, and what the write left. */
interface OverwrittenEdit {
  was: unknown;
  wrote: unknown;
}

/**
 * Edits in the CRM that the engine's own writes overwrote unseen. A CRM that
 * writes some fields only together (a Pipedrive person's name parts) gets the
 * ones the engine was not asked to write as the engine read them just before;
 * if the echo says such a field changed, a user's edit landed between that read
 * and the write, and the write replaced it. The fields a write was asked to
 * write are those recorded with its version (identity_map.written_fields), or
 * those of the write in flight (pending_write). The echo of an older write, or
 * of a write whose fields are not known (a create), is not judged.
 */
function overwrittenEdits(ownWrites: Map<string, OwnWriteEvent[]>, rows: Map<string, InboundStateRow>) {
  const found = new Map<string, Record<string, OverwrittenEdit>>();
  for (const [remoteId, events] of ownWrites) {
    const row = rows.get(remoteId);
    if (!row?.local_id) continue;
    const writtenAt = row.remote_written_at ? toMillis(row.remote_written_at) : null;
    const pending = Object.keys(row.pending_write ?? {});
    for (const { occurredAt, change } of events) {
      if (writtenAt !== null && occurredAt < writtenAt) continue;
      const recorded = writtenAt !== null && occurredAt === writtenAt ? row.written_fields : null;
      if (!recorded && pending.length === 0) continue;
      const asked = new Set([...(recorded ?? []), ...pending]);
      for (const [field, was] of Object.entries(change.before)) {
        if (asked.has(field) || sameValue(was, change.after[field])) continue;
        found.set(remoteId, { ...found.get(remoteId), [field]: { was, wrote: change.after[field] } });
      }
    }
  }
  return found;
}

/** The fetched record with the overwritten edits it still shows the engine's value for (a later edit there stands). */
function withOverwritten(record: RemoteRecord, edits: Record<string, OverwrittenEdit> | undefined): RemoteRecord {
  if (!edits || record.archived) return record;
  const fields = record.fields as Record<string, unknown>;
  const overwritten = Object.fromEntries(Object.entries(edits)
    .filter(([field, edit]) => sameValue(fields[field], edit.wrote))
    .map(([field, edit]) => [field, edit.was]));
  return Object.keys(overwritten).length ? { ...record, overwritten } : record;
}

/**
 * Drops records whose events are already applied: no newer than the version
 * last read and applied (late or repeated events), or at exactly the time of
 * the engine's own last write (its webhook echo). Neither costs an API call.
 * An event older than that write is still fetched: it may be an edit made in
 * the CRM just before the write, to a field the write did not touch.
 */
async function withoutAppliedEvents(db: InboundDb, connectionId: string, entityType: EntityType, eventTimes: Map<string, number[]>) {
  if (eventTimes.size === 0) return { remoteIds: [], rows: new Map<string, InboundStateRow>() };
  const rows = new Map((await db.loadInboundState(connectionId, entityType, [...eventTimes.keys()])).map((row) => [row.remote_id, row]));
  const applied = (id: string, occurredAt: number) => {
    const row = rows.get(id);
    if (!row) return false;
    return (row.remote_updated_at != null && occurredAt <= toMillis(row.remote_updated_at)) ||
      (row.remote_written_at != null && occurredAt === toMillis(row.remote_written_at));
  };
  // The state read here also serves the first apply of these records (see applyRecords).
  return { remoteIds: [...eventTimes].filter(([id, times]) => !times.every((t) => applied(id, t))).map(([id]) => id), rows };
}

/** Remote ids whose current state a work item needs. Deletions are fetched too: the fetch says whether the record is gone. */
function fetchTargets(item: InboundWork, entityType: EntityType): string[] {
  if (item.entityType !== entityType) return [];
  if (item.kind === 'fetch' || item.kind === 'delete') return [item.remoteId];
  if (item.kind === 'merge') return [item.primaryRemoteId];
  return [];
}

/**
 * Resolves and applies one batch; rows whose local record changed meanwhile
 * are read and resolved again. The conflict decisions of the applied changes
 * are recorded in the same transaction. Callable from any path that has
 * fresh remote records (webhooks, reconciliation).
 * @param preloaded state rows already read for these records (the first
 *   attempt uses them; if a row changed since, the guarded apply says retry
 *   and the next attempt reads it again).
 */
export async function applyRecords(db: InboundDb, connectionId: string, entityType: EntityType, records: RemoteRecord[],
                                   stats: InboundStats, preloaded?: Map<string, InboundStateRow>) {
  if (records.length === 0) return;
  const context = await resolveContext(db, connectionId, entityType);
  let pending = records;
  for (let attempt = 0; attempt <= maxRetries && pending.length > 0; attempt++) {
    const states = await loadStates(db, connectionId, entityType, pending, attempt === 0 ? preloaded : undefined);
    const known = pending.filter((r) => isKnownDeletion(r, states.get(r.remoteId)!));
    stats.stale += known.length;
    pending = pending.filter((r) => !known.includes(r));
    if (pending.length === 0) break;
    await markHeldFields(db, connectionId, entityType, states);
    const changes: InboundChange[] = [];
    const conflicts = new Map<string, FieldConflict[]>();
    for (const record of pending) {
      const decision = resolveInbound(record, states.get(record.remoteId)!, context);
      changes.push(decision.change);
      if (decision.conflicts.length) conflicts.set(record.remoteId, decision.conflicts);
    }
    const outcomes = await db.applyInboundChanges(connectionId, entityType, changes, conflicts);
    const retry = new Set<string>();
    for (const o of outcomes) {
      if (o.outcome === 'retry') retry.add(o.remote_id);
      else if (o.outcome === 'created' || o.outcome === 'matched') stats.created++;
      else if (o.outcome === 'updated') stats.updated++;
      else if (o.outcome === 'deleted') stats.deleted++;
      else if (o.outcome === 'stale') stats.stale++;
      if (o.outcome === 'updated' || o.outcome === 'matched') stats.conflicts += conflicts.get(o.remote_id)?.length ?? 0;
    }
    const localIds = new Map(outcomes.map((o) => [o.remote_id, o.local_id]));
    // The CRM holds the engine's value where an overwritten edit was restored: it is written there again.
    const rewrite = pending.filter((r) => r.overwritten && localIds.get(r.remoteId) && outcomes.some((o) =>
      o.remote_id === r.remoteId && o.outcome === 'updated'));
    if (rewrite.length) {
      await db.queueOutbound(rewrite.map((r) => ({ connection_id: connectionId, entity_type: entityType, local_id: localIds.get(r.remoteId), op: 'upsert' })));
    }
    await db.reportUnmapped(connectionId, 'inbound', pending.filter((r) => !retry.has(r.remoteId)).flatMap((r) =>
      r.unmapped.map((u) => ({ ...u, entityType, localId: localIds.get(r.remoteId) ?? null }))));
    pending = pending.filter((r) => retry.has(r.remoteId));
  }
  if (pending.length > 0) {
    throw new Error(`${pending.length} ${entityType} record(s) kept changing locally while being applied; will retry`);
  }
}

/** The conflict policy and source facts the resolver needs for one connection and entity type. */
export async function resolveContext(db: InboundDb, connectionId: string, entityType: EntityType): Promise<ResolveContext> {
  const connection = await db.connection(connectionId);
  if (!connection) throw new Error(`connection ${connectionId} does not exist`);
  return { entityType, policy: new ConflictPolicy(await db.loadConflictStrategies(connectionId)), provider: connection.provider, connectionId };
}

async function markHeldFields(db: InboundDb, connectionId: string, entityType: EntityType, states: Map<string, InboundState>) {
  const localIds = [...new Set([...states.values()].flatMap((s) => (s.localId ? [s.localId] : [])))];
  if (localIds.length === 0) return;
  const held = await db.heldConflictFields(connectionId, entityType, localIds);
  for (const state of states.values()) {
    if (state.localId && held.has(state.localId)) state.held = held.get(state.localId);
  }
}

/** What the resolver needs of a state row (a record found through the identity map). */
export function inboundStateOf(row: InboundStateRow): InboundState {
  return {
    localId: row.local_id,
    base: row.base,
    local: row.local,
    localUpdatedAt: row.local_updated_at,
    localDeleted: row.local_deleted ?? false,
    matched: false,
    remoteWrittenAt: row.remote_written_at ?? null,
    remoteDeleted: row.remote_deleted ?? false,
    pendingWrite: row.pending_write ?? {},
  };
}

async function loadStates(db: InboundDb, connectionId: string, entityType: EntityType, records: RemoteRecord[],
                          preloaded?: Map<string, InboundStateRow>) {
  const rows = preloaded && records.every((r) => preloaded.has(r.remoteId))
    ? records.map((r) => preloaded.get(r.remoteId)!)
    : await db.loadInboundState(connectionId, entityType, records.map((r) => r.remoteId));
  const states = new Map<string, InboundState>(rows.map((row) => [row.remote_id, inboundStateOf(row)]));

  // A new remote record that carries the id of a local record is one the engine
  // created whose result is not recorded yet (the worker stopped after the
  // write, or its answer was lost, and the webhook echo came first): attach
  // to that record, if it is live, in this tenant and not mapped elsewhere.
  const stamped = new Map<string, string>();
  for (const record of records) {
    if (states.get(record.remoteId)?.localId || record.archived || !record.localId || !uuidPattern.test(record.localId)) continue;
    stamped.set(record.localId.toLowerCase(), record.remoteId);
  }
  if (stamped.size > 0) {
    const tenantId = (await db.connection(connectionId))?.tenant_id;
    for (const row of await db.loadOutboundState(connectionId, entityType, [...stamped.keys()])) {
      if (!row.local || row.remote_id || row.local.deleted_at != null || row.local.tenant_id !== tenantId) continue;
      states.set(stamped.get(row.local_id)!, {
        localId: row.local_id,
        base: {},
        local: row.local,
        localUpdatedAt: row.local_updated_at,
        localDeleted: false,
        matched: true,
      });
    }
  }

  // New remote records may already exist locally (same email or domain): attach instead of duplicating.
  const keys: Record<string, string> = {};
  for (const record of records) {
    if (states.get(record.remoteId)?.localId || record.archived) continue;
    const fields = record.fields as Record<string, unknown>;
    const key = entityType === 'contact' ? fields.email : entityType === 'company' ? fields.domain : null;
    if (typeof key === 'string' && key) keys[record.remoteId] = key;
  }
  if (Object.keys(keys).length > 0) {
    const claimed = new Set([...states.values()].map((s) => s.localId));
    for (const match of await db.matchLocalRecords(connectionId, entityType, keys)) {
      if (claimed.has(match.local_id)) continue;
      states.set(match.remote_id, {
        localId: match.local_id,
        base: {},
        local: match.local,
        localUpdatedAt: match.local_updated_at,
        localDeleted: false,
        matched: true,
      });
    }
  }
  return states;
}
