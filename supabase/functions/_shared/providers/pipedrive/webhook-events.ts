// What Pipedrive POSTs to a webhook v2 subscription: one event per request,
// `{ meta, data, previous }`. The schema is tolerant where Pipedrive may add
// things (unknown meta fields, any record shape in data and previous) and
// strict where intake depends on it: the event id (deduplication), the
// company id (routing), the action and the time (the age window).
import { z } from 'zod';
import type { EntityType, RemoteRecord } from '../../model/unified.ts';
import type { InboundWork, OwnWriteChange } from '../adapter.ts';
import { type PipedriveObject, remoteIdOf, toIsoTime } from './mappers.ts';

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

// Queued deliveries ({meta, data, previous}, as intake stored them) turned
// into the engine's work items.
//
// - create / change: fetch the record (its current state, never the
//   payload: deliveries come late, twice or out of order);
// - delete: a delete that names `merged_to_id` is the losing half of a
//   merge (the survivor gets a change naming `merged_from_id`); any other
//   delete is fetched too, and the fetch says whether the record is gone;
// - notes are activities whose remote id is "note:<id>".
//
// Echoes: the engine records the time of its own writes (the update_time of
// the record the write returned: see writtenVersion in adapter.ts), and the
// inbound step skips as an echo only an event at exactly that time. Pipedrive's
// times have whole seconds, so an event is dated at its record's update_time only
// when the integration itself made the change through the API
// (`change_source` "api" by the user that owns the webhook, whose token the
// engine uses): then it is at exactly the write's time and no fetch is spent on
// the echo. A change by a person, or another integration, is dated to the end
// of its second, so it is never taken for the echo of a write made in the same
// second.
//
// The echo of a write to a person's name also says which name parts it
// changed and what they held before (ownWrite): the engine sends the part it
// was not asked to write as it read it, and a user's edit of that part made
// between the read and the write shows there, overwritten.

const idText = z.union([z.string().regex(/^\d+$/), z.number().int().nonnegative()]).transform(String);

/** The parts of a queued event the engine reads (tolerant: intake validated it). */
const queuedEventSchema = z.looseObject({
  meta: z.looseObject({
    action: z.string(),
    entity: z.string(),
    entity_id: idText,
    timestamp: z.union([z.string(), z.number()]).optional(),
    change_source: z.string().optional(),
    user_id: idText.optional(),
    webhook_owner_id: idText.optional(),
    merged_to_id: idText.optional(),
    merged_from_id: idText.optional(),
  }),
  data: z.record(z.string(), z.unknown()).nullable().optional(),
  previous: z.record(z.string(), z.unknown()).nullable().optional(),
});
type QueuedEvent = z.infer<typeof queuedEventSchema>;

const entityTypeOf: Record<string, { entityType: EntityType; object: PipedriveObject }> = {
  person: { entityType: 'contact', object: 'person' },
  organization: { entityType: 'company', object: 'organization' },
  deal: { entityType: 'deal', object: 'deal' },
  activity: { entityType: 'activity', object: 'activity' },
  note: { entityType: 'activity', object: 'note' },
};

/** v1 names of the actions, which some accounts still send. */
const actionOf: Record<string, 'create' | 'change' | 'delete'> = {
  create: 'create', added: 'create', change: 'change', updated: 'change', delete: 'delete', deleted: 'delete', merged: 'change',
};

/** When the event's change happened, in epoch ms (see the header on echoes). */
export function eventTime(event: QueuedEvent, action: 'create' | 'change' | 'delete'): number {
  const stamped = typeof event.meta.timestamp === 'number'
    ? event.meta.timestamp
    : event.meta.timestamp ? Date.parse(event.meta.timestamp) : Number.NaN;
  const updateTime = toIsoTime(String((event.data ?? event.previous)?.update_time ?? ''));
  const updatedMs = updateTime ? Date.parse(updateTime) : Number.NaN;
  if (action === 'delete') {
    // A delete's record holds its last update, not the deletion: the deletion is later.
    const at = Number.isNaN(stamped) ? Date.now() : stamped;
    return Number.isNaN(updatedMs) ? at : Math.max(at, updatedMs + 1_000);
  }
  if (!Number.isNaN(updatedMs)) return byIntegration(event) ? updatedMs : Math.max(updatedMs + 999, Number.isNaN(stamped) ? 0 : stamped);
  return Number.isNaN(stamped) ? Date.now() : stamped;
}

/** A change the integration made through the API: the engine's own write (see the header on echoes). */
function byIntegration(event: QueuedEvent): boolean {
  return event.meta.change_source === 'api' && event.meta.user_id !== undefined && event.meta.user_id === event.meta.webhook_owner_id;
}

/** The fields Pipedrive writes only together: a person's name parts (its `name` is the one writable field). */
const writtenTogether: Record<string, string[]> = { person: ['first_name', 'last_name'] };

/**
 * What the engine's own write changed among fields written together, from
 * the webhook's `previous` (only changed fields) and `data`.
 */
function ownWriteChange(event: QueuedEvent): OwnWriteChange | undefined {
  const fields = writtenTogether[event.meta.entity];
  if (!fields || !byIntegration(event) || !event.previous || !event.data) return undefined;
  const changed = fields.filter((f) => Object.hasOwn(event.previous!, f));
  if (changed.length === 0) return undefined;
  return {
    before: Object.fromEntries(changed.map((f) => [f, event.previous![f] ?? null])),
    after: Object.fromEntries(changed.map((f) => [f, event.data![f] ?? null])),
  };
}

/** Maps a record as a webhook carried it; undefined when it cannot be read. */
export type SnapshotReader = (entityType: EntityType, object: PipedriveObject, item: Record<string, unknown>) => RemoteRecord | undefined;

/**
 * The record as the event carried it (a change's `data`, a deletion's
 * `previous`), dated like a change at its update_time: exactly for the
 * integration's own writes, at the end of that second otherwise.
 */
function lastKnownOf(event: QueuedEvent, action: 'create' | 'change' | 'delete', target: { entityType: EntityType; object: PipedriveObject },
                     read: SnapshotReader | undefined): (() => RemoteRecord | undefined) | undefined {
  const item = action === 'delete' ? event.previous : event.data;
  const updateTime = toIsoTime(String(item?.update_time ?? ''));
  if (!read || !item || !updateTime) return undefined;
  return () => {
    const record = read(target.entityType, target.object, item);
    if (!record || record.archived) return undefined;
    const at = Date.parse(updateTime) + (action !== 'delete' && byIntegration(event) ? 0 : 999);
    return { ...record, remoteUpdatedAt: new Date(at).toISOString(), modifiedAt: updateTime };
  };
}

export function interpretPipedriveEvents(events: unknown[], readSnapshot?: SnapshotReader): InboundWork[] {
  const work: InboundWork[] = [];
  for (const raw of events) {
    const parsed = queuedEventSchema.safeParse(raw);
    if (!parsed.success) continue;
    const event = parsed.data;
    const target = entityTypeOf[event.meta.entity];
    const action = actionOf[event.meta.action];
    if (!target || !action) continue;
    const occurredAt = eventTime(event, action);
    const remoteId = remoteIdOf(target.object, event.meta.entity_id);
    if (action === 'delete' && event.meta.merged_to_id !== undefined) {
      work.push({
        kind: 'merge', entityType: target.entityType, occurredAt,
        primaryRemoteId: remoteIdOf(target.object, event.meta.merged_to_id), mergedRemoteIds: [remoteId],
      });
    } else if (action === 'delete') {
      const lastKnown = lastKnownOf(event, action, target, readSnapshot);
      work.push({ kind: 'delete', entityType: target.entityType, remoteId, occurredAt, ...(lastKnown ? { lastKnown } : {}) });
    } else {
      if (event.meta.merged_from_id !== undefined) {
        // The surviving half of a merge: enough to apply it if the delete was lost.
        work.push({
          kind: 'merge', entityType: target.entityType, occurredAt,
          primaryRemoteId: remoteId, mergedRemoteIds: [remoteIdOf(target.object, event.meta.merged_from_id)],
        });
      }
      const ownWrite = action === 'change' ? ownWriteChange(event) : undefined;
      const lastKnown = lastKnownOf(event, action, target, readSnapshot);
      work.push({
        kind: 'fetch', entityType: target.entityType, remoteId, occurredAt, ...(ownWrite ? { ownWrite } : {}), ...(lastKnown ? { lastKnown } : {}),
      });
    }
  }
  return work;
}
