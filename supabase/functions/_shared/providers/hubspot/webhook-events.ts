// What HubSpot POSTs to a webhook target: a JSON array of up to 100 events
// (Webhooks API v3). The event schema is tolerant: the documented fields are
// typed, the ones a given subscription type lacks are optional, and fields
// HubSpot adds later pass through untouched into the queue.
import { z } from 'zod';

/** HubSpot sends at most 100 events per request; a longer array is not a HubSpot delivery. */
export const HUBSPOT_MAX_EVENTS_PER_REQUEST = 100;

const id = z.number().int().nonnegative();
const count = z.number().int().nonnegative();

export const hubSpotWebhookEventSchema = z.looseObject({
  eventId: z.number().int(),
  subscriptionId: z.number().int().optional(),
  portalId: z.number().int().positive(),
  appId: z.number().int().optional(),
  /** Epoch milliseconds of the change. */
  occurredAt: z.number().int().nonnegative(),
  /** `contact.propertyChange`, `deal.creation`, `object.merge`, ... */
  subscriptionType: z.string().regex(/^\w+\.\w+$/, 'expected <object>.<event>, like contact.propertyChange').max(100),
  /** 0 on the first delivery, then one more per retry. */
  attemptNumber: count.optional(),
  objectId: id.optional(),
  objectTypeId: z.string().optional(),
  changeSource: z.string().optional(),
  changeFlag: z.string().optional(),
  sourceId: z.string().nullable().optional(),
  // propertyChange
  propertyName: z.string().min(1).max(200).optional(),
  propertyValue: z.string().nullable().optional(),
  // merge
  primaryObjectId: id.optional(),
  mergedObjectIds: z.array(id).optional(),
  newObjectId: id.optional(),
  numberOfPropertiesMoved: count.optional(),
  // associationChange
  associationType: z.string().optional(),
  fromObjectId: id.optional(),
  toObjectId: id.optional(),
  associationRemoved: z.boolean().optional(),
  isPrimaryAssociation: z.boolean().optional(),
});

export type HubSpotWebhookEvent = z.infer<typeof hubSpotWebhookEventSchema>;

export const hubSpotWebhookBatchSchema = z
  .array(hubSpotWebhookEventSchema)
  .min(1, 'expected at least one event')
  .max(HUBSPOT_MAX_EVENTS_PER_REQUEST, `HubSpot sends at most ${HUBSPOT_MAX_EVENTS_PER_REQUEST} events per request`);

/**
 * The identity of an event across redeliveries: the same change delivered
 * again (a retry carries a higher attemptNumber) has the same key. An
 * association event names no objectId, so its two ends stand in for it.
 */
export function dedupeKey(event: HubSpotWebhookEvent): string {
  const object = event.objectId ??
    (event.fromObjectId === undefined ? '' : `${event.fromObjectId}>${event.toObjectId ?? ''}`);
  return [event.subscriptionType, object, event.occurredAt, event.eventId, event.propertyName ?? ''].join('|');
}
