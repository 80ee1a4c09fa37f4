// deno-lint-ignore-file no-explicit-any -- tests assert on raw JSON bodies
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { customFieldKey, SEEDED_CUSTOM_FIELDS } from '../field-registry.ts';
import type { PipedriveSimulator } from '../server.ts';
import { api, clientError, startSimulator, v1Client, v2Client } from '../test-support.ts';

let accountA: PipedriveSimulator;
let accountB: PipedriveSimulator;

beforeAll(async () => {
  accountA = await startSimulator({ companyId: 4_100_001 });
  accountB = await startSimulator({ companyId: 4_100_002 });
});
afterAll(async () => {
  await accountA.close();
  await accountB.close();
});

/** name → key of the custom fields in `/v1/personFields`, as a sync engine resolves them. */
async function personFieldKeys(sim: PipedriveSimulator): Promise<Record<string, string>> {
  const response = await v1Client(sim).personFields.getPersonFields();
  const custom = response.data!.filter((field) => /^[0-9a-f]{40}$/.test(field.key!));
  return Object.fromEntries(custom.map((field) => [field.name!, field.key!]));
}

describe('custom fields', () => {
  it('gives each account its own 40-character keys for the same custom fields', async () => {
    const a = await personFieldKeys(accountA);
    const b = await personFieldKeys(accountB);
    expect(Object.keys(a).sort()).toEqual(['source', 'stage']);
    expect(Object.keys(b).sort()).toEqual(['source', 'stage']);
    for (const name of ['stage', 'source']) {
      expect(a[name]).toMatch(/^[0-9a-f]{40}$/);
      expect(a[name]).not.toBe(b[name]);
    }
    // Stable for an account: the key is derived from the company id and the seed.
    expect(a.source).toBe(customFieldKey(4_100_001, 1, 'person', 'source', 0));
  });

  it('seeds stage, source, domain, industry and revenue on the objects they belong to', async () => {
    const client = v1Client(accountA);
    const names = async (fields: Promise<{ data?: Array<{ key?: string; name?: string }> }>) =>
      (await fields).data!.filter((field) => /^[0-9a-f]{40}$/.test(field.key!)).map((field) => field.name);
    expect(await names(client.personFields.getPersonFields())).toEqual(['stage', 'source']);
    expect(await names(client.organizationFields.getOrganizationFields())).toEqual(['domain', 'industry', 'revenue']);
    expect(await names(client.dealFields.getDealFields())).toEqual(['source']);
    expect(SEEDED_CUSTOM_FIELDS.activity).toEqual([]);
    const standard = (await client.personFields.getPersonFields()).data!.map((field) => field.key);
    expect(standard).toEqual(expect.arrayContaining(['name', 'email', 'phone', 'org_id', 'owner_id']));
  });

  it('writes and reads values under the resolved key, checking them against the field type', async () => {
    const keys = await personFieldKeys(accountA);
    const fields = (await v1Client(accountA).personFields.getPersonFields()).data!;
    const stage = fields.find((field) => field.key === keys.stage)!;
    const customer = stage.options!.find((option: any) => option.label === 'Customer') as any;
    const persons = v2Client(accountA).persons;
    const created = await persons.addPerson({
      AddPersonRequest: { name: 'Valued', custom_fields: { [keys.stage]: customer.id, [keys.source]: 'Event' } },
    });
    expect(created.data!.custom_fields).toEqual({ [keys.stage]: customer.id, [keys.source]: 'Event' });

    const wrongOption = await clientError(
      persons.updatePerson({ id: created.data!.id!, UpdatePersonRequest: { custom_fields: { [keys.stage]: 1 } } }),
    );
    expect(wrongOption.error).toContain('expects one of the option ids');
    // Account B's key means nothing in account A.
    const foreignKey = (await personFieldKeys(accountB)).source;
    const foreign = await api(accountA, 'PATCH', `/api/v2/persons/${created.data!.id}`, {
      custom_fields: { [foreignKey]: 'x' },
    });
    expect(foreign.status).toBe(400);
    expect(foreign.body.error).toContain(`unknown custom field ${foreignKey}`);

    const cleared = await persons.updatePerson({
      id: created.data!.id!,
      UpdatePersonRequest: { custom_fields: { [keys.source]: null } },
    });
    expect(cleared.data!.custom_fields![keys.source]).toBeNull();
  });

  it('takes monetary values as {value, currency} on organizations', async () => {
    const orgFields = (await v1Client(accountA).organizationFields.getOrganizationFields()).data!;
    const revenue = orgFields.find((field) => field.name === 'revenue')!;
    const org = await v2Client(accountA).organizations.addOrganization({
      AddOrganizationRequest: {
        name: 'Globex',
        custom_fields: { [revenue.key!]: { value: 1_500_000, currency: 'EUR' } },
      },
    });
    expect(org.data!.custom_fields![revenue.key!]).toEqual({ value: 1_500_000, currency: 'EUR' });
    const bad = await api(accountA, 'POST', '/api/v2/organizations', {
      name: 'Initech',
      custom_fields: { [revenue.key!]: '1.5M' },
    });
    expect(bad.status).toBe(400);
  });

  it('creates a custom field through POST /v1/personFields that then shows on every person', async () => {
    const client = v1Client(accountB);
    const created = await client.personFields.addPersonField({
      CreateFieldRequest: { name: 'tier', field_type: 'enum', options: [{ label: 'Gold' }, { label: 'Silver' }] },
    } as any);
    const field = created.data!;
    expect(field.key).toMatch(/^[0-9a-f]{40}$/);
    expect(field.options!.map((option: any) => option.label)).toEqual(['Gold', 'Silver']);
    expect((await personFieldKeys(accountB)).tier).toBe(field.key);

    const person = await v2Client(accountB).persons.addPerson({ AddPersonRequest: { name: 'Tiered' } });
    expect(person.data!.custom_fields).toHaveProperty(field.key!, null);
    const missingOptions = await api(accountB, 'POST', '/v1/personFields', { name: 'x', field_type: 'set' });
    expect(missingOptions.status).toBe(400);

    const removed = await api(accountB, 'DELETE', `/v1/personFields/${field.id}`);
    expect(removed.body).toEqual({ success: true, data: { id: field.id } });
    expect((await personFieldKeys(accountB)).tier).toBeUndefined();
  });
});
