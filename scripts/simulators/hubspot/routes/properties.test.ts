import type { Client } from '@hubspot/api-client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { HubSpotSimulator } from '../server.ts';
import { clientError, hubspotClient, startSimulator } from '../test-support.ts';

let sim: HubSpotSimulator;
let client: Client;

beforeAll(async () => {
  sim = await startSimulator();
  client = hubspotClient(sim);
});
afterAll(() => sim.close());
beforeEach(() => sim.state.reset());

describe('properties', () => {
  it('lists the HubSpot-defined properties with their types', async () => {
    const contacts = await client.crm.properties.coreApi.getAll('contacts');
    const byName = Object.fromEntries(contacts.results.map((property) => [property.name, property]));
    expect(byName.email).toMatchObject({
      type: 'string',
      fieldType: 'text',
      hasUniqueValue: true,
      hubspotDefined: true,
    });
    expect(byName.lastmodifieddate).toMatchObject({ type: 'datetime' });
    expect(byName.lifecyclestage.options.map((option) => option.value)).toContain('customer');
    const deals = await client.crm.properties.coreApi.getAll('deals');
    expect(deals.results.find((property) => property.name === 'dealstage')?.options.map((option) => option.value))
      .toEqual([
        'appointmentscheduled',
        'qualifiedtobuy',
        'presentationscheduled',
        'decisionmakerboughtin',
        'contractsent',
        'closedwon',
        'closedlost',
      ]);
  });

  it('creates a group and an enumeration property in it, then validates values against its options', async () => {
    const group = await client.crm.properties.groupsApi.create('contacts', {
      name: 'sync_fields',
      label: 'Sync fields',
    });
    expect(group).toMatchObject({ name: 'sync_fields', archived: false });
    const property = await client.crm.properties.coreApi.create('contacts', {
      name: 'tier',
      label: 'Tier',
      type: 'enumeration' as never,
      fieldType: 'select' as never,
      groupName: 'sync_fields',
      options: [
        { label: 'Gold', value: 'gold', hidden: false, displayOrder: 0 },
        { label: 'Silver', value: 'silver', hidden: false, displayOrder: 1 },
      ],
    });
    expect(property).toMatchObject({ name: 'tier', hubspotDefined: false, groupName: 'sync_fields' });
    const groups = await client.crm.properties.groupsApi.getAll('contacts');
    expect(groups.results.map((candidate) => candidate.name)).toContain('sync_fields');
    expect((await client.crm.properties.coreApi.getAll('contacts')).results.map((candidate) => candidate.name))
      .toContain('tier');

    const ok = await client.crm.contacts.basicApi.create({
      properties: { email: 't@example.com', tier: 'gold' },
      associations: [],
    });
    expect(ok.properties.tier).toBe('gold');
    const bad = await clientError(client.crm.contacts.basicApi.update(ok.id, { properties: { tier: 'bronze' } }));
    expect(bad.body.errors[0].code).toBe('INVALID_OPTION');
  });

  it('answers 409 for an existing property or group and 400 for a missing group', async () => {
    const duplicate = await clientError(client.crm.properties.coreApi.create('contacts', {
      name: 'email',
      label: 'Email',
      type: 'string' as never,
      fieldType: 'text' as never,
      groupName: 'contactinformation',
    }));
    expect(duplicate.code).toBe(409);
    expect(duplicate.body.category).toBe('OBJECT_ALREADY_EXISTS');
    const noGroup = await clientError(client.crm.properties.coreApi.create('contacts', {
      name: 'external_id',
      label: 'External id',
      type: 'string' as never,
      fieldType: 'text' as never,
      groupName: 'nowhere',
    }));
    expect(noGroup.code).toBe(400);
    const groupAgain = await clientError(client.crm.properties.groupsApi.create('contacts', {
      name: 'contactinformation',
      label: 'Again',
    }));
    expect(groupAgain.code).toBe(409);
  });

  it('lets a unique custom property serve as upsert idProperty', async () => {
    await client.crm.properties.coreApi.create('companies', {
      name: 'app_company_id',
      label: 'App company id',
      type: 'string' as never,
      fieldType: 'text' as never,
      groupName: 'companyinformation',
      hasUniqueValue: true,
    });
    const first = await client.crm.companies.batchApi.upsert({
      inputs: [{ id: 'app-1', idProperty: 'app_company_id', properties: { name: 'One' } }],
    });
    const second = await client.crm.companies.batchApi.upsert({
      inputs: [{ id: 'app-1', idProperty: 'app_company_id', properties: { name: 'One, renamed' } }],
    });
    expect(first.results[0]._new).toBe(true);
    expect(second.results[0]).toMatchObject({ _new: false, id: first.results[0].id });
    expect(second.results[0].properties.name).toBe('One, renamed');
  });

  it('refuses to archive HubSpot-defined properties and archives custom ones', async () => {
    expect((await clientError(client.crm.properties.coreApi.archive('contacts', 'email'))).code).toBe(400);
    await client.crm.properties.coreApi.create('contacts', {
      name: 'temp_field',
      label: 'Temp',
      type: 'string' as never,
      fieldType: 'text' as never,
      groupName: 'contactinformation',
    });
    await client.crm.properties.coreApi.archive('contacts', 'temp_field');
    expect((await clientError(client.crm.properties.coreApi.getByName('contacts', 'temp_field'))).code).toBe(404);
  });
});
