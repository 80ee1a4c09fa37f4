import type { Client } from '@hubspot/api-client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { HubSpotSimulator } from '../server.ts';
import { api, clientError, hubspotClient, startSimulator } from '../test-support.ts';

let sim: HubSpotSimulator;
let client: Client;
let contactIds: string[];
let companyId: string;

beforeAll(async () => {
  sim = await startSimulator();
  client = hubspotClient(sim);
});
afterAll(() => sim.close());
beforeEach(async () => {
  sim.state.reset();
  const contacts = await client.crm.contacts.batchApi.create({
    inputs: [1, 2, 3].map((n) => ({ properties: { email: `a${n}@example.com` }, associations: [] })),
  });
  contactIds = contacts.results.map((result) => result.id).sort();
  companyId = (await client.crm.companies.basicApi.create({ properties: { name: 'Acme' }, associations: [] })).id;
});

const HUBSPOT_DEFINED = 'HUBSPOT_DEFINED' as never;

describe('associations v4 batch', () => {
  it('creates contact→company (279) and reads it from both sides with the inverse type (280)', async () => {
    const created = await client.crm.associations.v4.batchApi.create('contacts', 'companies', {
      inputs: contactIds.slice(0, 2).map((id) => ({
        _from: { id },
        to: { id: companyId },
        types: [{ associationCategory: HUBSPOT_DEFINED, associationTypeId: 279 }],
      })),
    });
    expect(created.results).toHaveLength(2);
    expect(created.results[0]).toMatchObject({ fromObjectTypeId: '0-1', toObjectTypeId: '0-2', labels: [] });

    const fromContacts = await client.crm.associations.v4.batchApi.getPage('contacts', 'companies', {
      inputs: contactIds.slice(0, 2).map((id) => ({ id })),
    });
    expect(fromContacts.results.map((result) => result._from.id).sort()).toEqual(contactIds.slice(0, 2));
    expect(fromContacts.results[0].to[0]).toMatchObject({
      toObjectId: companyId,
      associationTypes: [{ category: 'HUBSPOT_DEFINED', typeId: 279 }],
    });

    const fromCompany = await client.crm.associations.v4.batchApi.getPage('companies', 'contacts', {
      inputs: [{ id: companyId }],
    });
    expect(fromCompany.results[0].to.map((to) => to.toObjectId).sort()).toEqual(contactIds.slice(0, 2));
    expect(fromCompany.results[0].to[0].associationTypes[0].typeId).toBe(280);
  });

  it('reports records without associations as 207 errors', async () => {
    const response = await api(sim, 'POST', '/crm/v4/associations/contacts/companies/batch/read', {
      inputs: [{ id: contactIds[2] }],
    });
    expect(response.status).toBe(207);
    expect(response.body.results).toEqual([]);
    expect(response.body.errors[0]).toMatchObject({
      category: 'OBJECT_NOT_FOUND',
      context: { fromObjectId: [contactIds[2]] },
    });
  });

  it('labels the primary company association and rejects type ids that do not fit the pair', async () => {
    const created = await api(sim, 'POST', '/crm/v4/associations/contacts/companies/batch/create', {
      inputs: [
        {
          from: { id: contactIds[0] },
          to: { id: companyId },
          types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 1 }],
        },
        {
          from: { id: contactIds[1] },
          to: { id: companyId },
          types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 3 }],
        },
        {
          from: { id: '987654' },
          to: { id: companyId },
          types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 279 }],
        },
      ],
    });
    expect(created.status).toBe(207);
    expect(created.body.results).toEqual([
      expect.objectContaining({ fromObjectId: contactIds[0], labels: ['Primary'] }),
    ]);
    expect(created.body.numErrors).toBe(2);
  });

  it('creates default associations and archives them', async () => {
    const response = await client.crm.associations.v4.batchApi.createDefault('contacts', 'companies', {
      inputs: [{ _from: { id: contactIds[0] }, to: { id: companyId } }],
    });
    expect(response.results[0].associationSpec.associationTypeId).toBe(279);
    const page = await client.crm.associations.v4.basicApi.getPage('companies', companyId, 'contacts');
    expect(page.results.map((result) => result.toObjectId)).toEqual([contactIds[0]]);

    await client.crm.associations.v4.batchApi.archive('contacts', 'companies', {
      inputs: [{ _from: { id: contactIds[0] }, to: [{ id: companyId }] }],
    });
    const after = await client.crm.associations.v4.basicApi.getPage('companies', companyId, 'contacts');
    expect(after.results).toEqual([]);
  });

  it('rejects more than 1,000 ids in a batch read', async () => {
    const error = await clientError(client.crm.associations.v4.batchApi.getPage('contacts', 'companies', {
      inputs: Array.from({ length: 1_001 }, (_, n) => ({ id: String(n + 1) })),
    }));
    expect(error.code).toBe(400);
  });

  it('creates a note with its contact association (202) and lists it from the contact (201)', async () => {
    const note = await client.crm.objects.notes.basicApi.create({
      properties: { hs_timestamp: new Date().toISOString(), hs_note_body: 'Met at the fair' },
      associations: [{
        to: { id: contactIds[0] },
        types: [{ associationCategory: HUBSPOT_DEFINED, associationTypeId: 202 }],
      }],
    });
    const fromContact = await client.crm.associations.v4.basicApi.getPage('contacts', contactIds[0], 'notes');
    expect(fromContact.results).toEqual([
      expect.objectContaining({ toObjectId: note.id, associationTypes: [expect.objectContaining({ typeId: 201 })] }),
    ]);
  });
});
