// Decides what a remote record changes locally, three-way and per field:
// base is the shadow (what this CRM held last), local the row, remote the
// record just fetched. A field changed on one side only is taken from that
// side; a field changed differently on both sides is a conflict, settled by
// the timestamp strategy (the later change wins; on a tie the database, the
// source of truth, wins, so every run reaches the same answer).
import type { RemoteRecord } from '../model/unified.ts';
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

export interface FieldConflict {
  field: string;
  base: unknown;
  local: unknown;
  remote: unknown;
  winner: 'local' | 'remote';
  strategy: 'timestamp';
}

export interface InboundDecision {
  change: InboundChange;
  conflicts: FieldConflict[];
}

export function resolveInbound(remote: RemoteRecord, state: InboundState): InboundDecision {
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

  const remoteIsNewer = toMillis(remote.remoteUpdatedAt) > (state.localUpdatedAt ? toMillis(state.localUpdatedAt) : 0);
  const set: Record<string, unknown> = {};
  const conflicts: FieldConflict[] = [];
  for (const [field, remoteValue] of Object.entries(fields)) {
    const localValue = state.local[field];
    if (sameValue(localValue, remoteValue)) continue;
    // A record attached by matching has no shadow yet: every difference counts as changed on both sides.
    const hasBase = !state.matched && field in state.base;
    const remoteChanged = !hasBase || !sameValue(remoteValue, state.base[field]);
    const localChanged = !hasBase || !sameValue(localValue, state.base[field]);
    if (!remoteChanged) continue; // only the database changed it: outbound sends it
    if (!localChanged) {
      set[field] = remoteValue;
      continue;
    }
    const winner = remoteIsNewer ? 'remote' : 'local';
    conflicts.push({ field, base: state.base[field], local: localValue, remote: remoteValue, winner, strategy: 'timestamp' });
    if (winner === 'remote') set[field] = remoteValue;
  }

  return {
    change: {
      ...head,
      ...guard,
      set,
      base: { ...fields },
      references: { ...remote.references },
      restore: state.localDeleted && remoteIsNewer,
    },
    conflicts,
  };
}
