// Reconciliation of one record: a checksum of the mapped fields on each side
// (the CRM's listing, the local row) says whether anything differs (`agrees`);
// when it does, each differing field becomes a drift row saying which side
// wins and how it is settled, decided by the engine's own resolver against the
// shadow (`compareRecord`, on the record's full inbound state).
// A mapped record the CRM no longer has is drift too (missing_remote), and so
// is a reference that points elsewhere on each side (`company_id` ...: the
// CRM's reference is applied, as every inbound change applies it).
import { referenceColumn, type ReferenceName, type RemoteRecord } from '../model/unified.ts';
import type { InboundDecision, InboundState } from '../sync/resolve-inbound.ts';
import { canonical, sameValue } from '../sync/values.ts';
import type { DriftRow } from './job-db.ts';

/** FNV-1a (32 bit) of the canonical values of `names`, in order: equal values give equal checksums. */
export function fieldsChecksum(fields: Record<string, unknown>, names: string[]): string {
  let hash = 0x811c9dc5;
  for (const name of names) {
    const text = `${name}=${canonical(fields[name])};`;
    for (let i = 0; i < text.length; i++) {
      hash ^= text.charCodeAt(i);
      hash = Math.imul(hash, 0x01000193);
    }
  }
  return (hash >>> 0).toString(16).padStart(8, '0');
}

/** What a comparison reads of the local side (sync.load_reconcile_state): an InboundState has it too. */
export interface LocalSide {
  localId: string | null;
  /** The local row's synced columns (a full state's row has more; only the CRM's fields are compared). */
  local: Record<string, unknown> | null;
  localDeleted: boolean;
}

/** The local side's references as remote ids (null when unset or unmapped); absent when not compared. */
export type LocalReferences = Partial<Record<ReferenceName, string | null>>;

/**
 * Whether a listed CRM record and its local side agree, so that comparing
 * them in full would find no drift: the check run on every record, on what
 * sync.load_reconcile_state reads (most records agree; the rest are compared
 * with compareRecord on their full state).
 */
export function agrees(remote: RemoteRecord, side: LocalSide, localReferences?: LocalReferences): boolean {
  const live = side.localId !== null && side.local !== null && !side.localDeleted;
  if (remote.archived) return !live;
  if (!live) return false;
  if (localReferences) {
    for (const name of Object.keys(remote.references) as ReferenceName[]) {
      if ((remote.references[name] ?? null) !== (localReferences[name] ?? null)) return false;
    }
  }
  const names = Object.keys(remote.fields).sort();
  return fieldsChecksum(side.local!, names) === fieldsChecksum(remote.fields as Record<string, unknown>, names);
}

/**
 * The drift between a listed CRM record and what Postgres holds for it (none
 * when they agree). `decide` gives the resolver's decision for this record and
 * state, asked only when a field differs: a field it sets locally is the CRM's
 * win, a field it holds for review is alerted, any other differing field is
 * the database's win.
 */
export function compareRecord(remote: RemoteRecord, state: InboundState, decide: () => InboundDecision,
                              localReferences?: LocalReferences): DriftRow[] {
  const head = { entity_type: remote.entityType, remote_id: remote.remoteId, local_id: state.localId };
  if (remote.archived) {
    if (!state.localId || !state.local || state.localDeleted) return [];
    if (state.remoteDeleted) {
      // Its deletion known already: the record was restored here since and belongs in the CRM anew. Queued
      // again, in case the restore crossed the deletion and nothing else queued it.
      return [{
        ...head, field: '*', kind: 'missing_remote', local_value: null, remote_value: null, base_value: null,
        winner: 'local', resolution: 'queued_outbound', detail: 'deleted in the CRM, restored locally since: created there anew',
      }];
    }
    // Gone from the CRM while live here: the engine applies the CRM's deletion.
    return [{
      ...head, field: '*', kind: 'missing_remote', local_value: null, remote_value: null, base_value: null,
      winner: 'remote', resolution: 'applied_locally', detail: 'gone from the CRM, live locally',
    }];
  }
  const remoteFields = remote.fields as Record<string, unknown>;
  if (!state.localId || !state.local) {
    return [{
      ...head, field: '*', kind: 'missing_local', local_value: null, remote_value: remoteFields, base_value: null,
      winner: 'remote', resolution: 'applied_locally',
    }];
  }
  if (state.localDeleted) {
    // Deleted here, live there: the later of the two wins (a newer CRM record is restored, else the CRM's is archived).
    const restore = decide().change.restore === true;
    return [{
      ...head, field: '*', kind: 'missing_local', local_value: null, remote_value: remoteFields, base_value: null,
      winner: restore ? 'remote' : 'local', resolution: restore ? 'applied_locally' : 'queued_outbound',
      detail: 'deleted locally, live in the CRM',
    }];
  }
  const drift: DriftRow[] = [];
  if (localReferences) {
    // References as remote ids on both sides (the local one through the identity map; null when unset or unmapped).
    for (const name of Object.keys(remote.references).sort() as ReferenceName[]) {
      const remoteRef = remote.references[name] ?? null;
      const localRef = localReferences[name] ?? null;
      if (remoteRef === localRef) continue;
      drift.push({
        ...head, field: referenceColumn[name], kind: 'field', local_value: localRef, remote_value: remoteRef, base_value: null,
        winner: 'remote', resolution: 'applied_locally', detail: 'reference, as remote ids',
      });
    }
  }
  const differing = Object.keys(remoteFields).sort().filter((field) => !sameValue(state.local![field], remoteFields[field]));
  if (differing.length === 0) return drift;
  const decision = decide();
  const set = decision.change.set ?? {};
  const held = new Set(decision.conflicts.filter((c) => c.winner !== 'local' && c.winner !== 'remote').map((c) => c.field));
  for (const field of differing) {
    const values = {
      ...head, field, kind: 'field' as const, local_value: state.local[field] ?? null, remote_value: remoteFields[field] ?? null,
      base_value: state.base[field] ?? null,
    };
    if (held.has(field)) drift.push({ ...values, winner: null, resolution: 'alerted', detail: 'held for manual review' });
    else if (field in set) drift.push({ ...values, winner: 'remote', resolution: 'applied_locally' });
    else drift.push({ ...values, winner: 'local', resolution: 'queued_outbound' });
  }
  return drift;
}
