// Which HubSpot property each unified field is read from and written to, per
// connection (rows of sync.field_maps). Only the property name is
// configuration: how a value is converted (text, number, date, JSON, a value
// map) stays with the unified field. A field without a row keeps its default
// property, so a connection made before it had rows syncs as it always did.
//
// The fields of contacts, companies and deals are configurable, except the
// deal stage and status: the stage and its pipeline are HubSpot's own (the
// status follows the stage), and so are the modification timestamp and the
// properties of engagements (each engagement object has its own, hs_timestamp
// among them), which stay fixed in the mappers.
import { z } from 'zod';
import { type EntityType, entityTypes, type FieldsOf } from '../../model/unified.ts';
import { fixedProperties, LOCAL_ID_PROPERTY, modifiedDateProperty, objectTypesOf } from './object-types.ts';

export const fieldMapDirections = ['both', 'inbound', 'outbound'] as const;
/** `both`: read and written; `inbound`: read, never written; `outbound`: written, never read. */
export type FieldMapDirection = (typeof fieldMapDirections)[number];

/** A row of sync.field_maps, as selected from the database. */
export const fieldMapRowSchema = z.object({
  entity_type: z.enum(entityTypes),
  local_field: z.string().min(1),
  remote_property: z.string().regex(/^[a-z][a-z0-9_]{0,99}$/, 'not a HubSpot property name'),
  direction: z.enum(fieldMapDirections).default('both'),
});
export type FieldMapRow = z.output<typeof fieldMapRowSchema>;

/** A row that cannot be used: a field HubSpot maps itself, or a property another field or the engine holds. */
export class FieldMapError extends Error {
  override name = 'FieldMapError';
}

type MappedEntityType = 'contact' | 'company' | 'deal';

/** Today's mapping: the property of every configurable field. */
const defaultProperties: { [E in MappedEntityType]: Partial<Record<keyof FieldsOf<E>, string>> } = {
  contact: {
    email: 'email',
    first_name: 'firstname',
    last_name: 'lastname',
    phone: 'phone',
    lifecycle_stage: 'lifecyclestage',
    lead_source: 'forge_lead_source',
    custom_fields: 'forge_custom_fields',
  },
  company: {
    name: 'name',
    domain: 'domain',
    industry: 'industry',
    employee_count: 'numberofemployees',
    annual_revenue: 'annualrevenue',
    website: 'website',
  },
  deal: {
    name: 'dealname',
    amount: 'amount',
    currency: 'deal_currency_code',
    probability: 'hs_deal_stage_probability',
    close_date: 'closedate',
    owner_id: 'hubspot_owner_id',
  },
};

/** The fields a connection can map to another property (none for activities and tasks). */
export function configurableFields(entityType: EntityType): string[] {
  return Object.keys(defaultProperties[entityType as MappedEntityType] ?? {});
}

/**
 * The field map rows a new HubSpot connection starts with: every
 * configurable field on the property the mappers have always used.
 */
export function defaultHubSpotFieldMap(): FieldMapRow[] {
  return (Object.keys(defaultProperties) as MappedEntityType[]).flatMap((entityType) =>
    Object.entries(defaultProperties[entityType] as Record<string, string>).map(([field, property]): FieldMapRow => ({
      entity_type: entityType,
      local_field: field,
      remote_property: property,
      direction: 'both',
    }))
  );
}

/**
 * The rows of `defaults` for fields that have no row in `existing`: what
 * connecting an account adds, so rows an operator changed survive a reconnect.
 */
export function fieldMapRowsMissing(
  existing: readonly { entity_type: string; local_field: string }[],
  defaults: readonly FieldMapRow[],
): FieldMapRow[] {
  const present = new Set(existing.map((row) => key(row.entity_type as EntityType, row.local_field)));
  return defaults.filter((row) => !present.has(key(row.entity_type, row.local_field)));
}

export interface FieldMap {
  /** The property a field is read from; undefined when the field is written only or not configurable. */
  readProperty(entityType: EntityType, field: string): string | undefined;
  /** The property a field is written to; undefined when the field is read only or not configurable. */
  writeProperty(entityType: EntityType, field: string): string | undefined;
  /** Every property read for an entity type (the ones to request). */
  propertiesRead(entityType: EntityType): string[];
  /** The rows in effect: the defaults with the connection's rows laid over them. */
  readonly rows: readonly FieldMapRow[];
}

/**
 * Builds the lookups from a connection's field map rows (validated here: they
 * come from the database), laid over the defaults; of two rows for one field
 * the later wins. Throws a FieldMapError for a field that is not
 * configurable, for two fields of an entity type on one property, and for a
 * property the engine reads or writes itself (the deal stage, the
 * modification timestamp, forge_local_id, ...).
 */
export function buildFieldMap(input: readonly unknown[] = []): FieldMap {
  const given = z.array(fieldMapRowSchema).parse(input);
  const byField = new Map<string, FieldMapRow>();
  for (const row of [...defaultHubSpotFieldMap(), ...given]) {
    if (!configurableFields(row.entity_type).includes(row.local_field)) {
      throw new FieldMapError(
        `${row.entity_type}.${row.local_field} cannot be mapped to another HubSpot property (configurable: ${
          configurableFields(row.entity_type).join(', ') || 'none'
        })`,
      );
    }
    byField.set(key(row.entity_type, row.local_field), row);
  }
  const rows = [...byField.values()];
  for (const entityType of entityTypes) checkProperties(entityType, rows.filter((row) => row.entity_type === entityType));

  const property = (entityType: EntityType, field: string, skip: FieldMapDirection): string | undefined => {
    const row = byField.get(key(entityType, field));
    return row === undefined || row.direction === skip ? undefined : row.remote_property;
  };
  return {
    rows,
    readProperty: (entityType, field) => property(entityType, field, 'outbound'),
    writeProperty: (entityType, field) => property(entityType, field, 'inbound'),
    propertiesRead: (entityType) =>
      rows.filter((row) => row.entity_type === entityType && row.direction !== 'outbound').map((row) => row.remote_property),
  };
}

/** One field per property, and none on a property the engine holds for itself. */
function checkProperties(entityType: EntityType, rows: readonly FieldMapRow[]): void {
  const objectType = objectTypesOf(entityType)[0];
  if (objectType === undefined) return;
  const reserved = new Set([...fixedProperties[objectType], modifiedDateProperty(objectType), LOCAL_ID_PROPERTY]);
  const claimed = new Map<string, string>();
  for (const row of rows) {
    if (reserved.has(row.remote_property)) {
      throw new FieldMapError(
        `${entityType}.${row.local_field} cannot be mapped to ${row.remote_property}: the sync engine uses that property itself`,
      );
    }
    const other = claimed.get(row.remote_property);
    if (other !== undefined) {
      throw new FieldMapError(
        `${entityType}.${other} and ${entityType}.${row.local_field} are both mapped to ${row.remote_property}`,
      );
    }
    claimed.set(row.remote_property, row.local_field);
  }
}

function key(entityType: EntityType, field: string): string {
  return `${entityType}\u0000${field}`;
}
