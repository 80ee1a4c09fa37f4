/**
 * HubSpot-defined association types (v4 type ids) between the served object
 * types. Each type has an inverse: creating contact→company (279) also
 * creates company→contact (280), as HubSpot does.
 */

import type { ObjectTypeName } from './object-types.ts';

export interface AssociationType {
  typeId: number;
  from: ObjectTypeName;
  to: ObjectTypeName;
  category: 'HUBSPOT_DEFINED';
  /** Label shown in v4 responses; undefined for unlabeled types. */
  label?: string;
  /** Name used in v3 `associations` blocks (`contact_to_company_unlabeled`). */
  v3Name: string;
  /** The unlabeled default type between `from` and `to`. */
  isDefault: boolean;
  isPrimary: boolean;
  inverseTypeId: number;
}

type Pair = [from: ObjectTypeName, to: ObjectTypeName, forward: number, inverse: number];

/** Unlabeled default associations: [from, to, from→to id, to→from id]. */
const DEFAULT_PAIRS: Pair[] = [
  ['contacts', 'companies', 279, 280],
  ['deals', 'contacts', 3, 4],
  ['deals', 'companies', 341, 342],
  ['notes', 'contacts', 202, 201],
  ['notes', 'companies', 190, 189],
  ['notes', 'deals', 214, 213],
  ['calls', 'contacts', 194, 193],
  ['calls', 'companies', 182, 181],
  ['calls', 'deals', 206, 205],
  ['meetings', 'contacts', 200, 199],
  ['meetings', 'companies', 188, 187],
  ['meetings', 'deals', 212, 211],
  ['emails', 'contacts', 198, 197],
  ['emails', 'companies', 186, 185],
  ['emails', 'deals', 210, 209],
];

/** Primary-company labels: [from, to, from→to id, to→from id]. */
const PRIMARY_PAIRS: Pair[] = [
  ['contacts', 'companies', 1, 2],
  ['deals', 'companies', 5, 6],
];

const singular: Record<ObjectTypeName, string> = {
  contacts: 'contact',
  companies: 'company',
  deals: 'deal',
  notes: 'note',
  calls: 'call',
  meetings: 'meeting',
  emails: 'email',
};

const byId = new Map<number, AssociationType>();

function register(from: ObjectTypeName, to: ObjectTypeName, typeId: number, inverseTypeId: number, primary: boolean) {
  const base = `${singular[from]}_to_${singular[to]}`;
  // HubSpot names the unlabeled contact/company and deal/company types
  // "..._unlabeled" in v3 because the plain name belongs to the primary label.
  const hasPrimaryVariant = PRIMARY_PAIRS.some(([f, t]) => (f === from && t === to) || (f === to && t === from));
  byId.set(typeId, {
    typeId,
    from,
    to,
    category: 'HUBSPOT_DEFINED',
    label: primary ? 'Primary' : undefined,
    v3Name: primary || !hasPrimaryVariant ? base : `${base}_unlabeled`,
    isDefault: !primary,
    isPrimary: primary,
    inverseTypeId,
  });
}

for (const [from, to, forward, inverse] of DEFAULT_PAIRS) {
  register(from, to, forward, inverse, false);
  register(to, from, inverse, forward, false);
}
for (const [from, to, forward, inverse] of PRIMARY_PAIRS) {
  register(from, to, forward, inverse, true);
  register(to, from, inverse, forward, true);
}

export function associationType(typeId: number): AssociationType | undefined {
  return byId.get(typeId);
}

/** The type id for `typeId` in the given direction, if it exists between those types. */
export function associationTypeBetween(
  from: ObjectTypeName,
  to: ObjectTypeName,
  typeId: number,
): AssociationType | undefined {
  const type = byId.get(typeId);
  return type && type.from === from && type.to === to ? type : undefined;
}

export function defaultAssociationType(from: ObjectTypeName, to: ObjectTypeName): AssociationType | undefined {
  for (const type of byId.values()) {
    if (type.from === from && type.to === to && type.isDefault) return type;
  }
  return undefined;
}

export function allAssociationTypes(): AssociationType[] {
  return [...byId.values()];
}

/** `CONTACT_TO_COMPANY`, as in associationChange webhook events. */
export function associationTypeName(from: ObjectTypeName, to: ObjectTypeName): string {
  return `${singular[from]}_TO_${singular[to]}`.toUpperCase();
}
