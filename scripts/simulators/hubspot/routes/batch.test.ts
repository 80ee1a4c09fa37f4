// deno-lint-ignore-file no-explicit-any -- tests assert on raw JSON bodies
import type { Client } from '@hubspot/api-client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { HubSpotSimulator } from '../server.ts';
import { clientError, control, hubspotClient, startSimulator } from '../test-support.ts';

let sim: HubSpotSimulator;
let client: Client;

beforeAll(async () => {
  sim = await startSimulator();
  client = hubspotClient(sim);
});
afterAll(() => sim.close());
beforeEach(() => sim.state.reset());

const contact = (n: number, extra: Record<string, string> = {}) => ({
  properties: { email: `Person${n}@Example.com`, firstname: `First${n}`, lastname: `Last${n}`, ...extra },
  associations: [],
});

describe('batch create', () => {
  it('creates every input (201) with increasing digit ids, lower-cased emails and the trace ids echoed', async () => {
    const response = await client.crm.contacts.batchApi.create({
      inputs: [
        { ...contact(1), objectWriteTraceId: 'trace-1' },
        { ...contact(2), objectWriteTraceId: 'trace-2' },
      ],
    });
    expect(response.status).toBe('COMPLETE');
    expect(response.results).toHaveLength(2);
    const [first, second] = response.results;
    expect(first.id).toMatch(/^\d+$/);
    expect(Number(second.id)).toBeGreaterThan(Number(first.id));
    expect(first.properties.email).toBe('person1@example.com');
    expect(first.properties.hs_object_id).toBe(first.id);
    expect(first.properties.createdate).toBe(first.properties.lastmodifieddate);
    expect(response.results.map((result) => result.objectWriteTraceId).sort()).toEqual(['trace-1', 'trace-2']);
    expect((response as { errors?: unknown[] }).errors).toBeUndefined();
  });

  it('answers 207 with one error per failed input, carrying its objectWriteTraceId', async () => {
    await client.crm.contacts.batchApi.create({ inputs: [contact(1)] });
    const response = await client.crm.contacts.batchApi.create({
      inputs: [
        { ...contact(1), objectWriteTraceId: 'duplicate' },
        {
          properties: { email: 'x@example.com', favourite_colour: 'blue' },
          associations: [],
          objectWriteTraceId: 'unknown-prop',
        },
        { ...contact(3, { lifecyclestage: 'not-a-stage' }), objectWriteTraceId: 'bad-option' },
        { ...contact(4), objectWriteTraceId: 'ok' },
      ],
    }) as unknown as { results: Array<{ objectWriteTraceId?: string }>; numErrors: number; errors: any[] };
    expect(response.results.map((result) => result.objectWriteTraceId)).toEqual(['ok']);
    expect(response.numErrors).toBe(3);
    const byTrace = Object.fromEntries(response.errors.map((error) => [error.context.objectWriteTraceId[0], error]));
    expect(byTrace.duplicate.category).toBe('CONFLICT');
    expect(byTrace.duplicate.message).toMatch(/^Contact already exists\. Existing ID: \d+$/);
    expect(byTrace['unknown-prop'].category).toBe('VALIDATION_ERROR');
    expect(byTrace['unknown-prop'].errors[0]).toMatchObject({ code: 'PROPERTY_DOESNT_EXIST' });
    expect(byTrace['bad-option'].errors[0]).toMatchObject({ code: 'INVALID_OPTION' });
    const stored = await control(sim, 'GET', '/objects/contacts');
    expect(stored.body.total).toBe(2);
  });

  it('rejects more than 100 inputs with a 400 and writes nothing', async () => {
    const inputs = Array.from({ length: 101 }, (_, n) => contact(n));
    const error = await clientError(client.crm.contacts.batchApi.create({ inputs }));
    expect(error.code).toBe(400);
    expect(error.body).toMatchObject({ status: 'error', category: 'VALIDATION_ERROR' });
    expect(error.body.correlationId).toMatch(/^[0-9a-f-]{36}$/);
    expect(sim.state.store.count('contacts')).toBe(0);
  });

  it('accepts exactly 100 inputs', async () => {
    const response = await client.crm.contacts.batchApi.create({
      inputs: Array.from({ length: 100 }, (_, n) => contact(n)),
    });
    expect(response.results).toHaveLength(100);
  });
});

describe('batch read', () => {
  it('returns found records and a 207 error listing the missing ids', async () => {
    const created = await client.crm.contacts.batchApi.create({ inputs: [contact(1), contact(2)] });
    const ids = created.results.map((result) => result.id);
    const response = await client.crm.contacts.batchApi.read({
      inputs: [{ id: ids[0] }, { id: '999999999' }, { id: ids[1] }],
      properties: ['email', 'phone'],
      propertiesWithHistory: [],
    }) as unknown as { results: any[]; errors: any[] };
    expect(response.results.map((result) => result.id).sort()).toEqual([...ids].sort());
    expect(response.results[0].properties).toHaveProperty('phone', null);
    expect(response.errors).toHaveLength(1);
    expect(response.errors[0]).toMatchObject({ category: 'OBJECT_NOT_FOUND', context: { ids: ['999999999'] } });
  });

  it('reads by a unique property with idProperty', async () => {
    await client.crm.contacts.batchApi.create({ inputs: [contact(7)] });
    const response = await client.crm.contacts.batchApi.read({
      idProperty: 'email',
      inputs: [{ id: 'person7@example.com' }],
      properties: ['firstname'],
      propertiesWithHistory: [],
    });
    expect(response.results[0].properties.firstname).toBe('First7');
  });
});

describe('batch update', () => {
  it('updates, bumps lastmodifieddate, clears with an empty string, and 207s on missing ids', async () => {
    const created = await client.crm.contacts.batchApi.create({ inputs: [contact(1, { phone: '+1 555 0100' })] });
    const id = created.results[0].id;
    sim.state.clock.advance(5_000);
    const response = await client.crm.contacts.batchApi.update({
      inputs: [
        { id, properties: { firstname: 'Renamed', phone: '' } },
        { id: '424242', properties: { firstname: 'Nobody' } },
      ],
    }) as unknown as { results: any[]; errors: any[] };
    expect(response.results[0].properties.firstname).toBe('Renamed');
    expect(response.results[0].properties.phone).toBeNull();
    expect(Date.parse(response.results[0].properties.lastmodifieddate)).toBeGreaterThan(
      Date.parse(created.results[0].properties.lastmodifieddate!),
    );
    expect(response.errors[0]).toMatchObject({ category: 'OBJECT_NOT_FOUND', context: { ids: ['424242'] } });
  });

  it('leaves lastmodifieddate alone when nothing changes', async () => {
    const created = await client.crm.contacts.batchApi.create({ inputs: [contact(1)] });
    sim.state.clock.advance(5_000);
    const response = await client.crm.contacts.batchApi.update({
      inputs: [{ id: created.results[0].id, properties: { firstname: 'First1' } }],
    });
    expect(response.results[0].properties.lastmodifieddate).toBe(created.results[0].properties.lastmodifieddate);
  });

  it('rejects duplicate ids in one batch', async () => {
    const created = await client.crm.contacts.batchApi.create({ inputs: [contact(1)] });
    const id = created.results[0].id;
    const error = await clientError(client.crm.contacts.batchApi.update({
      inputs: [{ id, properties: { firstname: 'a' } }, { id, properties: { firstname: 'b' } }],
    }));
    expect(error.code).toBe(400);
    expect(error.body.message).toContain('Duplicate IDs');
  });
});

describe('batch upsert', () => {
  it('updates records matched by email (new: false) and creates the others (new: true)', async () => {
    await client.crm.contacts.batchApi.create({ inputs: [contact(1)] });
    const response = await client.crm.contacts.batchApi.upsert({
      inputs: [
        { id: 'person1@example.com', idProperty: 'email', properties: { lastname: 'Updated' } },
        { id: 'fresh@example.com', idProperty: 'email', properties: { firstname: 'Fresh' } },
      ],
    });
    const byEmail = Object.fromEntries(response.results.map((result) => [result.properties.email, result]));
    expect(byEmail['person1@example.com']).toMatchObject({ _new: false });
    expect(byEmail['person1@example.com'].properties.lastname).toBe('Updated');
    expect(byEmail['fresh@example.com']).toMatchObject({ _new: true });
    expect(sim.state.store.count('contacts')).toBe(2);
  });
});

describe('batch archive', () => {
  it('archives (204): gone from reads and lists, listed with archived=true', async () => {
    const created = await client.crm.contacts.batchApi.create({ inputs: [contact(1), contact(2)] });
    const [gone, kept] = created.results.map((result) => result.id);
    await client.crm.contacts.batchApi.archive({ inputs: [{ id: gone }, { id: '31337' }] });
    expect((await clientError(client.crm.contacts.basicApi.getById(gone))).code).toBe(404);
    const live = await client.crm.contacts.basicApi.getPage(100);
    expect(live.results.map((result) => result.id)).toEqual([kept]);
    const archived = await client.crm.contacts.basicApi.getPage(100, undefined, undefined, undefined, undefined, true);
    expect(archived.results.map((result) => result.id)).toEqual([gone]);
    expect(archived.results[0].archived).toBe(true);
    expect(archived.results[0].archivedAt).toBeInstanceOf(Date);
  });
});
