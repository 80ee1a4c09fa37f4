// Decides what a batch of local changes means for one CRM: which records to
// create, which fields and references to update (only those that differ
// from the shadow), which records to archive, and which must wait until a
// record they point at exists in that CRM.
import { type EntityType, fieldSchemas, type ReferenceName, referenceColumn } from '../model/unified.ts';
import { sameValue } from './values.ts';

/** One row of sync.load_outbound_state. */
export interface OutboundState {
  local_id: string;
  local: Record<string, unknown> | null;
  local_updated_at: string | null;
  remote_id: string | null;
  remote_deleted: boolean;
  base: Record<string, unknown>;
  base_references: Record<string, string | null>;
  local_references: Record<string, string | null> | null;
}

export interface OutboundCreate {
  localId: string;
  fields: Record<string, unknown>;
  references: Record<string, string>;
}

export interface OutboundUpdate {
  localId: string;
  remoteId: string;
  fields: Record<string, unknown>;
  /** References whose remote id changed: the new target, or null to remove. */
  references: Record<string, string | null>;
  base: Record<string, unknown>;
  baseReferences: Record<string, string | null>;
}

export interface OutboundArchive {
  localId: string;
  remoteId: string;
}

export interface OutboundWait {
  localId: string;
  /** Records (entity type, local id) that must reach the CRM first. */
  dependencies: { entityType: EntityType; localId: string }[];
}

export interface OutboundPlan {
  creates: OutboundCreate[];
  updates: OutboundUpdate[];
  archives: OutboundArchive[];
  waits: OutboundWait[];
}

const referencedEntity: Record<ReferenceName, EntityType> = { company: 'company', contact: 'contact', deal: 'deal' };

export function syncedFields(entityType: EntityType): string[] {
  return Object.keys(fieldSchemas[entityType].shape);
}

/**
 * @param giveUpWaiting local ids that have waited long enough for a referenced
 *   record (it may have failed for good): they go out without that reference.
 * @param held fields held for manual review, by local id: not sent until resolved.
 */
export function planOutbound(entityType: EntityType, rows: OutboundState[], giveUpWaiting: ReadonlySet<string> = new Set(),
                             held: ReadonlyMap<string, string[]> = new Map()): OutboundPlan {
  const plan: OutboundPlan = { creates: [], updates: [], archives: [], waits: [] };
  const fieldNames = syncedFields(entityType);

  for (const row of rows) {
    const deleted = row.local === null || row.local.deleted_at != null;
    if (deleted) {
      if (row.remote_id && !row.remote_deleted) plan.archives.push({ localId: row.local_id, remoteId: row.remote_id });
      continue;
    }
    const local = row.local as Record<string, unknown>;
    const allRefs = row.local_references ?? {};
    const missing = Object.entries(allRefs).filter(([, remoteId]) => remoteId === '');
    const refs = Object.fromEntries(Object.entries(allRefs).filter(([, remoteId]) => remoteId !== ''));
    if (missing.length > 0 && !giveUpWaiting.has(row.local_id)) {
      plan.waits.push({
        localId: row.local_id,
        dependencies: missing.map(([name]) => ({
          entityType: referencedEntity[name as ReferenceName],
          localId: String(local[referenceColumn[name as ReferenceName]]),
        })),
      });
      continue;
    }

    // Not in this CRM yet, or deleted there and live again here (an edit made after the deletion elsewhere
    // restored it): created there anew.
    if (!row.remote_id || row.remote_deleted) {
      const fields = Object.fromEntries(fieldNames.filter((f) => local[f] != null).map((f) => [f, local[f]]));
      const references = Object.fromEntries(Object.entries(refs).filter(([, v]) => v)) as Record<string, string>;
      plan.creates.push({ localId: row.local_id, fields, references });
      continue;
    }

    const heldFields = held.get(row.local_id) ?? [];
    const fields = Object.fromEntries(
      fieldNames.filter((f) => !heldFields.includes(f) && !sameValue(local[f], row.base[f])).map((f) => [f, local[f] ?? null]),
    );
    const references = Object.fromEntries(
      Object.entries(refs).filter(([name, remoteId]) => (row.base_references[name] ?? null) !== remoteId),
    );
    if (Object.keys(fields).length === 0 && Object.keys(references).length === 0) continue;
    plan.updates.push({
      localId: row.local_id,
      remoteId: row.remote_id,
      fields,
      references,
      base: row.base,
      baseReferences: row.base_references,
    });
  }
  return plan;
}
