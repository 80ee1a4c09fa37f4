/**
 * The record types the simulator keeps, the request bodies that write them
 * (API v2 for persons, organizations, deals and activities; v1 for notes)
 * and their JSON as API v2 and webhooks v2 show it.
 *
 * Unset references and dates are null, as Pipedrive sends them (the spec
 * omits `nullable` on many of them; the conformance test lists which).
 */

import { z } from 'zod';
import { badRequest } from './errors.ts';
import type { FieldEntity, FieldRegistry } from './field-registry.ts';
import { isDate, parseRfc3339, parseV1Time, rfc3339, TIME } from './timestamps.ts';

export type EntityKind = 'person' | 'organization' | 'deal' | 'activity' | 'note';
export const ENTITY_KINDS: readonly EntityKind[] = ['person', 'organization', 'deal', 'activity', 'note'];
/** Kinds served by API v2 (notes are v1). */
export type V2Kind = Exclude<EntityKind, 'note'>;
export const V2_KINDS: readonly V2Kind[] = ['person', 'organization', 'deal', 'activity'];

export const PLURAL: Record<EntityKind, string> = {
  person: 'persons',
  organization: 'organizations',
  deal: 'deals',
  activity: 'activities',
  note: 'notes',
};

export const LABEL: Record<EntityKind, string> = {
  person: 'Person',
  organization: 'Organization',
  deal: 'Deal',
  activity: 'Activity',
  note: 'Note',
};

/** `persons` → `person`; also accepts the singular. */
export function kindOf(name: string): EntityKind | undefined {
  return ENTITY_KINDS.find((kind) => kind === name || PLURAL[kind] === name);
}

export interface EntityRecord {
  kind: EntityKind;
  id: number;
  /** Standard fields under their API v2 names (without id, times, is_deleted, custom_fields). */
  values: Record<string, unknown>;
  /** Custom field values by hash key; unset fields are absent. */
  custom: Record<string, unknown>;
  addTime: number;
  updateTime: number;
  deleted: boolean;
  /** Set on the losing record of a merge. */
  mergedInto?: number;
}

/** Activity types of a fresh company: key → default subject. */
export const ACTIVITY_TYPES: Record<string, string> = {
  call: 'Call',
  meeting: 'Meeting',
  task: 'Task',
  deadline: 'Deadline',
  email: 'Email',
  lunch: 'Lunch',
};

// ----------------------------------------------------------- write bodies

const id = z.number().int().positive();
const contact = z.strictObject({
  value: z.string().trim().min(1),
  primary: z.boolean().optional(),
  label: z.string().optional(),
});
const visibleTo = z.union([z.literal(1), z.literal(3), z.literal(5), z.literal(7)]);
const addTime = z.string().refine((value) => parseRfc3339(value) !== undefined, 'must be RFC 3339');
const date = z.string().refine(isDate, 'must be a date YYYY-MM-DD');
const time = z.string().regex(TIME, 'must be a time HH:MM');
const address = z.object({ value: z.string() }).catchall(z.string());
const customFields = z.record(z.string(), z.unknown());

const WRITE_SCHEMAS = {
  person: z.strictObject({
    name: z.string().trim().min(1),
    owner_id: id,
    org_id: id.nullable(),
    emails: z.array(contact),
    phones: z.array(contact),
    visible_to: visibleTo,
    label_ids: z.array(id),
    add_time: addTime,
    custom_fields: customFields,
  }).partial(),
  organization: z.strictObject({
    name: z.string().trim().min(1),
    owner_id: id,
    address: address.nullable(),
    visible_to: visibleTo,
    label_ids: z.array(id),
    add_time: addTime,
    custom_fields: customFields,
  }).partial(),
  deal: z.strictObject({
    title: z.string().trim().min(1),
    value: z.number(),
    currency: z.string().regex(/^[A-Z]{3}$/, 'must be a 3-letter currency code'),
    pipeline_id: id,
    stage_id: id,
    status: z.enum(['open', 'won', 'lost']),
    probability: z.number().min(0).max(100).nullable(),
    expected_close_date: date.nullable(),
    owner_id: id,
    org_id: id.nullable(),
    person_id: id.nullable(),
    lost_reason: z.string().nullable(),
    visible_to: visibleTo,
    label_ids: z.array(id),
    add_time: addTime,
    custom_fields: customFields,
  }).partial(),
  activity: z.strictObject({
    subject: z.string().trim().min(1),
    type: z.string().min(1),
    owner_id: id,
    deal_id: id.nullable(),
    person_id: id.nullable(),
    org_id: id.nullable(),
    due_date: date.nullable(),
    due_time: time.nullable(),
    duration: time.nullable(),
    busy: z.boolean(),
    done: z.boolean(),
    note: z.string().nullable(),
    public_description: z.string().nullable(),
    priority: z.number().int().nullable(),
    location: address.nullable(),
    participants: z.array(z.strictObject({ person_id: id, primary: z.boolean() })),
  }).partial(),
};

const flag = z.union([z.literal(0), z.literal(1), z.literal('0'), z.literal('1'), z.boolean()])
  .transform((value) => value === true || value === 1 || value === '1');
const v1Id = z.coerce.number().int().positive();

/** `POST/PUT /v1/notes` (v1 is lenient: ids may come as strings). */
const NOTE_SCHEMA = z.strictObject({
  content: z.string().min(1),
  deal_id: v1Id.nullable(),
  person_id: v1Id.nullable(),
  org_id: v1Id.nullable(),
  lead_id: z.string().uuid().nullable(),
  user_id: v1Id,
  add_time: z.string().refine((value) => parseV1Time(value) !== undefined, 'must be YYYY-MM-DD HH:MM:SS'),
  pinned_to_deal_flag: flag,
  pinned_to_person_flag: flag,
  pinned_to_organization_flag: flag,
  pinned_to_lead_flag: flag,
}).partial();

export type WriteInput = Record<string, unknown> & { custom_fields?: Record<string, unknown> };

/** Validates a write body; unknown fields are a 400 so a mistyped field name is not silently dropped. */
export function parseWrite(kind: EntityKind, body: unknown): WriteInput {
  const schema = kind === 'note' ? NOTE_SCHEMA : WRITE_SCHEMAS[kind];
  const result = schema.safeParse(body ?? {});
  if (!result.success) {
    const issues = result.error.issues.map((issue) =>
      issue.code === 'unrecognized_keys'
        ? `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}`
        : `${issue.path.join('.') || 'body'}: ${issue.message}`
    );
    throw badRequest(`Validation failed: ${issues.join('; ')}`);
  }
  return result.data as WriteInput;
}

/** Emails or phones with exactly one primary entry and a label each. */
export function normalizeContacts(
  items: Array<{ value: string; primary?: boolean; label?: string }>,
): Array<{ value: string; primary: boolean; label: string }> {
  const primaryIndex = Math.max(0, items.findIndex((item) => item.primary === true));
  return items.map((item, index) => ({
    value: item.value,
    primary: index === primaryIndex,
    label: item.label ?? 'work',
  }));
}

/** `Ann Marie Archer` → first `Ann`, last `Marie Archer`. */
export function splitName(name: string): { first_name: string; last_name: string | null } {
  const [first, ...rest] = name.trim().split(/\s+/);
  return { first_name: first, last_name: rest.length ? rest.join(' ') : null };
}

// ------------------------------------------------------------------- JSON

/** `custom_fields` of a record: every active custom field (null when unset), or only the selected keys. */
export function customFieldsJson(
  record: EntityRecord,
  fields: FieldRegistry,
  select?: readonly string[],
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of fields.customFields(record.kind as FieldEntity)) {
    if (select && !select.includes(field.key)) continue;
    const value = record.custom[field.key];
    out[field.key] = value === undefined ? null : structuredClone(value);
  }
  return out;
}

/**
 * A record as API v2 (and the `data` of webhooks v2) shows it. Notes, which
 * have no v2 API, get the same flat style: ids rather than nested objects.
 */
export function entityJson(
  record: EntityRecord,
  fields: FieldRegistry,
  options: { customFields?: readonly string[] } = {},
): Record<string, unknown> {
  const v = record.values;
  const times = { add_time: rfc3339(record.addTime), update_time: rfc3339(record.updateTime) };
  switch (record.kind) {
    case 'person':
      return {
        id: record.id,
        name: v.name,
        first_name: v.first_name,
        last_name: v.last_name,
        owner_id: v.owner_id,
        org_id: v.org_id,
        ...times,
        emails: structuredClone(v.emails),
        phones: structuredClone(v.phones),
        is_deleted: record.deleted,
        visible_to: v.visible_to,
        label_ids: [...(v.label_ids as number[])],
        picture_id: null,
        custom_fields: customFieldsJson(record, fields, options.customFields),
      };
    case 'organization':
      return {
        id: record.id,
        name: v.name,
        owner_id: v.owner_id,
        ...times,
        is_deleted: record.deleted,
        visible_to: v.visible_to,
        address: v.address === null ? null : structuredClone(v.address),
        label_ids: [...(v.label_ids as number[])],
        custom_fields: customFieldsJson(record, fields, options.customFields),
      };
    case 'deal':
      return {
        id: record.id,
        title: v.title,
        creator_user_id: v.creator_user_id,
        owner_id: v.owner_id,
        value: v.value,
        person_id: v.person_id,
        org_id: v.org_id,
        stage_id: v.stage_id,
        pipeline_id: v.pipeline_id,
        currency: v.currency,
        archive_time: null,
        ...times,
        stage_change_time: v.stage_change_time,
        status: record.deleted ? 'deleted' : v.status,
        is_archived: false,
        is_deleted: record.deleted,
        probability: v.probability,
        lost_reason: v.lost_reason,
        visible_to: v.visible_to,
        close_time: v.close_time,
        won_time: v.won_time,
        lost_time: v.lost_time,
        expected_close_date: v.expected_close_date,
        label_ids: [...(v.label_ids as number[])],
        origin: v.origin,
        origin_id: null,
        channel: null,
        channel_id: null,
        acv: null,
        arr: null,
        mrr: null,
        custom_fields: customFieldsJson(record, fields, options.customFields),
      };
    case 'activity':
      return {
        id: record.id,
        subject: v.subject,
        type: v.type,
        owner_id: v.owner_id,
        creator_user_id: v.creator_user_id,
        is_deleted: record.deleted,
        ...times,
        deal_id: v.deal_id,
        lead_id: null,
        person_id: v.person_id,
        org_id: v.org_id,
        project_id: null,
        due_date: v.due_date,
        due_time: v.due_time,
        duration: v.duration,
        busy: v.busy,
        done: v.done,
        marked_as_done_time: v.marked_as_done_time,
        location: v.location === null ? null : structuredClone(v.location),
        participants: structuredClone(v.participants),
        conference_meeting_client: null,
        conference_meeting_url: null,
        conference_meeting_id: null,
        public_description: v.public_description,
        priority: v.priority,
        note: v.note,
      };
    case 'note':
      return {
        id: record.id,
        content: v.content,
        deal_id: v.deal_id,
        person_id: v.person_id,
        org_id: v.org_id,
        lead_id: v.lead_id,
        user_id: v.user_id,
        ...times,
        is_deleted: record.deleted,
        pinned_to_deal_flag: v.pinned_to_deal_flag,
        pinned_to_person_flag: v.pinned_to_person_flag,
        pinned_to_organization_flag: v.pinned_to_organization_flag,
        pinned_to_lead_flag: v.pinned_to_lead_flag,
      };
  }
}

/**
 * The fields that differ between two JSON states, with their old values
 * (`previous` of a change webhook). `update_time` is left out; custom
 * fields are compared key by key.
 */
export function changedFields(
  before: Record<string, unknown>,
  after: Record<string, unknown>,
): Record<string, unknown> {
  const previous: Record<string, unknown> = {};
  for (const [key, old] of Object.entries(before)) {
    if (key === 'update_time') continue;
    if (key === 'custom_fields') {
      const oldCustom = (old ?? {}) as Record<string, unknown>;
      const newCustom = (after.custom_fields ?? {}) as Record<string, unknown>;
      const changed: Record<string, unknown> = {};
      for (const [field, value] of Object.entries(oldCustom)) {
        if (JSON.stringify(value) !== JSON.stringify(newCustom[field])) changed[field] = value;
      }
      if (Object.keys(changed).length) previous.custom_fields = changed;
      continue;
    }
    if (JSON.stringify(old) !== JSON.stringify(after[key])) previous[key] = old;
  }
  return previous;
}
