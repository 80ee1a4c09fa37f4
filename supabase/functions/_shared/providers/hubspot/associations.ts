// References between records as HubSpot associations. Reading: which
// associated record a reference points to (the primary one where HubSpot has
// a primary label, otherwise the first). Writing: the HubSpot-defined
// association type ids (v4) the engine creates, and the batch inputs that
// turn a record's references (remote ids) into associations.
import type { ReferenceName } from '../../model/unified.ts';
import type { HubSpotAssociationTarget } from './schemas.ts';
import { type HubSpotObjectType, singularOf } from './object-types.ts';

type TypeIdTable = { readonly [F in HubSpotObjectType]?: { readonly [T in HubSpotObjectType]?: number } };

/**
 * HubSpot's unlabeled default association type ids, both directions
 * (developers.hubspot.com, associations v4 "association type ids").
 */
export const defaultAssociationTypeIds: TypeIdTable = {
  contacts: { companies: 279, deals: 4, notes: 201, calls: 193, meetings: 199, emails: 197 },
  companies: { contacts: 280, deals: 342, notes: 189, calls: 181, meetings: 187, emails: 185 },
  deals: { contacts: 3, companies: 341, notes: 213, calls: 205, meetings: 211, emails: 209 },
  notes: { contacts: 202, companies: 190, deals: 214 },
  calls: { contacts: 194, companies: 182, deals: 206 },
  meetings: { contacts: 200, companies: 188, deals: 212 },
  emails: { contacts: 198, companies: 186, deals: 210 },
};

/** The "Primary" labels: a contact's and a deal's primary company (and their inverses). */
export const primaryAssociationTypeIds: TypeIdTable = {
  contacts: { companies: 1 },
  companies: { contacts: 2, deals: 6 },
  deals: { companies: 5 },
};

/** The object type a reference points to. */
export const referenceObjectType: Record<ReferenceName, HubSpotObjectType> = {
  company: 'companies',
  contact: 'contacts',
  deal: 'deals',
};

export interface HubSpotAssociationSpec {
  associationCategory: 'HUBSPOT_DEFINED';
  associationTypeId: number;
}

/**
 * The association types the engine writes from one object type to another:
 * the unlabeled default, plus the primary label where one exists (a contact's
 * or a deal's company reference is its primary company).
 */
export function associationTypesFor(from: HubSpotObjectType, to: HubSpotObjectType): HubSpotAssociationSpec[] {
  const unlabeled = defaultAssociationTypeIds[from]?.[to];
  if (unlabeled === undefined) throw new Error(`HubSpot has no default association from ${from} to ${to}`);
  const primary = primaryAssociationTypeIds[from]?.[to];
  return [unlabeled, ...(primary === undefined ? [] : [primary])].map((associationTypeId) => ({
    associationCategory: 'HUBSPOT_DEFINED',
    associationTypeId,
  }));
}

/** The references a record holds, by remote id (null: none). */
export type RemoteReferences = Partial<Record<ReferenceName, string | null>>;

/** One input of `POST /crm/v4/associations/{from}/{to}/batch/create`. */
export interface HubSpotAssociationInput {
  from: { id: string };
  to: { id: string };
  types: HubSpotAssociationSpec[];
}

/** One request's worth of association inputs between two object types. */
export interface HubSpotAssociationBatch {
  fromObjectType: HubSpotObjectType;
  toObjectType: HubSpotObjectType;
  inputs: HubSpotAssociationInput[];
}

export interface ReferencingRecord {
  objectType: HubSpotObjectType;
  remoteId: string;
  references: RemoteReferences;
}

/** HubSpot takes at most 100 inputs per association batch create. */
export const HUBSPOT_ASSOCIATION_BATCH_LIMIT = 100;

/**
 * The v4 batch-create requests that give records their references: grouped
 * by (from, to) object types, each at most `maxInputs` long, in the order
 * the records came. Null references create nothing (removing an old
 * association is a separate archive call).
 */
export function associationBatchInputs(
  records: readonly ReferencingRecord[],
  maxInputs = HUBSPOT_ASSOCIATION_BATCH_LIMIT,
): HubSpotAssociationBatch[] {
  const groups = new Map<string, HubSpotAssociationBatch>();
  for (const record of records) {
    for (const [name, toId] of Object.entries(record.references) as Array<[ReferenceName, string | null | undefined]>) {
      if (toId == null) continue;
      const toObjectType = referenceObjectType[name];
      const groupKey = `${record.objectType}>${toObjectType}`;
      let group = groups.get(groupKey);
      if (group === undefined) {
        group = { fromObjectType: record.objectType, toObjectType, inputs: [] };
        groups.set(groupKey, group);
      }
      group.inputs.push({
        from: { id: record.remoteId },
        to: { id: toId },
        types: associationTypesFor(record.objectType, toObjectType),
      });
    }
  }
  return [...groups.values()].flatMap((group) =>
    chunk(group.inputs, maxInputs).map((inputs) => ({ ...group, inputs }))
  );
}

/** The `associations` of a v3 create input, so a new record is linked in the same request. */
export function associationsForCreate(
  objectType: HubSpotObjectType,
  references: RemoteReferences,
): Array<{ to: { id: string }; types: HubSpotAssociationSpec[] }> {
  return (Object.entries(references) as Array<[ReferenceName, string | null | undefined]>)
    .filter((entry): entry is [ReferenceName, string] => entry[1] != null)
    .map(([name, toId]) => ({ to: { id: toId }, types: associationTypesFor(objectType, referenceObjectType[name]) }));
}

/**
 * The record a reference points to, from a v3 `associations` block
 * (`[{ id, type: 'contact_to_company' }, ...]`): the primary one where the
 * pair has a primary label (v3 names the primary type `contact_to_company`
 * and the unlabeled one `contact_to_company_unlabeled`), else the first.
 */
export function pickAssociatedId(
  from: HubSpotObjectType,
  to: HubSpotObjectType,
  results: ReadonlyArray<{ id: string; type: string }>,
): string | null {
  if (results.length === 0) return null;
  if (primaryAssociationTypeIds[from]?.[to] !== undefined) {
    const primaryName = `${singularOf[from]}_to_${singularOf[to]}`;
    const primary = results.find((result) => result.type === primaryName);
    if (primary !== undefined) return primary.id;
  }
  return results[0].id;
}

/** The same choice from a v4 association read result: the target with the primary type id or label, else the first. */
export function pickAssociationTarget(
  from: HubSpotObjectType,
  to: HubSpotObjectType,
  targets: readonly HubSpotAssociationTarget[],
): string | null {
  if (targets.length === 0) return null;
  const primaryTypeId = primaryAssociationTypeIds[from]?.[to];
  if (primaryTypeId !== undefined) {
    const primary = targets.find((target) =>
      target.associationTypes.some((type) => type.typeId === primaryTypeId || type.label === 'Primary')
    );
    if (primary !== undefined) return primary.toObjectId;
  }
  return targets[0].toObjectId;
}

function chunk<T>(items: T[], size: number): T[][] {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`chunk size must be a positive integer, got ${size}`);
  const chunks: T[][] = [];
  for (let start = 0; start < items.length; start += size) chunks.push(items.slice(start, start + size));
  return chunks;
}
