/**
 * The CRM object types the simulator serves, with the names HubSpot accepts
 * for each in a path (plural, singular, object type id).
 */

export type ObjectTypeName =
  | 'contacts'
  | 'companies'
  | 'deals'
  | 'notes'
  | 'calls'
  | 'meetings'
  | 'emails';

export interface ObjectTypeInfo {
  /** Plural name used in paths and as the key of `associations` maps. */
  name: ObjectTypeName;
  /** Singular name, as in webhook subscription types (`contact.creation`). */
  singular: string;
  /** HubSpot object type id (`0-1` for contacts). */
  objectTypeId: string;
  /** Upper-case label HubSpot uses in error messages (`CONTACT`). */
  label: string;
  /** Property holding the creation timestamp. */
  createdProperty: string;
  /** Property holding the last-modified timestamp. */
  lastModifiedProperty: string;
  /** Properties returned when a request names none. */
  defaultProperties: readonly string[];
  /** Properties a free-text search `query` looks at. */
  queryProperties: readonly string[];
  /** Engagements require `hs_timestamp` on create. */
  requiredOnCreate: readonly string[];
  /** Legacy webhook subscriptions (`contact.*`) exist; others use `object.*`. */
  legacyWebhookPrefix: string | null;
  /** The object can be merged through `/merge`. */
  mergeable: boolean;
}

const engagement = (
  name: ObjectTypeName,
  singular: string,
  objectTypeId: string,
  queryProperties: string[],
): ObjectTypeInfo => ({
  name,
  singular,
  objectTypeId,
  label: singular.toUpperCase(),
  createdProperty: 'hs_createdate',
  lastModifiedProperty: 'hs_lastmodifieddate',
  defaultProperties: ['hs_createdate', 'hs_lastmodifieddate', 'hs_object_id'],
  queryProperties,
  requiredOnCreate: ['hs_timestamp'],
  legacyWebhookPrefix: null,
  mergeable: false,
});

export const OBJECT_TYPES: Readonly<Record<ObjectTypeName, ObjectTypeInfo>> = {
  contacts: {
    name: 'contacts',
    singular: 'contact',
    objectTypeId: '0-1',
    label: 'CONTACT',
    createdProperty: 'createdate',
    lastModifiedProperty: 'lastmodifieddate',
    defaultProperties: ['createdate', 'email', 'firstname', 'hs_object_id', 'lastmodifieddate', 'lastname'],
    queryProperties: ['firstname', 'lastname', 'email', 'phone', 'company', 'hs_additional_emails'],
    requiredOnCreate: [],
    legacyWebhookPrefix: 'contact',
    mergeable: true,
  },
  companies: {
    name: 'companies',
    singular: 'company',
    objectTypeId: '0-2',
    label: 'COMPANY',
    createdProperty: 'createdate',
    lastModifiedProperty: 'hs_lastmodifieddate',
    defaultProperties: ['createdate', 'domain', 'hs_lastmodifieddate', 'hs_object_id', 'name'],
    queryProperties: ['name', 'domain', 'website', 'phone'],
    requiredOnCreate: [],
    legacyWebhookPrefix: 'company',
    mergeable: true,
  },
  deals: {
    name: 'deals',
    singular: 'deal',
    objectTypeId: '0-3',
    label: 'DEAL',
    createdProperty: 'createdate',
    lastModifiedProperty: 'hs_lastmodifieddate',
    defaultProperties: [
      'amount',
      'closedate',
      'createdate',
      'dealname',
      'dealstage',
      'hs_lastmodifieddate',
      'hs_object_id',
      'pipeline',
    ],
    queryProperties: ['dealname', 'description', 'dealtype'],
    requiredOnCreate: [],
    legacyWebhookPrefix: 'deal',
    mergeable: true,
  },
  notes: engagement('notes', 'note', '0-46', ['hs_note_body']),
  calls: engagement('calls', 'call', '0-48', ['hs_call_title', 'hs_call_body']),
  meetings: engagement('meetings', 'meeting', '0-47', ['hs_meeting_title', 'hs_meeting_body']),
  emails: engagement('emails', 'email', '0-49', ['hs_email_subject', 'hs_email_text']),
};

export const OBJECT_TYPE_NAMES = Object.keys(OBJECT_TYPES) as ObjectTypeName[];

const aliases = new Map<string, ObjectTypeName>();
for (const info of Object.values(OBJECT_TYPES)) {
  aliases.set(info.name, info.name);
  aliases.set(info.singular, info.name);
  aliases.set(info.objectTypeId, info.name);
}

/** Resolves `contacts`, `contact`, `CONTACTS` or `0-1` to `contacts`; undefined when unknown. */
export function resolveObjectType(segment: string): ObjectTypeName | undefined {
  return aliases.get(segment.toLowerCase());
}

export function objectTypeInfo(type: ObjectTypeName): ObjectTypeInfo {
  return OBJECT_TYPES[type];
}

export function objectTypeById(objectTypeId: string): ObjectTypeInfo | undefined {
  return Object.values(OBJECT_TYPES).find((info) => info.objectTypeId === objectTypeId);
}
