import { describe, expect, it, test } from 'vitest';
import { entityTypes } from '../../model/unified.ts';
import {
  activityTypeOf,
  associationsToRequest,
  engagementObjectTypes,
  entityTypeOf,
  hubSpotObjectTypes,
  modifiedDateProperty,
  objectTypeOfActivity,
  objectTypeOfWebhookEvent,
  objectTypesOf,
  propertiesToRequest,
  resolveHubSpotObjectType,
  webhookSubscriptionTarget,
} from './object-types.ts';
import { buildFieldMap } from './field-map.ts';

const defaultMap = buildFieldMap();

describe('object types', () => {
  test.each(
    [
      ['contacts', 'contact'],
      ['companies', 'company'],
      ['deals', 'deal'],
      ['notes', 'activity'],
      ['calls', 'activity'],
      ['meetings', 'activity'],
      ['emails', 'activity'],
    ] as const,
  )('%s hold %s records', (objectType, entityType) => {
    expect(entityTypeOf(objectType)).toBe(entityType);
    expect(objectTypesOf(entityType)).toContain(objectType);
  });

  it('gives every entity type its object types, and none to tasks', () => {
    expect(entityTypes.flatMap((entityType) => objectTypesOf(entityType))).toEqual([...hubSpotObjectTypes]);
    expect(objectTypesOf('task')).toEqual([]);
  });

  test.each(
    [
      ['notes', 'note'],
      ['calls', 'call'],
      ['meetings', 'meeting'],
      ['emails', 'email'],
    ] as const,
  )('%s are %s activities and back', (objectType, type) => {
    expect(activityTypeOf(objectType)).toBe(type);
    expect(objectTypeOfActivity(type)).toBe(objectType);
  });

  test.each([
    ['contacts', 'contacts'],
    ['CONTACT', 'contacts'],
    ['0-1', 'contacts'],
    ['company', 'companies'],
    ['0-3', 'deals'],
    ['0-46', 'notes'],
    ['0-47', 'meetings'],
    ['0-48', 'calls'],
    ['0-49', 'emails'],
    ['tickets', undefined],
    ['0-5', undefined],
  ])('resolves %j to %j', (name, objectType) => {
    expect(resolveHubSpotObjectType(name)).toBe(objectType);
  });
});

describe('webhooks', () => {
  test.each(
    [
      ['contacts', { prefix: 'contact.' }],
      ['companies', { prefix: 'company.' }],
      ['deals', { prefix: 'deal.' }],
      ['notes', { prefix: 'object.', objectTypeId: '0-46' }],
      ['calls', { prefix: 'object.', objectTypeId: '0-48' }],
      ['meetings', { prefix: 'object.', objectTypeId: '0-47' }],
      ['emails', { prefix: 'object.', objectTypeId: '0-49' }],
    ] as const,
  )('%s are subscribed to as %j', (objectType, target) => {
    expect(webhookSubscriptionTarget(objectType)).toEqual(target);
  });

  test.each([
    ['contact.propertyChange', undefined, 'contacts'],
    ['contact.privacyDeletion', undefined, 'contacts'],
    ['company.merge', undefined, 'companies'],
    ['deal.associationChange', undefined, 'deals'],
    ['object.creation', '0-46', 'notes'],
    ['object.propertyChange', '0-49', 'emails'],
    ['object.creation', undefined, undefined],
    ['object.creation', '2-123456', undefined],
    ['ticket.creation', undefined, undefined],
    ['note.creation', undefined, undefined],
  ])('%s (%s) is about %s', (subscriptionType, objectTypeId, objectType) => {
    expect(objectTypeOfWebhookEvent(subscriptionType, objectTypeId)).toBe(objectType);
  });
});

describe('what to request', () => {
  test.each(hubSpotObjectTypes)('%s: the mapped properties and the modification date', (objectType) => {
    const properties = propertiesToRequest(objectType, defaultMap);
    expect(properties).toContain(modifiedDateProperty(objectType));
    expect(new Set(properties).size).toBe(properties.length);
  });

  it('uses lastmodifieddate for contacts and hs_lastmodifieddate elsewhere', () => {
    expect(modifiedDateProperty('contacts')).toBe('lastmodifieddate');
    for (const objectType of hubSpotObjectTypes.filter((type) => type !== 'contacts')) {
      expect(modifiedDateProperty(objectType)).toBe('hs_lastmodifieddate');
    }
  });

  it('asks engagements for hs_timestamp and for the records they reference', () => {
    for (const objectType of engagementObjectTypes) {
      expect(propertiesToRequest(objectType, defaultMap)).toContain('hs_timestamp');
      expect(associationsToRequest[objectType]).toEqual(['contacts', 'companies', 'deals']);
    }
    expect(associationsToRequest.contacts).toEqual(['companies']);
    expect(associationsToRequest.deals).toEqual(['contacts', 'companies']);
  });

  it('asks for the properties the connection\'s field map reads, and not for ones it only writes', () => {
    const fieldMap = buildFieldMap([
      { entity_type: 'contact', local_field: 'lead_source', remote_property: 'acme_source' },
      { entity_type: 'contact', local_field: 'phone', remote_property: 'acme_phone', direction: 'outbound' },
      { entity_type: 'contact', local_field: 'email', remote_property: 'acme_email', direction: 'inbound' },
    ]);
    const properties = propertiesToRequest('contacts', fieldMap);
    expect(properties).toEqual(expect.arrayContaining(['acme_source', 'acme_email', 'associatedcompanyid', 'lastmodifieddate']));
    expect(properties).not.toContain('forge_lead_source');
    expect(properties).not.toContain('acme_phone');
    expect(properties).not.toContain('phone');
    expect(propertiesToRequest('deals', fieldMap)).toEqual(propertiesToRequest('deals', defaultMap));
  });
});
