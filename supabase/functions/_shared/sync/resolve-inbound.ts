// Decides what a remote record changes locally, three-way and per field:
// base is the shadow (what this CRM held last), local the row, remote the
// record just fetched. A field changed on one side only is taken from that
// side, whatever the strategy; a field changed differently on both sides is a
// conflict, settled by the tenant's rule for that field (settle-conflict.ts).
// A field held for manual review keeps its local value. Provider-neutral: the
// webhook path and reconciliation both call it with the connection's source.
import type { EntityType, RemoteRecord } from '../model/unified.ts';
import type { Provider } from '../providers/adapter.ts';
import type { ConflictPolicy, StrategyName } from './conflict-policy.ts';
import { settleConflict } from './settle-conflict.ts';
import { sameValue, toMillis } from './values.ts';

/** What the database holds for the record (sync.load_inbound_state / match_local_records). */
export interface InboundState {
  localId: string | null;
  base: Record<string, unknown>;
  local: Record<string, unknown> | null;
  localUpdatedAt: string | null;
  localDeleted: boolean;
  /** True when the local record was found by email/domain, not by the identity map. */
  matched: boolean;
  /** Fields of the record held for manual review (sync.held_conflict_fields). */
  held?: string[];
  /** The modification time of the engine's last write to the CRM record (identity_map.remote_written_at). */
  remoteWrittenAt?: string | null;
  /** The mapped CRM record is known to be deleted there (the engine archived it, or applied that deletion). */
  remoteDeleted?: boolean;
  /**
   * Per field, the values the engine is writing to the CRM record right now
   * (not in the shadow yet; several when writes overlap): read back, they are
   * no CRM edit.
   */
  pendingWrite?: Record<string, unknown[]>;
}

/** The rules in force and the CRM side of the comparison. */
export interface ResolveContext {
  entityType: EntityType;
  policy: ConflictPolicy;
  provider: Provider;
  connectionId: string;
}

/** One element of sync.apply_inbound_changes' p_changes. */
export interface InboundChange {
  remote_id: string;
  remote_updated_at: string;
  local_id?: string;
  expected_local_updated_at?: string;
  /** Decided as a new record: if another worker maps it meanwhile, the apply answers retry. */
  expected_unmapped?: boolean;
  set?: Record<string, unknown>;
  base?: Record<string, unknown>;
  references?: Record<string, string | null>;
  deleted?: boolean;
  restore?: boolean;
}

/** One decision on a true conflict, as sync.record_conflict_decisions records it. */
export interface FieldConflict {
  field: string;
  base: unknown;
  local: unknown;
  remote: unknown;
  /** pending: held for manual review (opens the field's conflict, or refreshes the open one). */
  winner: 'local' | 'remote' | 'merged' | 'pending';
  /** The value the field holds after the decision. */
  value: unknown;
  strategy: StrategyName;
  scope: 'field' | 'entity' | 'tenant' | 'default' | 'review';
  reason: string;
}

export interface InboundDecision {
  change: InboundChange;
  conflicts: FieldConflict[];
}

/**
 * A deletion known already, seen again (the webhook of the engine's own
 * archive, late) while the local record is live: it was restored since by a
 * later edit elsewhere, and is created in this CRM anew (plan-outbound.ts).
 * Nothing to apply.
 */
export function isKnownDeletion(remote: RemoteRecord, state: InboundState): boolean {
  return remote.archived && state.remoteDeleted === true && state.local !== null && !state.localDeleted;
}

export function resolveInbound(remote: RemoteRecord, state: InboundState, context: ResolveContext): InboundDecision {
  const head = { remote_id: remote.remoteId, remote_updated_at: remote.remoteUpdatedAt };
  const guard = state.localId && state.localUpdatedAt
    ? { local_id: state.localId, expected_local_updated_at: state.localUpdatedAt }
    : { expected_unmapped: true };

  if (remote.archived) {
    return { change: { ...head, ...guard, deleted: true }, conflicts: [] };
  }

  const fields = remote.fields as Record<string, unknown>;
  if (!state.local) {
    return { change: { ...head, set: { ...fields }, base: { ...fields }, references: { ...remote.references } }, conflicts: [] };
  }

  // When the CRM last modified the record: later than the local change, and not the engine's own write there.
  const modifiedAt = toMillis(remote.modifiedAt ?? remote.remoteUpdatedAt);
  const modifiedLater = modifiedAt > (state.localUpdatedAt ? toMillis(state.localUpdatedAt) : 0) &&
    !(state.remoteWrittenAt && modifiedAt === toMillis(state.remoteWrittenAt));
  const held = new Set(state.held ?? []);
  const set: Record<string, unknown> = {};
  const conflicts: FieldConflict[] = [];
  let remoteEdited = false;
  const pending = state.pendingWrite ?? {};
  // An edit the engine's own write overwrote there counts as the CRM's value; the shadow keeps what the CRM holds,
  // so outbound writes the result back (inbound.ts, overwrittenEdits).
  const claimed = { ...fields, ...remote.overwritten };
  for (const [field, remoteValue] of Object.entries(claimed)) {
    const localValue = state.local[field];
    // A record attached by matching has no shadow yet: every difference counts as changed on both sides.
    // A mapped record's shadow is complete: a field missing from it was empty when last read or written.
    const hasBase = !state.matched;
    const remoteChanged = !hasBase ||
      (!sameValue(remoteValue, state.base[field]) && !(pending[field] ?? []).some((value) => sameValue(remoteValue, value)));
    // (A value the local record holds too is no news: the engine's own write, perhaps not recorded yet.)
    remoteEdited ||= remoteChanged && !sameValue(remoteValue, localValue);
    if (held.has(field)) {
      // Awaiting review: the local value stays; a new CRM value refreshes the open conflict's snapshot.
      if (remoteChanged) {
        conflicts.push({ field, base: state.base[field], local: localValue, remote: remoteValue, winner: 'pending', value: localValue,
          strategy: 'manual_review', scope: 'review', reason: 'the field awaits review; the CRM changed it again' });
      }
      continue;
    }
    if (sameValue(localValue, remoteValue)) continue;
    const localChanged = !hasBase || !sameValue(localValue, state.base[field]);
    if (!remoteChanged) continue; // only the database changed it: outbound sends it
    if (!localChanged) {
      set[field] = remoteValue;
      continue;
    }
    const rule = context.policy.ruleFor(context.entityType, field);
    const settled = settleConflict(rule,
      { source: 'supabase', id: 'supabase', value: localValue, changedAt: state.localUpdatedAt },
      { source: context.provider, id: context.connectionId, value: remoteValue, changedAt: remote.remoteUpdatedAt });
    conflicts.push({ field, base: state.base[field], local: localValue, remote: remoteValue, ...settled,
      strategy: rule.strategy, scope: rule.scope });
    if (settled.winner === 'remote' || settled.winner === 'merged') set[field] = settled.value;
  }

  return {
    change: {
      ...head,
      ...guard,
      set,
      base: { ...fields },
      references: { ...remote.references },
      // A local deletion loses only to a later edit in the CRM, one the shadow does not hold yet. A change
      // already applied, seen again (a redelivered webhook, a reconciliation) is no reason to restore, even
      // when it looks later: Pipedrive's whole-second times date a user's change to the end of its second.
      // Nor is a change the shadow lacks when the record was last modified before the deletion (a read
      // dated later is not a later edit) or by the engine's own write: that change came before the write,
      // not provably after the deletion. A record whose deletion in the CRM is known here and which the CRM has
      // live again was restored there (HubSpot's restore): that is the later change, edited or not (only a newer
      // version than the deletion's is applied at all).
      restore: state.localDeleted && ((modifiedLater && remoteEdited) || state.remoteDeleted === true),
    },
    conflicts,
  };
}
