// Which Pipedrive custom field holds each synced column that Pipedrive has no
// standard field for (the "custom: stage / source / domain / industry /
// revenue" fields), per connection. Custom field keys are 40-character
// hashes that differ per account, so they are never written down here: the
// fields are found by NAME in /v1/personFields and /v1/organizationFields
// when an account is connected (and created when missing), and the keys
// found are stored as rows of sync.field_maps, `remote_property` being
// `cf_<key>` (a property name must start with a letter; a hash may not).
import { z } from 'zod';
import { type EntityType, entityTypes } from '../../model/unified.ts';
import type { FieldMapDirection, FieldMapRow } from '../hubspot/field-map.ts';
import { fieldMapDirections } from '../hubspot/field-map.ts';

export type PipedriveFieldObject = 'person' | 'organization' | 'deal';
export type CustomFieldType = 'varchar' | 'enum' | 'monetary';

export interface CustomFieldSpec {
  entityType: 'contact' | 'company';
  localField: string;
  object: PipedriveFieldObject;
  /** The field's name in Pipedrive (matched case-insensitively). */
  name: string;
  fieldType: CustomFieldType;
  /** Options of an enum created by the engine (an existing field keeps its own). */
  options?: string[];
}

/** The custom fields the engine syncs, by name. */
export const customFieldSpecs: readonly CustomFieldSpec[] = [
  {
    entityType: 'contact', localField: 'lifecycle_stage', object: 'person', name: 'stage', fieldType: 'enum',
    options: ['Subscriber', 'Lead', 'Marketing qualified', 'Sales qualified', 'Opportunity', 'Customer', 'Evangelist', 'Other'],
  },
  { entityType: 'contact', localField: 'lead_source', object: 'person', name: 'source', fieldType: 'varchar' },
  { entityType: 'company', localField: 'domain', object: 'organization', name: 'domain', fieldType: 'varchar' },
  {
    entityType: 'company', localField: 'industry', object: 'organization', name: 'industry', fieldType: 'enum',
    options: ['Software', 'IT Services', 'Financial Services', 'Retail', 'Health Care', 'Logistics', 'Marketing', 'Real Estate', 'Education'],
  },
  { entityType: 'company', localField: 'annual_revenue', object: 'organization', name: 'revenue', fieldType: 'monetary' },
];

/** A field as /v1/*Fields lists it (the parts the engine reads). */
export const pipedriveFieldSchema = z.looseObject({
  key: z.string(),
  name: z.string(),
  field_type: z.string(),
  edit_flag: z.boolean().optional(),
  options: z.array(z.looseObject({ id: z.union([z.number(), z.string()]), label: z.string() })).nullish(),
});
export type PipedriveField = z.infer<typeof pipedriveFieldSchema>;

const CUSTOM_PREFIX = 'cf_';
export const propertyOfKey = (key: string) => `${CUSTOM_PREFIX}${key}`;
export const keyOfProperty = (property: string) => property.startsWith(CUSTOM_PREFIX) ? property.slice(CUSTOM_PREFIX.length) : property;

/** The field of a spec among an object's fields, by name. */
export function findField(spec: Pick<CustomFieldSpec, 'name'>, fields: readonly PipedriveField[]): PipedriveField | undefined {
  const wanted = spec.name.trim().toLowerCase();
  return fields.find((f) => f.name.trim().toLowerCase() === wanted);
}

/** Field map rows for the fields found; the specs without a field are returned as missing. */
export function resolveFieldMap(fieldsByObject: Partial<Record<PipedriveFieldObject, readonly PipedriveField[]>>): {
  rows: FieldMapRow[];
  missing: CustomFieldSpec[];
} {
  const rows: FieldMapRow[] = [];
  const missing: CustomFieldSpec[] = [];
  for (const spec of customFieldSpecs) {
    const field = findField(spec, fieldsByObject[spec.object] ?? []);
    if (!field) missing.push(spec);
    else rows.push({ entity_type: spec.entityType, local_field: spec.localField, remote_property: propertyOfKey(field.key), direction: 'both' });
  }
  return { rows, missing };
}

const rowSchema = z.object({
  entity_type: z.enum(entityTypes),
  local_field: z.string().min(1),
  remote_property: z.string().regex(/^cf_[0-9a-f]{40}$/, 'not a Pipedrive custom field (cf_<40-character key>)'),
  direction: z.enum(fieldMapDirections).default('both'),
});

export interface PipedriveFieldMap {
  /** The custom field key a column is read from; undefined when it is not read. */
  readKey(entityType: EntityType, field: string): string | undefined;
  /** The custom field key a column is written to; undefined when it is not written. */
  writeKey(entityType: EntityType, field: string): string | undefined;
  readonly rows: readonly FieldMapRow[];
}

/** Builds the lookups from a connection's rows (validated: they come from the database). Columns without a row are not synced. */
export function buildPipedriveFieldMap(input: readonly unknown[] = []): PipedriveFieldMap {
  const rows = z.array(rowSchema).parse(input);
  for (const row of rows) {
    if (!customFieldSpecs.some((s) => s.entityType === row.entity_type && s.localField === row.local_field)) {
      throw new Error(`${row.entity_type}.${row.local_field} is not synced through a Pipedrive custom field`);
    }
  }
  const byField = new Map(rows.map((row) => [`${row.entity_type}.${row.local_field}`, row]));
  const key = (entityType: EntityType, field: string, skip: FieldMapDirection) => {
    const row = byField.get(`${entityType}.${field}`);
    return row === undefined || row.direction === skip ? undefined : keyOfProperty(row.remote_property);
  };
  return {
    rows,
    readKey: (entityType, field) => key(entityType, field, 'outbound'),
    writeKey: (entityType, field) => key(entityType, field, 'inbound'),
  };
}
