// deno-lint-ignore-file no-explicit-any -- tests assert on raw JSON bodies
import type { Client } from '@hubspot/api-client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { HubSpotSimulator } from '../server.ts';
import { api, clientError, control, hubspotClient, startSimulator } from '../test-support.ts';

let sim: HubSpotSimulator;
let client: Client;

beforeAll(async () => {
  sim = await startSimulator();
  client = hubspotClient(sim);
});
afterAll(() => sim.close());
beforeEach(() => sim.state.reset());

async function createContacts(count: number): Promise<string[]> {
  const response = await client.crm.contacts.batchApi.create({
    inputs: Array.from({ length: count }, (_, n) => ({
      properties: { email: `c${n}@example.com`, firstname: `C${n}` },
      associations: [],
    })),
  });
  return response.results.map((result) => result.id);
}

describe('list', () => {
  it('pages with `after` across several pages, in id order, without gaps or repeats', async () => {
    const ids = await createContacts(25);
    const seen: string[] = [];
    let after: string | undefined;
    let pages = 0;
    do {
      const page = await client.crm.contacts.basicApi.getPage(10, after, ['firstname']);
      seen.push(...page.results.map((result) => result.id));
      expect(page.results[0].properties).toHaveProperty('firstname');
      after = page.paging?.next?.after;
      pages++;
    } while (after);
    expect(pages).toBe(3);
    expect(seen).toEqual([...ids].sort((a, b) => Number(a) - Number(b)));
  });

  it('rejects a limit above 100', async () => {
    const error = await clientError(client.crm.contacts.basicApi.getPage(101));
    expect(error.code).toBe(400);
  });

  it('answers 400 for an unknown object type and serves deals as 0-3 too', async () => {
    expect((await api(sim, 'GET', '/crm/v3/objects/widgets')).status).toBe(400);
    await client.crm.deals.basicApi.create({ properties: { dealname: 'Big one', amount: '1200' }, associations: [] });
    const byTypeId = await api(sim, 'GET', '/crm/v3/objects/0-3');
    expect(byTypeId.status).toBe(200);
    expect(byTypeId.body.results[0].properties).toMatchObject({ dealname: 'Big one', amount: '1200' });
    expect(byTypeId.body.results[0].properties).toHaveProperty('hs_lastmodifieddate');
  });
});

describe('single records', () => {
  it('creates with associations and reads them back with `associations`', async () => {
    const company = await client.crm.companies.basicApi.create({
      properties: { name: 'Acme', domain: 'acme.test' },
      associations: [],
    });
    const created = await client.crm.contacts.basicApi.create({
      properties: { email: 'ann@acme.test', firstname: 'Ann' },
      associations: [{
        to: { id: company.id },
        types: [{ associationCategory: 'HUBSPOT_DEFINED' as never, associationTypeId: 279 }],
      }],
    });
    const read = await client.crm.contacts.basicApi.getById(created.id, ['email'], undefined, ['companies']);
    expect(read.properties.email).toBe('ann@acme.test');
    expect(read.associations?.companies.results).toEqual([
      expect.objectContaining({ id: company.id, type: 'contact_to_company_unlabeled' }),
    ]);
    const byEmail = await client.crm.contacts.basicApi.getById(
      'ANN@acme.test',
      undefined,
      undefined,
      undefined,
      false,
      'email',
    );
    expect(byEmail.id).toBe(created.id);
  });

  it('answers 409 for a second contact with the same email', async () => {
    await client.crm.contacts.basicApi.create({ properties: { email: 'dup@example.com' }, associations: [] });
    const error = await clientError(
      client.crm.contacts.basicApi.create({ properties: { email: 'Dup@example.com' }, associations: [] }),
    );
    expect(error.code).toBe(409);
    expect(error.body).toMatchObject({ status: 'error', category: 'CONFLICT' });
  });

  it('validates values: bad enumeration option, bad number, unknown owner, missing hs_timestamp', async () => {
    const [id] = await createContacts(1);
    const badOption = await clientError(
      client.crm.contacts.basicApi.update(id, { properties: { lifecyclestage: 'vip' } }),
    );
    expect(badOption.code).toBe(400);
    expect(badOption.body.errors[0]).toMatchObject({
      code: 'INVALID_OPTION',
      context: { propertyName: ['lifecyclestage'] },
    });
    const badNumber = await clientError(
      client.crm.companies.basicApi.create({ properties: { name: 'X', numberofemployees: 'many' }, associations: [] }),
    );
    expect(badNumber.body.errors[0].code).toBe('INVALID_INTEGER');
    const badOwner = await clientError(
      client.crm.contacts.basicApi.update(id, { properties: { hubspot_owner_id: '1' } }),
    );
    expect(badOwner.body.errors[0].code).toBe('INVALID_OWNER_ID');
    const noTimestamp = await clientError(
      client.crm.objects.notes.basicApi.create({ properties: { hs_note_body: 'hi' }, associations: [] }),
    );
    expect(noTimestamp.body.errors[0]).toMatchObject({ code: 'REQUIRED_PROPERTY' });
  });

  it('normalises datetimes given as epoch milliseconds to ISO 8601', async () => {
    const note = await client.crm.objects.notes.basicApi.create({
      properties: { hs_timestamp: '1700000000000', hs_note_body: 'call recap' },
      associations: [],
    });
    expect(note.properties.hs_timestamp).toBe('2023-11-14T22:13:20.000Z');
  });

  it('archives with DELETE (204) and 404s afterwards', async () => {
    const [id] = await createContacts(1);
    await client.crm.contacts.basicApi.archive(id);
    expect((await clientError(client.crm.contacts.basicApi.getById(id))).code).toBe(404);
    const archived = await client.crm.contacts.basicApi.getById(id, undefined, undefined, undefined, true);
    expect(archived.archived).toBe(true);
  });
});

describe('merge', () => {
  it('keeps the primary id, fills its blanks, keeps the other email as additional, and redirects the merged id', async () => {
    const primary = await client.crm.contacts.basicApi.create({
      properties: { email: 'main@example.com', firstname: 'Main' },
      associations: [],
    });
    const company = await client.crm.companies.basicApi.create({ properties: { name: 'Linked' }, associations: [] });
    const secondary = await client.crm.contacts.basicApi.create({
      properties: { email: 'other@example.com', firstname: 'Other', jobtitle: 'CTO' },
      associations: [{
        to: { id: company.id },
        types: [{ associationCategory: 'HUBSPOT_DEFINED' as never, associationTypeId: 279 }],
      }],
    });
    const merged = await client.crm.contacts.basicApi.merge({
      primaryObjectId: primary.id,
      objectIdToMerge: secondary.id,
    });
    expect(merged.id).toBe(primary.id);
    const read = await client.crm.contacts.basicApi.getById(secondary.id, [
      'firstname',
      'jobtitle',
      'hs_additional_emails',
      'hs_merged_object_ids',
    ]);
    expect(read.id).toBe(primary.id);
    expect(read.properties).toMatchObject({
      firstname: 'Main',
      jobtitle: 'CTO',
      hs_additional_emails: 'other@example.com',
      hs_merged_object_ids: secondary.id,
    });
    const list = await client.crm.contacts.basicApi.getPage(100);
    expect(list.results.map((result) => result.id)).toEqual([primary.id]);
    const companies = await client.crm.associations.v4.basicApi.getPage('contacts', primary.id, 'companies');
    expect(companies.results.map((result) => result.toObjectId)).toEqual([company.id]);
  });

  it('refuses to merge a record with itself', async () => {
    const [id] = await createContacts(1);
    const error = await clientError(client.crm.contacts.basicApi.merge({ primaryObjectId: id, objectIdToMerge: id }));
    expect(error.code).toBe(400);
  });
});

describe('gdpr-delete', () => {
  it('deletes permanently (204), also by email, and emits deletion and privacyDeletion', async () => {
    const [first, second] = await createContacts(2);
    await client.crm.contacts.basicApi.purge({ objectId: first });
    await client.crm.contacts.basicApi.purge({ objectId: 'c1@example.com', idProperty: 'email' });
    for (const id of [first, second]) {
      const archived = await clientError(
        client.crm.contacts.basicApi.getById(id, undefined, undefined, undefined, true),
      );
      expect(archived.code).toBe(404);
    }
    const events = (await control(sim, 'GET', '/webhooks/events?limit=500')).body.results as any[];
    const types = events.filter((event) => event.objectId === Number(first)).map((event) => event.subscriptionType);
    expect(types).toEqual(expect.arrayContaining(['contact.deletion', 'contact.privacyDeletion']));
  });
});
