// The HubSpot object types the engine syncs and how they line up with the
// unified entity types: one object type per entity, except activities, which
// HubSpot keeps as four engagement objects (notes, calls, meetings, emails).
// Also what to ask HubSpot for per object type: the mapped properties (the
// connection's field map and the fixed ones), the modification timestamp,
// and the associations that carry references.
import type { EntityType, FieldsOf } from '../../model/unified.ts';
import type { FieldMap } from './field-map.ts';

export const hubSpotObjectTypes = ['contacts', 'companies', 'deals', 'notes', 'calls', 'meetings', 'emails'] as const;
export type HubSpotObjectType = (typeof hubSpotObjectTypes)[number];

export const engagementObjectTypes = ['notes', 'calls', 'meetings', 'emails'] as const;
export type EngagementObjectType = (typeof engagementObjectTypes)[number];

export type ActivityType = NonNullable<FieldsOf<'activity'>['type']>;

/** HubSpot's object type ids, as in `object.*` webhook events and v4 association results. */
export const hubSpotObjectTypeIds: Record<HubSpotObjectType, string> = {
  contacts: '0-1',
  companies: '0-2',
  deals: '0-3',
  notes: '0-46',
  meetings: '0-47',
  calls: '0-48',
  emails: '0-49',
};

/** The singular name HubSpot uses in webhook subscription types and v3 association type names. */
export const singularOf: Record<HubSpotObjectType, string> = {
  contacts: 'contact',
  companies: 'company',
  deals: 'deal',
  notes: 'note',
  calls: 'call',
  meetings: 'meeting',
  emails: 'email',
};

const entityTypeOfObject: Record<HubSpotObjectType, EntityType> = {
  contacts: 'contact',
  companies: 'company',
  deals: 'deal',
  notes: 'activity',
  calls: 'activity',
  meetings: 'activity',
  emails: 'activity',
};

const objectTypesOfEntity: Record<EntityType, readonly HubSpotObjectType[]> = {
  contact: ['contacts'],
  company: ['companies'],
  deal: ['deals'],
  activity: engagementObjectTypes,
  task: [],
};

const activityTypeOfObject: Record<EngagementObjectType, ActivityType> = {
  notes: 'note',
  calls: 'call',
  meetings: 'meeting',
  emails: 'email',
};

const objectTypeOfActivityType: Record<ActivityType, EngagementObjectType> = {
  note: 'notes',
  call: 'calls',
  meeting: 'meetings',
  email: 'emails',
};

export function isHubSpotObjectType(value: string): value is HubSpotObjectType {
  return (hubSpotObjectTypes as readonly string[]).includes(value);
}

export function isEngagementObjectType(value: string): value is EngagementObjectType {
  return (engagementObjectTypes as readonly string[]).includes(value);
}

/** The unified entity type of a HubSpot object type. */
export function entityTypeOf(objectType: HubSpotObjectType): EntityType {
  return entityTypeOfObject[objectType];
}

/** The HubSpot object types holding an entity type (none for tasks, which this adapter does not sync). */
/** Activity ids carry their object type; other entity types use HubSpot's id as is. */
export function remoteIdOf(objectType: HubSpotObjectType, id: string): string {
  return isEngagementObjectType(objectType) ? `${objectType}:${id}` : id;
}

export function objectTypesOf(entityType: EntityType): readonly HubSpotObjectType[] {
  return objectTypesOfEntity[entityType];
}

export function activityTypeOf(objectType: EngagementObjectType): ActivityType {
  return activityTypeOfObject[objectType];
}

/** The engagement object an activity of this type lives in (its remote id is an id of that object type). */
export function objectTypeOfActivity(type: ActivityType): EngagementObjectType {
  return objectTypeOfActivityType[type];
}

/** Resolves `contacts`, `contact` or `0-1` (any case) to `contacts`; undefined for types this adapter does not sync. */
export function resolveHubSpotObjectType(nameOrId: string): HubSpotObjectType | undefined {
  const wanted = nameOrId.trim().toLowerCase();
  return hubSpotObjectTypes.find((type) =>
    type === wanted || singularOf[type] === wanted || hubSpotObjectTypeIds[type] === wanted
  );
}

/**
 * How HubSpot's webhooks name an object type. Contacts, companies and deals
 * have their own subscription types (`contact.creation`, ...); engagements
 * only come through the generic `object.*` subscriptions, which carry an
 * `objectTypeId` (`0-46` for notes) in the subscription and in each event.
 */
export type WebhookSubscriptionTarget =
  | { prefix: 'contact.' | 'company.' | 'deal.' }
  | { prefix: 'object.'; objectTypeId: string };

export function webhookSubscriptionTarget(objectType: HubSpotObjectType): WebhookSubscriptionTarget {
  switch (objectType) {
    case 'contacts':
      return { prefix: 'contact.' };
    case 'companies':
      return { prefix: 'company.' };
    case 'deals':
      return { prefix: 'deal.' };
    default:
      return { prefix: 'object.', objectTypeId: hubSpotObjectTypeIds[objectType] };
  }
}

/**
 * The object type a webhook event is about, from its `subscriptionType`
 * (`deal.propertyChange`) and, for `object.*` events, its `objectTypeId`.
 * Undefined for object types this adapter does not sync (tickets, products, ...).
 */
export function objectTypeOfWebhookEvent(
  subscriptionType: string,
  objectTypeId?: string,
): HubSpotObjectType | undefined {
  const prefix = subscriptionType.split('.', 1)[0].toLowerCase();
  if (prefix === 'object') return objectTypeId === undefined ? undefined : resolveHubSpotObjectType(objectTypeId);
  const objectType = resolveHubSpotObjectType(prefix);
  return objectType !== undefined && !isEngagementObjectType(objectType) ? objectType : undefined;
}

/** The property holding the last modification time (also the one to filter and sort incremental searches by). */
export function modifiedDateProperty(objectType: HubSpotObjectType): string {
  return objectType === 'contacts' ? 'lastmodifieddate' : 'hs_lastmodifieddate';
}

/** The unique property that makes creates idempotent (created when an account is connected). */
export const LOCAL_ID_PROPERTY = 'forge_local_id';

/**
 * The properties the mappers read whatever a connection's field map says:
 * the deal stage and pipeline, every engagement property (each engagement
 * object has its own, hs_timestamp among them) and the contact's primary
 * company. The configurable fields come from the field map.
 */
export const fixedProperties: Record<HubSpotObjectType, readonly string[]> = {
  contacts: ['associatedcompanyid'],
  companies: [],
  deals: ['dealstage', 'pipeline'],
  notes: ['hs_note_body', 'hs_timestamp', 'hubspot_owner_id'],
  calls: ['hs_call_title', 'hs_call_body', 'hs_call_direction', 'hs_timestamp', 'hubspot_owner_id'],
  meetings: ['hs_meeting_title', 'hs_meeting_body', 'hs_meeting_start_time', 'hs_timestamp', 'hubspot_owner_id'],
  emails: ['hs_email_subject', 'hs_email_text', 'hs_email_direction', 'hs_timestamp', 'hubspot_owner_id'],
};

/**
 * The `properties` to request when reading an object type: the ones the
 * connection's field map reads, the fixed ones and the modification timestamp.
 */
export function propertiesToRequest(objectType: HubSpotObjectType, fieldMap: FieldMap): string[] {
  return [
    ...new Set([
      ...fieldMap.propertiesRead(entityTypeOf(objectType)),
      ...fixedProperties[objectType],
      modifiedDateProperty(objectType),
    ]),
  ];
}

/** The `associations` to request when reading an object type: the object types its references point to. */
export const associationsToRequest: Record<HubSpotObjectType, readonly HubSpotObjectType[]> = {
  contacts: ['companies'],
  companies: [],
  deals: ['contacts', 'companies'],
  notes: ['contacts', 'companies', 'deals'],
  calls: ['contacts', 'companies', 'deals'],
  meetings: ['contacts', 'companies', 'deals'],
  emails: ['contacts', 'companies', 'deals'],
};
