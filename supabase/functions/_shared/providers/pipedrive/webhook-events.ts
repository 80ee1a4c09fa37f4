// What Pipedrive POSTs to a webhook v2 subscription: one event per request,
// `{ meta, data, previous }`. The schema is tolerant where Pipedrive may add
// things (unknown meta fields, any record shape in data and previous) and
// strict where intake depends on it: the event id (deduplication), the
// company id (routing), the action and the time (the age window).
import { z } from 'zod';

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Record ids are integers sent as strings; leads have uuids. */
const entityId = z.string().regex(/^[A-Za-z0-9-]{1,64}$/, 'expected a record id');
const numericId = z.string().regex(/^\d{1,20}$/, 'expected a numeric id as a string');
/** Ids intake does not depend on: documented as strings, taken as integers too. */
const anyId = z.union([z.string().max(64), z.number().int()]);
const record = z.record(z.string(), z.unknown());

export const PIPEDRIVE_ACTIONS = ['create', 'change', 'delete'] as const;

export const pipedriveWebhookMetaSchema = z.looseObject({
  action: z.enum(PIPEDRIVE_ACTIONS),
  /** `person`, `organization`, `deal`, `activity`, `note`, `product`, ... */
  entity: z.string().regex(/^[a-z][a-z_]{0,49}$/, 'expected an entity name like person'),
  entity_id: entityId,
  /** The event's uuid: the same on every retry of one delivery. */
  id: z.string().regex(uuid, 'expected the event uuid'),
  company_id: numericId,
  /** When the change happened (RFC 3339). */
  timestamp: z.iso.datetime({ offset: true }),
  version: z.literal('2.0'),
  /** `app` (a user in Pipedrive) or `api` (an integration, this engine included). */
  change_source: z.string().max(50).optional(),
  /** 1 on the first delivery, up to 4 with retries. */
  attempt: z.number().int().min(1).max(100).optional(),
  correlation_id: z.string().max(200).nullable().optional(),
  is_bulk_edit: z.boolean().optional(),
  user_id: anyId.nullable().optional(),
  webhook_id: anyId.optional(),
  merged_to_id: anyId.optional(),
  merged_from_id: anyId.optional(),
});

export const pipedriveWebhookEventSchema = z
  .looseObject({
    meta: pipedriveWebhookMetaSchema,
    data: record.nullable(),
    previous: record.nullable(),
  })
  .refine((event) => event.meta.action === 'delete' || event.data !== null, {
    message: 'a create or change event carries the record in data',
    path: ['data'],
  });

export type PipedriveWebhookEvent = z.infer<typeof pipedriveWebhookEventSchema>;

/**
 * The identity of a delivery across Pipedrive's retries: `meta.id` names the
 * event and stays the same while `meta.attempt` counts up.
 */
export function dedupeKey(event: PipedriveWebhookEvent): string {
  return `event:${event.meta.id.toLowerCase()}`;
}
