// Pure mapping between Pipedrive records (API v2 persons, organizations,
// deals, activities; v1 notes) and the unified model.
//
// Inbound: a value the unified schema refuses is left out and reported in
// `unmapped` (so one bad field never loses the rest of the record). Stage
// ids, owners and enum options go through the connection's value maps; a
// stage or enum option without a row is kept raw and reported, an owner
// without one becomes null and is reported. Custom fields are read through
// the connection's field map; a column without a row is not synced.
//
// Outbound: only the fields given are written. A value with no value map row
// is not sent and is reported (its `remoteValue` then holds the local value).
// `written` is what Pipedrive will hold afterwards in unified form (an
// activity's time to the minute, a note's to the second), recorded as the
// shadow so the echo reads as no change. Columns Pipedrive has no field for
// (a company's website, an activity's direction, ...) count as written: there
// is nothing to send, now or later.
import { z } from 'zod';
import {
  type EntityType,
  fieldSchemas,
  type ReferenceName,
  type RemoteRecord,
  type UnmappedValue,
} from '../../model/unified.ts';
import type { ValueMapKind, ValueMaps } from '../hubspot/value-maps.ts';
import type { PipedriveFieldMap } from './field-map.ts';

/** A record or a call the mappers cannot handle at all (as opposed to one bad field, which is reported). */
export class PipedriveMappingError extends Error {
  override name = 'PipedriveMappingError';
}

/** The Pipedrive object an entity type (and, for activities, a type) lives in. */
export type PipedriveObject = 'person' | 'organization' | 'deal' | 'activity' | 'note';

const NOTE_PREFIX = 'note:';
/** Notes carry their object in the remote id ("note:17"); the others use Pipedrive's id. */
export const remoteIdOf = (object: PipedriveObject, id: number | string) => object === 'note' ? `${NOTE_PREFIX}${id}` : String(id);

export function parseRemoteId(entityType: EntityType, remoteId: string): { object: PipedriveObject; id: number } {
  const object: PipedriveObject | undefined = entityType === 'contact' ? 'person' : entityType === 'company' ? 'organization'
    : entityType === 'deal' ? 'deal' : entityType === 'activity' ? (remoteId.startsWith(NOTE_PREFIX) ? 'note' : 'activity') : undefined;
  if (!object) throw new PipedriveMappingError(`${entityType} records are not synced with Pipedrive`);
  const id = Number(object === 'note' ? remoteId.slice(NOTE_PREFIX.length) : remoteId);
  if (!Number.isSafeInteger(id) || id <= 0) throw new PipedriveMappingError(`not a Pipedrive ${object} id: ${remoteId}`);
  return { object, id };
}

/** The object a new record goes to: activities of type note are v1 notes. */
export function objectForCreate(entityType: EntityType, fields: Record<string, unknown>): PipedriveObject {
  if (entityType === 'activity') return fields.type === 'note' ? 'note' : 'activity';
  return parseRemoteId(entityType, '1').object;
}

// ---------------------------------------------------------------------------
// Raw shapes: tolerant (Pipedrive adds fields), typed where the engine reads.

const id = z.number().int();
const contactItem = z.looseObject({ value: z.string(), primary: z.boolean().optional(), label: z.string().nullish() });
const custom = z.record(z.string(), z.unknown()).nullish();

export const pipedrivePersonSchema = z.looseObject({
  id, name: z.string().nullish(), first_name: z.string().nullish(), last_name: z.string().nullish(),
  emails: z.array(contactItem).nullish(), phones: z.array(contactItem).nullish(),
  org_id: id.nullish(), owner_id: id.nullish(), update_time: z.string(), is_deleted: z.boolean().optional(), custom_fields: custom,
});
export const pipedriveOrganizationSchema = z.looseObject({
  id, name: z.string().nullish(), owner_id: id.nullish(), update_time: z.string(), is_deleted: z.boolean().optional(), custom_fields: custom,
});
export const pipedriveDealSchema = z.looseObject({
  id, title: z.string().nullish(), value: z.number().nullish(), currency: z.string().nullish(), stage_id: id.nullish(),
  pipeline_id: id.nullish(), status: z.string().nullish(), probability: z.number().nullish(), expected_close_date: z.string().nullish(),
  owner_id: id.nullish(), org_id: id.nullish(), person_id: id.nullish(), update_time: z.string(), is_deleted: z.boolean().optional(),
  custom_fields: custom,
});
export const pipedriveActivitySchema = z.looseObject({
  id, subject: z.string().nullish(), type: z.string().nullish(), note: z.string().nullish(), due_date: z.string().nullish(),
  due_time: z.string().nullish(), owner_id: id.nullish(), person_id: id.nullish(), org_id: id.nullish(), deal_id: id.nullish(),
  add_time: z.string().nullish(), update_time: z.string(), is_deleted: z.boolean().optional(),
});
export const pipedriveNoteSchema = z.looseObject({
  id, content: z.string().nullish(), user_id: id.nullish(), person_id: id.nullish(), org_id: id.nullish(), deal_id: id.nullish(),
  add_time: z.string().nullish(), update_time: z.string(), active_flag: z.boolean().optional(),
});

const schemaOf = {
  person: pipedrivePersonSchema,
  organization: pipedriveOrganizationSchema,
  deal: pipedriveDealSchema,
  activity: pipedriveActivitySchema,
  note: pipedriveNoteSchema,
} as const;

// ---------------------------------------------------------------------------
// Times

/** RFC 3339 (API v2) or `YYYY-MM-DD HH:MM:SS` in UTC (API v1) → ISO 8601 UTC; undefined when neither. */
export function toIsoTime(value: string | null | undefined): string | undefined {
  if (!value) return undefined;
  const text = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}(:\d{2})?$/.test(value) ? `${value.replace(' ', 'T')}Z` : value;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

/** An instant as API v1 writes it: `YYYY-MM-DD HH:MM:SS` in UTC. */
export function toV1Time(iso: string): string {
  return new Date(iso).toISOString().slice(0, 19).replace('T', ' ');
}

/** An activity's due date and time (UTC) as one instant; the date alone means midnight. */
export function dueToIso(date: string | null | undefined, time: string | null | undefined): string | undefined {
  if (!date || !/^\d{4}-\d{2}-\d{2}$/.test(date)) return undefined;
  const hhmmss = time && /^\d{2}:\d{2}(:\d{2})?$/.test(time) ? (time.length === 5 ? `${time}:00` : time) : '00:00:00';
  return toIsoTime(`${date}T${hhmmss}Z`);
}

const truncate = (iso: string, unit: 'minute' | 'second') => {
  const ms = Date.parse(iso);
  const step = unit === 'minute' ? 60_000 : 1_000;
  return new Date(Math.floor(ms / step) * step).toISOString();
};

// ---------------------------------------------------------------------------
// Inbound

class Inbound {
  readonly fields: Record<string, unknown> = {};
  readonly unmapped: UnmappedValue[] = [];
  private readonly shape: Record<string, z.ZodType>;
  constructor(readonly entityType: EntityType) {
    this.shape = (fieldSchemas[entityType] as z.ZodObject).shape as Record<string, z.ZodType>;
  }
  set(field: string, value: unknown, source: string): void {
    const result = this.shape[field].safeParse(value);
    if (result.success) this.fields[field] = result.data;
    else this.report(`invalid_value:${source}`, value === null || value === undefined ? '' : String(typeof value === 'object' ? JSON.stringify(value) : value));
  }
  report(kind: string, remoteValue: string): void {
    this.unmapped.push({ kind, remoteValue });
  }
  /** A value-mapped id: unmapped values are reported and kept raw, or null with `unmappedAsNull`. */
  mapped(field: string, kind: ValueMapKind, maps: ValueMaps, raw: unknown, source: string, options: { context?: string | null; unmappedAsNull?: boolean } = {}) {
    if (raw === undefined) return;
    if (raw === null || raw === '') return this.set(field, null, source);
    const remote = String(raw);
    const local = maps.toLocal(kind, remote, options.context);
    if (local === undefined) this.report(kind, remote);
    this.set(field, local ?? (options.unmappedAsNull ? null : remote), source);
  }
}

const primaryValue = (items: z.infer<typeof contactItem>[] | null | undefined): string | null =>
  (items?.find((i) => i.primary) ?? items?.[0])?.value?.trim() || null;

const ref = (value: number | null | undefined): string | null | undefined => value === undefined ? undefined : value === null ? null : String(value);

/** A custom field's value; undefined when the field map does not read the column or Pipedrive did not send the key. */
function customValue(record: Inbound, fieldMap: PipedriveFieldMap, customFields: Record<string, unknown> | null | undefined, field: string) {
  const key = fieldMap.readKey(record.entityType, field);
  if (key === undefined || !customFields || !Object.hasOwn(customFields, key)) return { key, value: undefined };
  return { key, value: customFields[key] };
}

/** Maps a Pipedrive record of `object` to a unified record. */
export function toUnified(entityType: EntityType, object: PipedriveObject, input: unknown, maps: ValueMaps, fieldMap: PipedriveFieldMap): RemoteRecord {
  const parsed = schemaOf[object].safeParse(input);
  if (!parsed.success) throw new PipedriveMappingError(`not a Pipedrive ${object}: ${parsed.error.message}`);
  const raw = parsed.data as Record<string, unknown>;
  const record = new Inbound(entityType);
  const references: Partial<Record<ReferenceName, string | null>> = {};
  let archived = raw.is_deleted === true;
  switch (object) {
    case 'person': {
      const p = parsed.data as z.infer<typeof pipedrivePersonSchema>;
      record.set('email', primaryValue(p.emails)?.toLowerCase() ?? null, 'emails');
      record.set('first_name', p.first_name ?? null, 'first_name');
      record.set('last_name', p.last_name ?? null, 'last_name');
      record.set('phone', primaryValue(p.phones), 'phones');
      const stage = customValue(record, fieldMap, p.custom_fields, 'lifecycle_stage');
      record.mapped('lifecycle_stage', 'lifecycle_stage', maps, stage.value, `cf_${stage.key}`);
      const source = customValue(record, fieldMap, p.custom_fields, 'lead_source');
      if (source.value !== undefined) record.set('lead_source', source.value === '' ? null : source.value, `cf_${source.key}`);
      if (p.org_id !== undefined) references.company = ref(p.org_id);
      break;
    }
    case 'organization': {
      const o = parsed.data as z.infer<typeof pipedriveOrganizationSchema>;
      record.set('name', o.name ?? null, 'name');
      const domain = customValue(record, fieldMap, o.custom_fields, 'domain');
      if (domain.value !== undefined) {
        record.set('domain', typeof domain.value === 'string' && domain.value.trim() ? domain.value.trim().toLowerCase() : null, `cf_${domain.key}`);
      }
      const industry = customValue(record, fieldMap, o.custom_fields, 'industry');
      record.mapped('industry', 'industry', maps, industry.value, `cf_${industry.key}`);
      const revenue = customValue(record, fieldMap, o.custom_fields, 'annual_revenue');
      if (revenue.value !== undefined) {
        const v = revenue.value;
        const amount = v === null ? null : typeof v === 'number' ? v : typeof v === 'object' && v !== null && 'value' in v ? (v as { value: unknown }).value : v;
        record.set('annual_revenue', amount ?? null, `cf_${revenue.key}`);
      }
      break;
    }
    case 'deal': {
      const d = parsed.data as z.infer<typeof pipedriveDealSchema>;
      record.set('name', d.title ?? null, 'title');
      record.set('amount', d.value ?? null, 'value');
      record.set('currency', d.currency ?? null, 'currency');
      record.mapped('stage', 'deal_stage', maps, d.stage_id, 'stage_id', { context: d.pipeline_id == null ? null : String(d.pipeline_id) });
      if (d.status === 'deleted') archived = true;
      else if (d.status) record.set('status', d.status, 'status');
      record.set('probability', d.probability ?? null, 'probability');
      record.set('close_date', d.expected_close_date ?? null, 'expected_close_date');
      record.mapped('owner_id', 'owner', maps, d.owner_id, 'owner_id', { unmappedAsNull: true });
      if (d.org_id !== undefined) references.company = ref(d.org_id);
      if (d.person_id !== undefined) references.contact = ref(d.person_id);
      break;
    }
    case 'activity': {
      const a = parsed.data as z.infer<typeof pipedriveActivitySchema>;
      const type = a.type ?? 'meeting';
      if (!['call', 'email', 'meeting'].includes(type)) record.report('activity_type', type);
      record.set('type', ['call', 'email', 'meeting'].includes(type) ? type : 'meeting', 'type');
      record.set('subject', a.subject ?? null, 'subject');
      record.set('body', a.note ?? null, 'note');
      const at = dueToIso(a.due_date, a.due_time) ?? toIsoTime(a.add_time);
      if (at) record.set('occurred_at', at, 'due_date');
      record.mapped('owner_id', 'owner', maps, a.owner_id, 'owner_id', { unmappedAsNull: true });
      if (a.person_id !== undefined) references.contact = ref(a.person_id);
      if (a.org_id !== undefined) references.company = ref(a.org_id);
      if (a.deal_id !== undefined) references.deal = ref(a.deal_id);
      break;
    }
    case 'note': {
      const n = parsed.data as z.infer<typeof pipedriveNoteSchema>;
      if (n.active_flag === false) archived = true;
      record.set('type', 'note', 'type');
      record.set('body', n.content ?? null, 'content');
      const at = toIsoTime(n.add_time);
      if (at) record.set('occurred_at', at, 'add_time');
      record.mapped('owner_id', 'owner', maps, n.user_id, 'user_id', { unmappedAsNull: true });
      if (n.person_id !== undefined) references.contact = ref(n.person_id);
      if (n.org_id !== undefined) references.company = ref(n.org_id);
      if (n.deal_id !== undefined) references.deal = ref(n.deal_id);
      break;
    }
  }
  const updatedAt = toIsoTime(raw.update_time as string);
  if (!updatedAt) throw new PipedriveMappingError(`Pipedrive ${object} ${raw.id} has no readable update_time`);
  return {
    entityType,
    remoteId: remoteIdOf(object, raw.id as number),
    remoteUpdatedAt: updatedAt,
    archived,
    fields: record.fields,
    references,
    unmapped: record.unmapped,
  };
}

// ---------------------------------------------------------------------------
// Outbound

export interface PipedriveBody {
  /** The request body (API v2 JSON, or v1 for notes). */
  body: Record<string, unknown>;
  /** The fields as Pipedrive will hold them (the shadow to record). */
  written: Record<string, unknown>;
  unmapped: UnmappedValue[];
}

export interface FromUnifiedOptions {
  create?: boolean;
  /** The fields as last written (the shadow): a person's name is written whole from its two parts. */
  base?: Record<string, unknown>;
  references?: Record<string, string | null>;
}

const toId = (remoteId: string | null | undefined): number | null => {
  if (remoteId === null || remoteId === undefined || remoteId === '') return null;
  const n = Number(remoteId.startsWith(NOTE_PREFIX) ? remoteId.slice(NOTE_PREFIX.length) : remoteId);
  return Number.isSafeInteger(n) ? n : null;
};

/** Maps unified fields (all or some of a record's) and references to the body that writes them to `object`. */
export function fromUnified(
  entityType: EntityType,
  object: PipedriveObject,
  fields: Record<string, unknown>,
  maps: ValueMaps,
  fieldMap: PipedriveFieldMap,
  options: FromUnifiedOptions = {},
): PipedriveBody {
  const body: Record<string, unknown> = {};
  const customFields: Record<string, unknown> = {};
  const written: Record<string, unknown> = { ...fields };
  const unmapped: UnmappedValue[] = [];
  const has = (field: string) => Object.hasOwn(fields, field);
  const refs = options.references ?? {};
  const setRef = (name: ReferenceName, key: string) => {
    if (Object.hasOwn(refs, name)) body[key] = toId(refs[name]);
  };
  /** A value-mapped field: its remote value, or undefined (not sent, reported) when no row maps it. */
  const remoteOf = (kind: ValueMapKind, field: string): { value: string | null } | undefined => {
    const local = fields[field];
    if (local === null || local === undefined) return { value: null };
    const remote = maps.toRemote(kind, String(local));
    if (remote === undefined) {
      unmapped.push({ kind, remoteValue: String(local) });
      delete written[field];
      return undefined;
    }
    return { value: remote.remoteValue };
  };
  const custom = (field: string, value: (local: unknown) => unknown) => {
    if (!has(field)) return;
    const key = fieldMap.writeKey(entityType, field);
    if (key === undefined) return;
    const v = value(fields[field]);
    if (v === undefined) return;
    customFields[key] = v;
  };
  const enumOption = (kind: ValueMapKind, field: string) => (local: unknown) => {
    if (local === null || local === undefined) return null;
    const remote = remoteOf(kind, field);
    return remote === undefined ? undefined : remote.value === null ? null : Number(remote.value);
  };

  switch (object) {
    case 'person': {
      if (has('first_name') || has('last_name') || options.create) {
        const merged = { ...(options.base ?? {}), ...fields };
        const name = [merged.first_name, merged.last_name].filter((p) => typeof p === 'string' && p.trim()).join(' ').trim();
        body.name = name || (typeof merged.email === 'string' && merged.email) || 'Unnamed person';
      }
      if (has('email')) body.emails = fields.email ? [{ value: fields.email, primary: true, label: 'work' }] : [];
      if (has('phone')) body.phones = fields.phone ? [{ value: fields.phone, primary: true, label: 'work' }] : [];
      custom('lifecycle_stage', enumOption('lifecycle_stage', 'lifecycle_stage'));
      custom('lead_source', (v) => v ?? null);
      setRef('company', 'org_id');
      break;
    }
    case 'organization': {
      if (has('name') || options.create) body.name = fields.name || fields.domain || 'Unnamed organization';
      custom('domain', (v) => v ?? null);
      custom('industry', enumOption('industry', 'industry'));
      custom('annual_revenue', (v) => v === null || v === undefined ? null : { value: Number(v), currency: 'USD' });
      break;
    }
    case 'deal': {
      if (has('name') || options.create) body.title = fields.name || 'Untitled deal';
      if (has('amount')) body.value = fields.amount ?? 0;
      if (has('currency') && fields.currency) body.currency = fields.currency;
      if (has('stage') && fields.stage !== null) {
        const stage = remoteOf('deal_stage', 'stage');
        if (stage?.value) body.stage_id = Number(stage.value);
      }
      if (has('status')) body.status = fields.status;
      if (has('probability')) body.probability = fields.probability ?? null;
      if (has('close_date')) body.expected_close_date = fields.close_date ?? null;
      if (has('owner_id') && fields.owner_id !== null) {
        const owner = remoteOf('owner', 'owner_id');
        if (owner?.value) body.owner_id = Number(owner.value);
      }
      setRef('company', 'org_id');
      setRef('contact', 'person_id');
      break;
    }
    case 'activity': {
      if (has('type') && fields.type !== 'note') body.type = fields.type;
      if (has('subject') || options.create) body.subject = fields.subject || String(fields.type ?? 'Activity');
      if (has('body')) body.note = fields.body ?? null;
      if (has('occurred_at') && typeof fields.occurred_at === 'string') {
        const at = truncate(fields.occurred_at, 'minute');
        body.due_date = at.slice(0, 10);
        body.due_time = at.slice(11, 16);
        written.occurred_at = at;
      }
      if (options.create) body.done = true;
      if (has('owner_id') && fields.owner_id !== null) {
        const owner = remoteOf('owner', 'owner_id');
        if (owner?.value) body.owner_id = Number(owner.value);
      }
      setRef('contact', 'person_id');
      setRef('company', 'org_id');
      setRef('deal', 'deal_id');
      break;
    }
    case 'note': {
      if (has('body') || options.create) body.content = fields.body || fields.subject || '(empty note)';
      if (has('occurred_at') && typeof fields.occurred_at === 'string') {
        body.add_time = toV1Time(fields.occurred_at);
        written.occurred_at = truncate(fields.occurred_at, 'second');
      }
      if (has('owner_id') && fields.owner_id !== null) {
        const owner = remoteOf('owner', 'owner_id');
        if (owner?.value) body.user_id = Number(owner.value);
      }
      setRef('contact', 'person_id');
      setRef('company', 'org_id');
      setRef('deal', 'deal_id');
      break;
    }
  }
  if (Object.keys(customFields).length > 0) body.custom_fields = customFields;
  return { body, written, unmapped };
}
