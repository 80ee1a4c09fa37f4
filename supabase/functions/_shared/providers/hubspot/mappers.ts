// Pure mapping between HubSpot objects (v3) and the unified model.
//
// Which property a field is read from and written to comes from the
// connection's field map (today's mapping when none is given); a field the
// map reads only is never written, one it writes only is never read. The
// conversion of a value follows the unified field whatever its property.
// The deal stage and pipeline, the modification timestamp and engagement
// properties are fixed.
//
// Inbound (toUnified): a property HubSpot did not send is left out of the
// fields (it was not requested, so nothing is known about it); null or ""
// means cleared and becomes null. A value that cannot be read (a number
// that is no number, a date that is no date) or that the strict unified
// schema refuses is left out and reported in `unmapped` with a kind such as
// `invalid_number:amount` (the HubSpot property name after the colon), so
// one bad field never loses the rest of the record. A deal stage or
// lifecycle stage with no value map row is kept raw and reported; an owner
// with no row becomes null and is reported.
//
// Outbound (fromUnified): only the fields given are written; null becomes
// "" (HubSpot clears a property with the empty string). A local stage,
// lifecycle stage or owner with no value map row is not sent and is
// reported in `unmapped` (its `remoteValue` then holds the local value).
import type { z } from 'zod';
import {
  type EntityType,
  fieldSchemas,
  type FieldsOf,
  type ReferenceName,
  referencesOf,
  type RemoteRecord,
  type UnmappedValue,
} from '../../model/unified.ts';
import { pickAssociatedId, referenceObjectType, type RemoteReferences } from './associations.ts';
import {
  activityTypeOf,
  type EngagementObjectType,
  entityTypeOf,
  type HubSpotObjectType,
  isEngagementObjectType,
  modifiedDateProperty,
  objectTypeOfActivity,
  objectTypesOf,
} from './object-types.ts';
import {
  canonicalJson,
  dateToHubSpotDateTime,
  formatNumber,
  isCleared,
  parseNumber,
  toIsoDate,
  toIsoDateTime,
} from './property-values.ts';
import { type HubSpotObject, type HubSpotObjectInput, hubSpotObjectSchema } from './schemas.ts';
import type { ValueMapKind, ValueMaps } from './value-maps.ts';
import { buildFieldMap, type FieldMap } from './field-map.ts';

/** A record or a call the mappers cannot handle at all (as opposed to one bad field, which is reported). */
export class HubSpotMappingError extends Error {
  override name = 'HubSpotMappingError';
}

/** The local stages that mean a deal is won or lost (see `defaultHubSpotValueMaps`). */
export const LOCAL_STAGE_WON = 'closed_won';
export const LOCAL_STAGE_LOST = 'closed_lost';

/** Today's mapping, for callers that give no field map. */
const defaultFieldMap = buildFieldMap();

const CALL_DIRECTIONS: Record<string, 'inbound' | 'outbound'> = { INBOUND: 'inbound', OUTBOUND: 'outbound' };
const EMAIL_DIRECTIONS: Record<string, 'inbound' | 'outbound'> = {
  INCOMING_EMAIL: 'inbound',
  EMAIL: 'outbound',
  FORWARDED_EMAIL: 'outbound',
};

/** Properties only one engagement object has, to tell them apart when the caller does not say. */
const engagementPropertyPrefix: Record<EngagementObjectType, string> = {
  notes: 'hs_note_',
  calls: 'hs_call_',
  meetings: 'hs_meeting_',
  emails: 'hs_email_',
};

export interface ToUnifiedOptions {
  /**
   * The HubSpot object type the object was read from. Needed for activities
   * (notes, calls, meetings and emails all map to `activity`); when left out,
   * it is recognised from the engagement's own properties (`hs_call_*`, ...),
   * which HubSpot returns, possibly null, whenever they were requested.
   */
  objectType?: HubSpotObjectType;
  /**
   * The object was read with `associations=...`. HubSpot leaves out the
   * `associations` block (or one of its keys) when there are none, so with
   * this set a missing block means "no associated record" (reference null)
   * rather than "not asked" (reference left out).
   */
  associationsRequested?: boolean;
  /** The connection's field map: which property each configurable field is read from. Defaults to today's mapping. */
  fieldMap?: FieldMap;
}

/** Maps a HubSpot object (as v3 returns it) to a unified record. */
export function toUnified<E extends EntityType>(
  entityType: E,
  input: HubSpotObjectInput,
  maps: ValueMaps,
  options: ToUnifiedOptions = {},
): RemoteRecord<E> {
  const parsed = hubSpotObjectSchema.safeParse(input);
  if (!parsed.success) throw new HubSpotMappingError(`not a HubSpot object: ${parsed.error.message}`);
  const object = parsed.data;
  const objectType = inboundObjectType(entityType, object, options.objectType);
  const record = new InboundRecord(entityType, object.properties, options.fieldMap ?? defaultFieldMap);
  switch (objectType) {
    case 'contacts':
      readContact(record, maps);
      break;
    case 'companies':
      readCompany(record, maps);
      break;
    case 'deals':
      readDeal(record, maps);
      break;
    default:
      readActivity(record, objectType, maps);
  }
  return {
    entityType,
    remoteId: object.id,
    remoteUpdatedAt: remoteUpdatedAt(objectType, object),
    archived: object.archived ?? false,
    fields: fieldSchemas[entityType].parse(record.fields) as FieldsOf<E>,
    references: readReferences(objectType, object, options.associationsRequested ?? false),
    unmapped: record.unmapped,
  };
}

export interface FromUnifiedOptions {
  /** For activities: the engagement object to write. Defaults to the one of `fields.type`. */
  objectType?: EngagementObjectType;
  /**
   * The properties are for a create. HubSpot requires `hs_timestamp` on every
   * engagement it creates, so an activity create without `occurred_at` throws;
   * cleared (empty) properties are left out of a create.
   */
  create?: boolean;
  /** The connection's field map: which property each configurable field is written to. Defaults to today's mapping. */
  fieldMap?: FieldMap;
}

export interface HubSpotProperties {
  properties: Record<string, string>;
  unmapped: UnmappedValue[];
}

/** Maps unified fields (all or some of a record's) to the HubSpot properties that write them. */
export function fromUnified<E extends EntityType>(
  entityType: E,
  fields: Partial<FieldsOf<E>>,
  maps: ValueMaps,
  options: FromUnifiedOptions = {},
): HubSpotProperties {
  const record = new OutboundRecord(entityType, fields as Record<string, unknown>, options.fieldMap ?? defaultFieldMap);
  switch (entityType) {
    case 'contact':
      writeContact(record, maps);
      break;
    case 'company':
      writeCompany(record, maps);
      break;
    case 'deal':
      writeDeal(record, maps);
      break;
    case 'activity':
      writeActivity(record, maps, options);
      break;
    default:
      throw new HubSpotMappingError(`${entityType} records are not synced with HubSpot`);
  }
  const properties = options.create
    ? Object.fromEntries(Object.entries(record.properties).filter(([, value]) => value !== ''))
    : record.properties;
  return { properties, unmapped: record.unmapped };
}

// ---------------------------------------------------------------------------
// Inbound

function shapeOf(entityType: EntityType): Record<string, z.ZodType> {
  return (fieldSchemas[entityType] as z.ZodObject).shape as Record<string, z.ZodType>;
}

/**
 * The fields of one record being read, checked one by one against the
 * unified schema. The readers take the property of a configurable field from
 * the field map (none: the field is not read) and a fixed one as given.
 */
class InboundRecord {
  readonly fields: Record<string, unknown> = {};
  readonly unmapped: UnmappedValue[] = [];
  private readonly shape: Record<string, z.ZodType>;

  constructor(
    private readonly entityType: EntityType,
    private readonly properties: Record<string, string | null>,
    private readonly fieldMap: FieldMap,
  ) {
    this.shape = shapeOf(entityType);
  }

  /** The property a configurable field is read from; undefined when the field map does not read it. */
  source(field: string): string | undefined {
    return this.fieldMap.readProperty(this.entityType, field);
  }

  /** The raw value; undefined when HubSpot did not send the property at all. */
  raw(property: string): string | null | undefined {
    return Object.hasOwn(this.properties, property) ? this.properties[property] : undefined;
  }

  report(kind: string, remoteValue: string): void {
    this.unmapped.push({ kind, remoteValue });
  }

  /** Sets a field if the unified schema takes the value; otherwise reports the raw HubSpot value. */
  set(field: string, value: unknown, property: string, raw: string | null): void {
    const result = this.shape[field].safeParse(value);
    if (result.success) this.fields[field] = result.data;
    else this.report(`invalid_value:${property}`, raw ?? '');
  }

  text(field: string, property = this.source(field)): void {
    if (property === undefined) return;
    const raw = this.raw(property);
    if (raw !== undefined) this.set(field, isCleared(raw) ? null : raw, property, raw);
  }

  number(field: string, scale: (value: number) => number = (value) => value): void {
    const property = this.source(field);
    if (property === undefined) return;
    const raw = this.raw(property);
    if (raw === undefined) return;
    if (isCleared(raw)) return this.set(field, null, property, raw);
    const value = parseNumber(raw);
    if (value === undefined) this.report(`invalid_number:${property}`, raw);
    else this.set(field, scale(value), property, raw);
  }

  date(field: string): void {
    const property = this.source(field);
    if (property === undefined) return;
    const raw = this.raw(property);
    if (raw === undefined) return;
    if (isCleared(raw)) return this.set(field, null, property, raw);
    const value = toIsoDate(raw);
    if (value === undefined) this.report(`invalid_date:${property}`, raw);
    else this.set(field, value, property, raw);
  }

  /** A value map lookup: unmapped values are reported and, unless `unmappedAsNull`, kept raw. */
  mapped(
    field: string,
    kind: ValueMapKind,
    maps: ValueMaps,
    options: { property?: string; context?: string | null; unmappedAsNull?: boolean } = {},
  ): string | null | undefined {
    const property = options.property ?? this.source(field);
    if (property === undefined) return undefined;
    const raw = this.raw(property);
    if (raw === undefined) return undefined;
    if (isCleared(raw)) {
      this.set(field, null, property, raw);
      return null;
    }
    const local = maps.toLocal(kind, raw, options.context);
    if (local === undefined) this.report(kind, raw);
    const value = local ?? (options.unmappedAsNull ? null : raw);
    this.set(field, value, property, raw);
    return value;
  }
}

function readContact(record: InboundRecord, maps: ValueMaps): void {
  record.text('email');
  record.text('first_name');
  record.text('last_name');
  record.text('phone');
  record.mapped('lifecycle_stage', 'lifecycle_stage', maps);
  record.text('lead_source');
  readCustomFields(record);
}

/** The custom fields' property (`forge_custom_fields` by default) holds a JSON object; empty means none. */
function readCustomFields(record: InboundRecord): void {
  const property = record.source('custom_fields');
  if (property === undefined) return;
  const raw = record.raw(property);
  if (raw === undefined) return;
  if (isCleared(raw)) return record.set('custom_fields', {}, property, raw);
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return record.report(`invalid_json:${property}`, raw);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return record.report(`invalid_json:${property}`, raw);
  }
  record.set('custom_fields', value, property, raw);
}

function readCompany(record: InboundRecord, maps: ValueMaps): void {
  record.text('name');
  readNormalized(record, 'domain', (domain) => domain.trim().toLowerCase());
  record.mapped('industry', 'industry', maps);
  record.number('employee_count');
  record.number('annual_revenue');
  record.text('website');
}

/** A text field kept in a normal form (a lower-case domain, an upper-case currency code). */
function readNormalized(record: InboundRecord, field: string, normalize: (value: string) => string): void {
  const property = record.source(field);
  if (property === undefined) return;
  const raw = record.raw(property);
  if (raw !== undefined) record.set(field, isCleared(raw) ? null : normalize(raw), property, raw);
}

function readDeal(record: InboundRecord, maps: ValueMaps): void {
  record.text('name');
  record.number('amount');
  readNormalized(record, 'currency', (currency) => currency.trim().toUpperCase());
  const pipeline = record.raw('pipeline');
  const stage = record.mapped('stage', 'deal_stage', maps, {
    property: 'dealstage',
    context: isCleared(pipeline ?? null) ? null : pipeline,
  });
  if (stage !== undefined) record.set('status', dealStatusOf(stage), 'dealstage', record.raw('dealstage') ?? null);
  // HubSpot keeps probability as a fraction (0..1); the unified model in percent.
  record.number('probability', (fraction) => Math.round(fraction * 10_000) / 100);
  record.date('close_date');
  record.mapped('owner_id', 'owner', maps, { unmappedAsNull: true });
}

/** A deal's status follows its local stage: won and lost stages close it, any other stage keeps it open. */
export function dealStatusOf(localStage: string | null): 'open' | 'won' | 'lost' {
  if (localStage === LOCAL_STAGE_WON) return 'won';
  if (localStage === LOCAL_STAGE_LOST) return 'lost';
  return 'open';
}

function readActivity(record: InboundRecord, objectType: EngagementObjectType, maps: ValueMaps): void {
  record.set('type', activityTypeOf(objectType), 'type', null);
  switch (objectType) {
    case 'notes':
      // Notes have no title in HubSpot: the subject is not synced for them.
      record.text('body', 'hs_note_body');
      break;
    case 'calls':
      record.text('subject', 'hs_call_title');
      record.text('body', 'hs_call_body');
      readDirection(record, 'hs_call_direction', CALL_DIRECTIONS);
      break;
    case 'meetings':
      record.text('subject', 'hs_meeting_title');
      record.text('body', 'hs_meeting_body');
      break;
    case 'emails':
      record.text('subject', 'hs_email_subject');
      record.text('body', 'hs_email_text');
      readDirection(record, 'hs_email_direction', EMAIL_DIRECTIONS);
      break;
  }
  readOccurredAt(record, objectType === 'meetings' ? ['hs_meeting_start_time', 'hs_timestamp'] : ['hs_timestamp']);
  record.mapped('owner_id', 'owner', maps, { property: 'hubspot_owner_id', unmappedAsNull: true });
}

function readDirection(record: InboundRecord, property: string, directions: Record<string, 'inbound' | 'outbound'>) {
  const raw = record.raw(property);
  if (raw === undefined) return;
  if (isCleared(raw)) return record.set('direction', null, property, raw);
  const direction = directions[raw.trim().toUpperCase()];
  if (direction === undefined) record.report(`invalid_value:${property}`, raw);
  else record.set('direction', direction, property, raw);
}

/**
 * `occurred_at` from the first of `properties` that holds a datetime. It
 * cannot be null in the unified model, so an empty value leaves it out.
 */
function readOccurredAt(record: InboundRecord, properties: string[]): void {
  for (const property of properties) {
    const raw = record.raw(property);
    if (raw === undefined || isCleared(raw)) continue;
    const value = toIsoDateTime(raw);
    if (value === undefined) {
      record.report(`invalid_date:${property}`, raw);
      continue;
    }
    return record.set('occurred_at', value, property, raw);
  }
}

function inboundObjectType(
  entityType: EntityType,
  object: HubSpotObject,
  given: HubSpotObjectType | undefined,
): HubSpotObjectType {
  const candidates = objectTypesOf(entityType);
  if (candidates.length === 0) throw new HubSpotMappingError(`${entityType} records are not synced with HubSpot`);
  if (given !== undefined) {
    if (!candidates.includes(given)) throw new HubSpotMappingError(`HubSpot ${given} are not ${entityType} records`);
    return given;
  }
  if (candidates.length === 1) return candidates[0];
  const names = Object.keys(object.properties);
  const recognised = candidates.filter((type) =>
    isEngagementObjectType(type) && names.some((name) => name.startsWith(engagementPropertyPrefix[type]))
  );
  if (recognised.length === 1) return recognised[0];
  throw new HubSpotMappingError(
    `cannot tell which HubSpot engagement ${object.id} is (${candidates.join(', ')}): pass options.objectType`,
  );
}

/** The modification time: the object's last-modified property, else its `updatedAt`, as ISO 8601 in UTC. */
function remoteUpdatedAt(objectType: HubSpotObjectType, object: HubSpotObject): string {
  const property = object.properties[modifiedDateProperty(objectType)] ?? null;
  const value = (isCleared(property) ? undefined : toIsoDateTime(property)) ?? toIsoDateTime(object.updatedAt);
  if (value === undefined) {
    throw new HubSpotMappingError(`HubSpot ${objectType} ${object.id} has no readable modification time`);
  }
  return value;
}

/**
 * References from the `associations` block. A contact without the block
 * falls back to its `associatedcompanyid` property (its primary company).
 */
function readReferences(
  objectType: HubSpotObjectType,
  object: HubSpotObject,
  associationsRequested: boolean,
): RemoteReferences {
  const references: RemoteReferences = {};
  const names = Object.keys(referencesOf[entityTypeOf(objectType)]) as ReferenceName[];
  for (const name of names) {
    const target = referenceObjectType[name];
    const block = object.associations?.[target];
    if (block !== undefined) {
      references[name] = pickAssociatedId(objectType, target, block.results);
    } else if (object.associations !== undefined || associationsRequested) {
      references[name] = null;
    } else if (objectType === 'contacts' && name === 'company' && 'associatedcompanyid' in object.properties) {
      const companyId = object.properties.associatedcompanyid;
      references.company = isCleared(companyId) || companyId.trim() === '0' ? null : companyId.trim();
    }
  }
  return references;
}

// ---------------------------------------------------------------------------
// Outbound

/**
 * The fields being written, each checked against the unified schema first.
 * The writers take the property of a configurable field from the field map
 * (none: the field is not written) and a fixed one as given.
 */
class OutboundRecord {
  readonly properties: Record<string, string> = {};
  readonly unmapped: UnmappedValue[] = [];
  private readonly valid = new Map<string, unknown>();

  constructor(private readonly entityType: EntityType, fields: Record<string, unknown>, private readonly fieldMap: FieldMap) {
    const shape = shapeOf(entityType);
    for (const [field, value] of Object.entries(fields)) {
      if (value === undefined || shape[field] === undefined) continue;
      const result = shape[field].safeParse(value);
      if (result.success) this.valid.set(field, result.data);
      else this.report(`invalid_value:${field}`, typeof value === 'string' ? value : JSON.stringify(value) ?? '');
    }
  }

  has(field: string): boolean {
    return this.valid.has(field);
  }

  /** The property a configurable field is written to; undefined when the field map does not write it. */
  target(field: string): string | undefined {
    return this.fieldMap.writeProperty(this.entityType, field);
  }

  get<T>(field: string): T {
    return this.valid.get(field) as T;
  }

  report(kind: string, value: string): void {
    this.unmapped.push({ kind, remoteValue: value });
  }

  set(property: string, value: string): void {
    this.properties[property] = value;
  }

  text(field: string, property = this.target(field)): void {
    if (property !== undefined && this.has(field)) this.set(property, this.get<string | null>(field) ?? '');
  }

  number(field: string, scale: (value: number) => number = (value) => value): void {
    const property = this.target(field);
    if (property === undefined || !this.has(field)) return;
    const value = this.get<number | null>(field);
    this.set(property, value === null ? '' : formatNumber(scale(value)));
  }

  /** A value map lookup; a local value with no row is reported and not sent. */
  mapped(field: string, kind: ValueMapKind, maps: ValueMaps, property = this.target(field)): void {
    if (property === undefined || !this.has(field)) return;
    const local = this.get<string | null>(field);
    if (local === null) return this.set(property, '');
    const remote = maps.toRemote(kind, local);
    if (remote === undefined) this.report(kind, local);
    else this.set(property, remote.remoteValue);
  }
}

function writeContact(record: OutboundRecord, maps: ValueMaps): void {
  record.text('email');
  record.text('first_name');
  record.text('last_name');
  record.text('phone');
  record.mapped('lifecycle_stage', 'lifecycle_stage', maps);
  record.text('lead_source');
  const customProperty = record.target('custom_fields');
  if (customProperty !== undefined && record.has('custom_fields')) {
    const custom = record.get<Record<string, unknown>>('custom_fields');
    record.set(customProperty, Object.keys(custom).length === 0 ? '' : canonicalJson(custom));
  }
}

function writeCompany(record: OutboundRecord, maps: ValueMaps): void {
  record.text('name');
  record.text('domain');
  record.mapped('industry', 'industry', maps);
  record.number('employee_count');
  record.number('annual_revenue');
  record.text('website');
}

function writeDeal(record: OutboundRecord, maps: ValueMaps): void {
  record.text('name');
  record.number('amount');
  record.text('currency');
  writeDealStage(record, maps);
  record.number('probability', (percent) => Number((percent / 100).toFixed(6)));
  const closeDateProperty = record.target('close_date');
  if (closeDateProperty !== undefined && record.has('close_date')) {
    const date = record.get<string | null>('close_date');
    record.set(closeDateProperty, date === null ? '' : dateToHubSpotDateTime(date));
  }
  record.mapped('owner_id', 'owner', maps);
}

/**
 * `dealstage` (and `pipeline`, when the map row names one) from the local
 * stage. HubSpot requires a stage, so a null stage is not sent; a won or
 * lost status without a stage that can be sent moves the deal to the
 * pipeline's closed-won or closed-lost stage.
 */
function writeDealStage(record: OutboundRecord, maps: ValueMaps): void {
  const sendStage = (local: string): boolean => {
    const remote = maps.toRemote('deal_stage', local);
    if (remote === undefined) {
      record.report('deal_stage', local);
      return false;
    }
    record.set('dealstage', remote.remoteValue);
    if (remote.remoteContext !== null) record.set('pipeline', remote.remoteContext);
    return true;
  };
  const stage = record.has('stage') ? record.get<string | null>('stage') : null;
  if (stage !== null && sendStage(stage)) return;
  const status = record.has('status') ? record.get<'open' | 'won' | 'lost'>('status') : 'open';
  if (status === 'won') sendStage(LOCAL_STAGE_WON);
  if (status === 'lost') sendStage(LOCAL_STAGE_LOST);
}

function writeActivity(record: OutboundRecord, maps: ValueMaps, options: FromUnifiedOptions): void {
  const type = record.has('type') ? record.get<FieldsOf<'activity'>['type']>('type') : undefined;
  const objectType = options.objectType ?? (type === undefined ? undefined : objectTypeOfActivity(type));
  if (objectType === undefined) {
    throw new HubSpotMappingError('an activity needs fields.type or options.objectType to be written to HubSpot');
  }
  if (type !== undefined && objectTypeOfActivity(type) !== objectType) {
    throw new HubSpotMappingError(`a ${type} activity cannot be written as HubSpot ${objectType}`);
  }
  switch (objectType) {
    case 'notes':
      record.text('body', 'hs_note_body');
      break;
    case 'calls':
      record.text('subject', 'hs_call_title');
      record.text('body', 'hs_call_body');
      writeDirection(record, 'hs_call_direction', { inbound: 'INBOUND', outbound: 'OUTBOUND' });
      break;
    case 'meetings':
      record.text('subject', 'hs_meeting_title');
      record.text('body', 'hs_meeting_body');
      if (record.has('occurred_at')) record.set('hs_meeting_start_time', isoInstant(record.get('occurred_at')));
      break;
    case 'emails':
      record.text('subject', 'hs_email_subject');
      record.text('body', 'hs_email_text');
      writeDirection(record, 'hs_email_direction', { inbound: 'INCOMING_EMAIL', outbound: 'EMAIL' });
      break;
  }
  if (record.has('occurred_at')) record.set('hs_timestamp', isoInstant(record.get('occurred_at')));
  record.mapped('owner_id', 'owner', maps, 'hubspot_owner_id');
  if (options.create && record.properties.hs_timestamp === undefined) {
    throw new HubSpotMappingError(`HubSpot requires hs_timestamp to create ${objectType}: pass occurred_at`);
  }
}

function writeDirection(
  record: OutboundRecord,
  property: string,
  values: Record<'inbound' | 'outbound', string>,
): void {
  if (!record.has('direction')) return;
  const direction = record.get<'inbound' | 'outbound' | null>('direction');
  record.set(property, direction === null ? '' : values[direction]);
}

/** An ISO 8601 datetime with any offset, as UTC with milliseconds (the form HubSpot returns). */
function isoInstant(value: string): string {
  return new Date(value).toISOString();
}
