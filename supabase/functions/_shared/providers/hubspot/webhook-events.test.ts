import { describe, expect, it, test } from 'vitest';
import {
  dedupeKey,
  HUBSPOT_MAX_EVENTS_PER_REQUEST,
  hubSpotWebhookBatchSchema,
  type HubSpotWebhookEvent,
  hubSpotWebhookEventSchema,
} from './webhook-events.ts';

// Payloads in the shapes HubSpot's webhook documentation shows.
const fixtures: Record<string, Record<string, unknown>> = {
  'contact.propertyChange': {
    objectId: 1246965,
    propertyName: 'lifecyclestage',
    propertyValue: 'subscriber',
    changeSource: 'ACADEMY',
    eventId: 3816279340,
    subscriptionId: 25,
    portalId: 33,
    appId: 1160452,
    occurredAt: 1462216307945,
    subscriptionType: 'contact.propertyChange',
    attemptNumber: 0,
  },
  'contact.creation': {
    objectId: 1246978,
    changeSource: 'IMPORT',
    eventId: 3816279480,
    subscriptionId: 22,
    portalId: 33,
    appId: 1160452,
    occurredAt: 1462216307945,
    subscriptionType: 'contact.creation',
    attemptNumber: 0,
  },
  'deal.deletion': {
    objectId: 8213,
    changeFlag: 'DELETED',
    changeSource: 'CRM_UI',
    sourceId: 'userId:512',
    eventId: 77,
    subscriptionId: 9,
    portalId: 33,
    appId: 1160452,
    occurredAt: 1714587262183,
    subscriptionType: 'deal.deletion',
    attemptNumber: 2,
  },
  'contact.privacyDeletion': {
    objectId: 1246978,
    changeFlag: 'GDPR_DELETED',
    changeSource: 'GDPR',
    eventId: 78,
    subscriptionId: 10,
    portalId: 33,
    appId: 1160452,
    occurredAt: 1714587262183,
    subscriptionType: 'contact.privacyDeletion',
    attemptNumber: 0,
  },
  'contact.merge': {
    eventId: 4136,
    subscriptionId: 1234,
    portalId: 33,
    appId: 1160452,
    occurredAt: 1714587262183,
    subscriptionType: 'contact.merge',
    attemptNumber: 0,
    objectId: 1,
    changeFlag: 'MERGED',
    changeSource: 'CRM_UI',
    sourceId: 'userId:12345',
    primaryObjectId: 1,
    mergedObjectIds: [2],
    newObjectId: 3,
    numberOfPropertiesMoved: 4,
  },
  'contact.associationChange': {
    eventId: 4137,
    subscriptionId: 1235,
    portalId: 33,
    appId: 1160452,
    occurredAt: 1714587262183,
    subscriptionType: 'contact.associationChange',
    attemptNumber: 0,
    changeSource: 'USER',
    sourceId: 'userId:12345',
    associationType: 'CONTACT_TO_COMPANY',
    fromObjectId: 101,
    toObjectId: 202,
    associationRemoved: false,
    isPrimaryAssociation: true,
  },
  'object.creation': {
    objectId: 5001,
    changeSource: 'API',
    eventId: 4138,
    subscriptionId: 1236,
    portalId: 33,
    appId: 1160452,
    occurredAt: 1714587262183,
    subscriptionType: 'object.creation',
    objectTypeId: '0-46',
    attemptNumber: 0,
  },
  'company.propertyChange cleared': {
    objectId: 42,
    propertyName: 'domain',
    propertyValue: '',
    changeSource: 'INTEGRATION',
    sourceId: '1160452',
    eventId: 4139,
    subscriptionId: 1237,
    portalId: 33,
    appId: 1160452,
    occurredAt: 1714587262183,
    subscriptionType: 'company.propertyChange',
    attemptNumber: 0,
  },
};

describe('hubSpotWebhookEventSchema', () => {
  test.each(Object.entries(fixtures))('accepts a %s event unchanged', (_type, payload) => {
    expect(hubSpotWebhookEventSchema.parse(payload)).toEqual(payload);
  });

  it('passes fields it does not know through', () => {
    const event = { ...fixtures['contact.creation'], brandNewField: { nested: true } };
    expect(hubSpotWebhookEventSchema.parse(event)).toEqual(event);
  });

  test.each([
    ['no portalId', { portalId: undefined }, ['portalId']],
    ['a string objectId', { objectId: '1246978' }, ['objectId']],
    ['occurredAt as an ISO date', { occurredAt: '2026-01-01T00:00:00Z' }, ['occurredAt']],
    ['no eventId', { eventId: undefined }, ['eventId']],
    ['a subscriptionType without an event', { subscriptionType: 'contact' }, ['subscriptionType']],
    ['mergedObjectIds that are not ids', { mergedObjectIds: ['x'] }, ['mergedObjectIds', 0]],
  ])('rejects %s', (_label, change, path) => {
    const result = hubSpotWebhookEventSchema.safeParse({ ...fixtures['contact.creation'], ...change });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((issue) => issue.path)).toContainEqual(path);
  });
});

describe('hubSpotWebhookBatchSchema', () => {
  const event = fixtures['contact.creation'];
  const events = (n: number) => Array.from({ length: n }, (_, i) => ({ ...event, eventId: i + 1 }));

  it(`takes 1 to ${HUBSPOT_MAX_EVENTS_PER_REQUEST} events`, () => {
    expect(hubSpotWebhookBatchSchema.safeParse(events(1)).success).toBe(true);
    expect(hubSpotWebhookBatchSchema.safeParse(events(100)).success).toBe(true);
  });

  test.each([
    ['an empty array', []],
    ['more events than HubSpot ever sends', events(HUBSPOT_MAX_EVENTS_PER_REQUEST + 1)],
    ['a single event that is not in an array', event],
  ])('rejects %s', (_label, payload) => {
    expect(hubSpotWebhookBatchSchema.safeParse(payload).success).toBe(false);
  });
});

describe('dedupeKey', () => {
  const parse = (payload: Record<string, unknown>) => hubSpotWebhookEventSchema.parse(payload);
  const base = parse(fixtures['contact.propertyChange']);

  it('is the same for a redelivery (a retry only raises attemptNumber)', () => {
    expect(dedupeKey({ ...base, attemptNumber: 3 })).toBe(dedupeKey(base));
  });

  it('is stable and readable', () => {
    expect(dedupeKey(base)).toBe('contact.propertyChange|1246965|1462216307945|3816279340|lifecyclestage');
  });

  test.each<[string, Partial<HubSpotWebhookEvent>]>([
    ['subscriptionType', { subscriptionType: 'deal.propertyChange' }],
    ['objectId', { objectId: 1246966 }],
    ['occurredAt', { occurredAt: 1462216307946 }],
    ['eventId', { eventId: 3816279341 }],
    ['propertyName', { propertyName: 'email' }],
  ])('changes with %s', (_field, change) => {
    expect(dedupeKey({ ...base, ...change })).not.toBe(dedupeKey(base));
  });

  it('ignores the property value and the delivery metadata', () => {
    expect(dedupeKey({ ...base, propertyValue: 'lead', subscriptionId: 99, appId: 1 })).toBe(dedupeKey(base));
  });

  it('tells association events apart by their two ends', () => {
    const association = parse(fixtures['contact.associationChange']);
    expect(dedupeKey(association)).toBe('contact.associationChange|101>202|1714587262183|4137|');
    expect(dedupeKey({ ...association, toObjectId: 203 })).not.toBe(dedupeKey(association));
  });

  it('stays within the 500 characters the receipts table allows', () => {
    const longest = parse({
      ...base,
      subscriptionType: `${'a'.repeat(49)}.${'b'.repeat(50)}`,
      propertyName: 'p'.repeat(200),
    });
    expect(dedupeKey(longest).length).toBeLessThanOrEqual(500);
  });
});
