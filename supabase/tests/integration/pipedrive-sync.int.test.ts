// Pipedrive two-way sync end to end: the Pipedrive simulator (driven by the
// official `pipedrive` client inside the functions) sends v2 webhooks with
// Basic auth to the pipedrive-webhook function; local edits go out through
// the outbound queue. Connection made through the real connections function.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PipedriveSyncHarness, startPipedriveSync } from './pipedrive-sync-harness.ts';

let h: PipedriveSyncHarness;

beforeAll(async () => {
  h = await startPipedriveSync('sync');
}, 60_000);
afterAll(async () => {
  await h?.close();
});

const local = async (table: string, where: string, value: unknown) =>
  (await h.sql.unsafe(`select * from crm.${table} where tenant_id = $1 and ${where} = $2`, [h.tenantId, value as string]))[0];

describe('connecting', () => {
  it('maps the custom fields by name to their keys in this account, and stages and enum options as value maps', async () => {
    const fields = await h.control<Record<string, Record<string, string>>>('GET', '/fields');
    const rows = await h.sql<{ entity_type: string; local_field: string; remote_property: string }[]>`
      select entity_type, local_field, remote_property from sync.field_maps where connection_id = ${h.connectionId} order by 1, 2`;
    const key = (entity: string, name: string) => {
      const byName = (fields as any)[entity] ?? (fields as any).fields?.[entity];
      return `cf_${byName?.[name]?.key ?? byName?.[name]}`;
    };
    expect(rows).toEqual([
      { entity_type: 'company', local_field: 'annual_revenue', remote_property: key('organization', 'revenue') },
      { entity_type: 'company', local_field: 'domain', remote_property: key('organization', 'domain') },
      { entity_type: 'company', local_field: 'industry', remote_property: key('organization', 'industry') },
      { entity_type: 'contact', local_field: 'lead_source', remote_property: key('person', 'source') },
      { entity_type: 'contact', local_field: 'lifecycle_stage', remote_property: key('person', 'stage') },
    ]);
    const stages = await h.sql`select remote_value, local_value, remote_context from sync.value_maps
                                where connection_id = ${h.connectionId} and kind = 'deal_stage' order by remote_value::int`;
    expect(stages[0]).toEqual({ remote_value: '1', local_value: 'qualified', remote_context: '1' });
    expect(stages).toHaveLength(8);
    const webhooks = await h.control<{ subscriptions: { eventObject?: string; event_object?: string }[] }>('GET', '/webhooks');
    expect(webhooks.subscriptions.length).toBe(5);
  });
});

describe('Pipedrive → Postgres', () => {
  it('brings organizations, persons, deals, activities and notes with their references', async () => {
    const org = await h.control('POST', '/objects/organizations', { values: { name: 'Umbrella Corp' } });
    await h.control('PATCH', `/objects/organizations/${org.id}`, { values: { custom_fields: { [await fieldKey('organization', 'domain')]: 'Umbrella.example' } } });
    const person = await h.control('POST', '/objects/persons', {
      values: { name: 'Alice Wong', emails: [{ value: 'alice@umbrella.example', primary: true }], phones: [{ value: '+1 555 0100' }], org_id: org.id },
    });
    const deal = await h.control('POST', '/objects/deals', { values: { title: 'Umbrella renewal', value: 1200, currency: 'EUR', stage_id: 3, person_id: person.id, org_id: org.id } });
    await h.control('POST', '/objects/activities', { values: { subject: 'Intro call', type: 'call', due_date: '2026-11-20', due_time: '09:30', person_id: person.id, deal_id: deal.id } });
    await h.control('POST', '/objects/notes', { values: { content: 'Met at the fair', person_id: person.id } });
    await h.settle();

    const company = await h.until('company', () => local('companies', 'name', 'Umbrella Corp'));
    expect(company.domain).toBe('umbrella.example');
    const contact = await local('contacts', 'email', 'alice@umbrella.example');
    expect(contact).toMatchObject({ first_name: 'Alice', last_name: 'Wong', phone: '+1 555 0100', company_id: company.id });
    const localDeal = await local('deals', 'name', 'Umbrella renewal');
    expect(localDeal).toMatchObject({ stage: 'demo_scheduled', currency: 'EUR', status: 'open', contact_id: contact.id, company_id: company.id });
    expect(Number(localDeal.amount)).toBe(1200);
    const call = await local('activities', 'subject', 'Intro call');
    expect(call).toMatchObject({ type: 'call', contact_id: contact.id, deal_id: localDeal.id });
    expect(new Date(call.occurred_at).toISOString()).toBe('2026-11-20T09:30:00.000Z');
    const note = await local('activities', 'body', 'Met at the fair');
    expect(note).toMatchObject({ type: 'note', contact_id: contact.id });
    expect(await h.remoteIdOf('activity', note.id)).toMatch(/^note:\d+$/);
  });

  it('applies a deletion in Pipedrive as a soft delete', async () => {
    const person = await h.control('POST', '/objects/persons', { values: { name: 'Gone Soon', emails: [{ value: 'gone@umbrella.example' }] } });
    await h.settle();
    expect(await local('contacts', 'email', 'gone@umbrella.example')).toBeTruthy();
    await h.control('DELETE', `/objects/persons/${person.id}`, {});
    await h.settle();
    expect((await local('contacts', 'email', 'gone@umbrella.example')).deleted_at).not.toBeNull();
  });
});

describe('Postgres → Pipedrive', () => {
  it('creates each entity type with its references, and one local edit is one Pipedrive write with no echo back', async () => {
    const [company] = await h.sql`insert into crm.companies (tenant_id, name, domain, industry, annual_revenue)
      values (${h.tenantId}, 'Initech', 'initech.example', 'Software', 500000) returning id`;
    const [contact] = await h.sql`insert into crm.contacts (tenant_id, email, first_name, last_name, company_id, lifecycle_stage, lead_source)
      values (${h.tenantId}, 'peter@initech.example', 'Peter', 'Gibbons', ${company.id}, 'customer', 'referral') returning id`;
    const [deal] = await h.sql`insert into crm.deals (tenant_id, name, amount, currency, stage, contact_id, company_id)
      values (${h.tenantId}, 'TPS reports', 9000, 'USD', 'proposal_made', ${contact.id}, ${company.id}) returning id`;
    const [meeting] = await h.sql`insert into crm.activities (tenant_id, type, subject, body, occurred_at, contact_id, deal_id)
      values (${h.tenantId}, 'meeting', 'Kickoff', 'Agenda', '2026-11-21T14:00:00Z', ${contact.id}, ${deal.id}) returning id`;
    const [note] = await h.sql`insert into crm.activities (tenant_id, type, body, occurred_at, company_id)
      values (${h.tenantId}, 'note', 'Prefers email', '2026-11-21T15:00:00Z', ${company.id}) returning id`;
    await h.settle();

    const orgId = Number(await h.remoteIdOf('company', company.id));
    const org = (await h.simObjects('organizations')).find((o) => o.id === orgId)!;
    expect(org.data.name).toBe('Initech');
    expect(org.customFieldsByName).toMatchObject({ domain: 'initech.example', revenue: { value: 500000, currency: 'USD' } });
    const personId = Number(await h.remoteIdOf('contact', contact.id));
    const person = (await h.simObjects('persons')).find((p) => p.id === personId)!;
    expect(person.data).toMatchObject({ name: 'Peter Gibbons', org_id: orgId, emails: [{ value: 'peter@initech.example', primary: true }] });
    expect(person.customFieldsByName.source).toBe('referral');
    const dealId = Number(await h.remoteIdOf('deal', deal.id));
    const remoteDeal = (await h.simObjects('deals')).find((d) => d.id === dealId)!;
    expect(remoteDeal.data).toMatchObject({ title: 'TPS reports', value: 9000, stage_id: 4, person_id: personId, org_id: orgId });
    const activityId = Number(await h.remoteIdOf('activity', meeting.id));
    const activity = (await h.simObjects('activities')).find((a) => a.id === activityId)!;
    expect(activity.data).toMatchObject({ subject: 'Kickoff', type: 'meeting', due_date: '2026-11-21', person_id: personId, deal_id: dealId });
    const noteRemote = await h.remoteIdOf('activity', note.id);
    expect(noteRemote).toMatch(/^note:\d+$/);
    const remoteNote = (await h.simObjects('notes')).find((n) => `note:${n.id}` === noteRemote)!;
    expect(remoteNote.data).toMatchObject({ content: 'Prefers email', org_id: orgId });

    // One local edit: one PATCH, and its webhook echo changes nothing and writes nothing back.
    await h.settle();
    await h.clearRequests();
    await h.sql`update crm.contacts set phone = '+1 555 0199' where id = ${contact.id}`;
    await h.settle();
    await new Promise((r) => setTimeout(r, 500));
    await h.settle();
    const writes = await h.apiWrites();
    expect(writes).toEqual([{ method: 'PATCH', path: `/api/v2/persons/${personId}`, status: 200 }]);
    expect((await h.simObjects('persons')).find((p) => p.id === personId)!.data.phones[0].value).toBe('+1 555 0199');
    expect((await local('contacts', 'email', 'peter@initech.example')).phone).toBe('+1 555 0199');
  });

  it('deletes in Pipedrive what is deleted locally', async () => {
    const [contact] = await h.sql`insert into crm.contacts (tenant_id, email, first_name) values (${h.tenantId}, 'temp@initech.example', 'Temp') returning id`;
    await h.settle();
    const personId = Number(await h.remoteIdOf('contact', contact.id));
    expect(personId).toBeGreaterThan(0);
    await h.sql`update crm.contacts set deleted_at = now() where id = ${contact.id}`;
    await h.settle();
    expect((await h.simObjects('persons', true)).find((p) => p.id === personId)!.deleted).toBe(true);
  });
});

async function fieldKey(entity: string, name: string): Promise<string> {
  const fields = await h.control<any>('GET', '/fields');
  const byName = fields[entity] ?? fields.fields?.[entity];
  return byName?.[name]?.key ?? byName?.[name];
}
