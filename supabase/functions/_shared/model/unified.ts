// The unified model: the shape every provider maps to and from, mirroring
// the crm tables. References between records are carried separately, as
// remote ids on the way in and local ids in the database, because a record
// can arrive before the one it points to.
import { z } from 'zod';

export const entityTypes = ['contact', 'company', 'deal', 'activity', 'task'] as const;
export type EntityType = (typeof entityTypes)[number];

/** The crm table of each entity type. */
export const tableOf: Record<EntityType, string> = {
  contact: 'contacts',
  company: 'companies',
  deal: 'deals',
  activity: 'activities',
  task: 'tasks',
};

const text = z.string().nullable();
const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected YYYY-MM-DD').nullable();
const isoTime = z.iso.datetime({ offset: true });

export const contactFields = z.object({
  email: z.string().regex(/^[^@\s]+@[^@\s]+$/, 'not an email address').nullable(),
  first_name: text,
  last_name: text,
  phone: text,
  lifecycle_stage: text,
  lead_source: text,
  custom_fields: z.record(z.string(), z.unknown()),
}).partial();

export const companyFields = z.object({
  name: text,
  domain: z.string().transform((d) => d.trim().toLowerCase()).nullable(),
  industry: text,
  employee_count: z.number().int().nonnegative().nullable(),
  annual_revenue: z.number().nonnegative().nullable(),
  website: text,
}).partial();

export const dealFields = z.object({
  name: text,
  amount: z.number().nullable(),
  currency: z.string().regex(/^[A-Z]{3}$/).nullable(),
  stage: text,
  status: z.enum(['open', 'won', 'lost']),
  probability: z.number().min(0).max(100).nullable(),
  close_date: isoDate,
  owner_id: z.uuid().nullable(),
}).partial();

export const activityFields = z.object({
  type: z.enum(['call', 'email', 'meeting', 'note']),
  subject: text,
  body: text,
  occurred_at: isoTime,
  direction: z.enum(['inbound', 'outbound']).nullable(),
  owner_id: z.uuid().nullable(),
}).partial();

export const taskFields = z.object({
  title: z.string().min(1),
  due_date: isoDate,
  status: z.enum(['open', 'in_progress', 'completed', 'cancelled']),
  assigned_to: z.uuid().nullable(),
}).partial();

export const fieldSchemas = {
  contact: contactFields,
  company: companyFields,
  deal: dealFields,
  activity: activityFields,
  task: taskFields,
} as const;

export type FieldsOf<E extends EntityType> = z.infer<(typeof fieldSchemas)[E]>;

/** References each entity type may hold: name → the entity type it points to. */
export const referencesOf: Record<EntityType, Partial<Record<'company' | 'contact' | 'deal', EntityType>>> = {
  contact: { company: 'company' },
  company: {},
  deal: { company: 'company', contact: 'contact' },
  activity: { contact: 'contact', company: 'company', deal: 'deal' },
  task: { contact: 'contact', company: 'company', deal: 'deal' },
};
export type ReferenceName = 'company' | 'contact' | 'deal';

/** The column holding a reference in the crm tables. */
export const referenceColumn: Record<ReferenceName, string> = {
  company: 'company_id',
  contact: 'contact_id',
  deal: 'deal_id',
};

/** A value a provider sent that no per-connection map translates (kept raw, reported). */
export interface UnmappedValue {
  kind: string;
  remoteValue: string;
}

/** A provider record after mapping: fields in unified form, references as remote ids. */
export interface RemoteRecord<E extends EntityType = EntityType> {
  entityType: E;
  remoteId: string;
  remoteUpdatedAt: string;
  /**
   * When the CRM last modified the record, where remoteUpdatedAt is a version
   * dated otherwise (Pipedrive: the moment of the read, when later than the
   * whole-second update_time). Absent: remoteUpdatedAt is that time.
   */
  modifiedAt?: string;
  archived: boolean;
  fields: FieldsOf<E>;
  references: Partial<Record<ReferenceName, string | null>>;
  unmapped: UnmappedValue[];
  /**
   * The local id the engine stamped on the record when it created it there
   * (HubSpot: forge_local_id). Lets the webhook echo of a create whose result
   * is not recorded yet find its local record instead of making a second one.
   */
  localId?: string;
  /**
   * Values an edit in the CRM gave some fields just before the engine's own
   * write overwrote them (the CRM now holds `fields`): they count as the CRM's
   * change, and the CRM is written again (inbound.ts, overwrittenEdits).
   */
  overwritten?: Record<string, unknown>;
}
