// Companies, deals and activities both ways, end to end: records made "by a
// HubSpot user" in the simulator arrive locally with their references
// resolved and their values translated (deal stages through the
// connection's value maps); records made locally in one transaction reach
// HubSpot with their associations. An unmapped deal stage is kept raw and
// reported.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HubSpotSyncHarness, startHubSpotSync } from './hubspot-sync-harness.ts';

let hs: HubSpotSyncHarness;

beforeAll(async () => {
  hs = await startHubSpotSync('entities');
}, 60_000);

afterAll(async () => {
  await hs?.close();
});

/** The local id of a remote record of this connection, once it is mapped. */
async function localIdOf(entityType: string, remoteId: string): Promise<string> {
  return await hs.until(`${entityType} ${remoteId} to be mapped`, async () => {
    const [row] = await hs.sql`select local_id from sync.identity_map
                                where connection_id = ${hs.connectionId} and entity_type = ${entityType} and remote_id = ${remoteId}`;
    return row?.local_id as string | undefined;
  });
}

describe('HubSpot → Postgres', () => {
  const remote: Record<string, string> = {};

  it('a company, a contact and two deals arrive with stages, amounts, dates and references resolved', async () => {
    const company = await hs.control('POST', '/objects/companies', {
      properties: { name: 'Globex', domain: 'globex.example', industry: 'COMPUTER_SOFTWARE', numberofemployees: '250' },
    });
    const contact = await hs.control('POST', '/objects/contacts', {
      properties: { email: 'hank@globex.example', firstname: 'Hank', lastname: 'Scorpio' },
      associations: [{ toObjectType: 'companies', toObjectId: company.id }],
    });
    const open = await hs.control('POST', '/objects/deals', {
      properties: {
        dealname: 'Globex doomsday device', amount: '12500.5', deal_currency_code: 'EUR',
        dealstage: 'qualifiedtobuy', pipeline: 'default', closedate: '2026-03-31T00:00:00.000Z',
      },
      associations: [{ toObjectType: 'contacts', toObjectId: contact.id }, { toObjectType: 'companies', toObjectId: company.id }],
    });
    const won = await hs.control('POST', '/objects/deals', {
      properties: { dealname: 'Globex hammock district', amount: '990', deal_currency_code: 'USD', dealstage: 'closedwon', pipeline: 'default' },
      associations: [{ toObjectType: 'companies', toObjectId: company.id }],
    });
    Object.assign(remote, { company: company.id, contact: contact.id, open: open.id, won: won.id });

    const companyId = await localIdOf('company', company.id);
    const contactId = await localIdOf('contact', contact.id);
    const openId = await localIdOf('deal', open.id);
    const wonId = await localIdOf('deal', won.id);

    const [companyRow] = await hs.sql`select tenant_id, name, domain, industry, employee_count from crm.companies where id = ${companyId}`;
    // HubSpot's industry enumeration is value-mapped: COMPUTER_SOFTWARE is the app's 'Software'.
    expect(companyRow).toEqual({ tenant_id: hs.tenantId, name: 'Globex', domain: 'globex.example', industry: 'Software', employee_count: 250 });
    const contactRow = await hs.until('the contact to point at its company', async () => {
      const [r] = await hs.sql`select email, company_id from crm.contacts where id = ${contactId}`;
      return r?.company_id ? r : null;
    });
    expect(contactRow).toEqual({ email: 'hank@globex.example', company_id: companyId });

    const deal = await hs.until('the open deal to point at its contact and company', async () => {
      const [r] = await hs.sql`select name, amount::text, currency, stage, status, close_date::text, contact_id, company_id, tenant_id
                                 from crm.deals where id = ${openId}`;
      return r?.contact_id && r?.company_id ? r : null;
    });
    expect(deal).toEqual({
      name: 'Globex doomsday device', amount: '12500.50', currency: 'EUR', stage: 'qualified', status: 'open',
      close_date: '2026-03-31', contact_id: contactId, company_id: companyId, tenant_id: hs.tenantId,
    });
    const wonDeal = await hs.until('the won deal to point at its company', async () => {
      const [r] = await hs.sql`select stage, status, amount::text, currency, contact_id, company_id from crm.deals where id = ${wonId}`;
      return r?.company_id ? r : null;
    });
    expect(wonDeal).toEqual({ stage: 'closed_won', status: 'won', amount: '990.00', currency: 'USD', contact_id: null, company_id: companyId });
  });

  it('a stage moved to closedwon in HubSpot closes the local deal as won', async () => {
    await hs.control('PATCH', `/objects/deals/${remote.open}`, { properties: { dealstage: 'closedwon' } });
    const openId = await localIdOf('deal', remote.open);
    const row = await hs.until('the stage change to arrive', async () => {
      const [r] = await hs.sql`select stage, status from crm.deals where id = ${openId}`;
      return r?.status === 'won' ? r : null;
    });
    expect(row).toEqual({ stage: 'closed_won', status: 'won' });
  });

  it('a note and a call arrive as activities with their contact and deal', async () => {
    const note = await hs.control('POST', '/objects/notes', {
      properties: { hs_note_body: 'Wants the volcano lair demo', hs_timestamp: '2026-02-01T10:00:00.000Z' },
      associations: [{ toObjectType: 'contacts', toObjectId: remote.contact }, { toObjectType: 'deals', toObjectId: remote.open }],
    });
    const call = await hs.control('POST', '/objects/calls', {
      properties: {
        hs_call_title: 'Discovery call', hs_call_body: 'Talked about hammocks', hs_call_direction: 'OUTBOUND',
        hs_timestamp: '2026-02-02T15:30:00.000Z',
      },
      associations: [{ toObjectType: 'contacts', toObjectId: remote.contact }, { toObjectType: 'deals', toObjectId: remote.open }],
    });
    const contactId = await localIdOf('contact', remote.contact);
    const dealId = await localIdOf('deal', remote.open);
    const noteId = await localIdOf('activity', `notes:${note.id}`);
    const callId = await localIdOf('activity', `calls:${call.id}`);

    const rows = await hs.until('both activities to point at their contact and deal', async () => {
      const found = await hs.sql`select id, type, subject, body, direction, occurred_at, contact_id, deal_id, tenant_id
                                   from crm.activities where id in (${noteId}, ${callId}) order by occurred_at`;
      return found.length === 2 && found.every((r) => r.contact_id && r.deal_id) ? found : null;
    });
    expect(rows.map((r) => ({ ...r, occurred_at: new Date(r.occurred_at).toISOString() }))).toEqual([
      {
        id: noteId, type: 'note', subject: null, body: 'Wants the volcano lair demo', direction: null,
        occurred_at: '2026-02-01T10:00:00.000Z', contact_id: contactId, deal_id: dealId, tenant_id: hs.tenantId,
      },
      {
        id: callId, type: 'call', subject: 'Discovery call', body: 'Talked about hammocks', direction: 'outbound',
        occurred_at: '2026-02-02T15:30:00.000Z', contact_id: contactId, deal_id: dealId, tenant_id: hs.tenantId,
      },
    ]);
  });

  it('a deal stage no value map translates is kept raw on the deal and listed in sync.unmapped_values', async () => {
    // A HubSpot admin adds a stage nobody mapped.
    const auth = { authorization: 'Bearer pat-na1-integration-token', 'content-type': 'application/json' };
    const property = await (await fetch(`${hs.sim.url}/crm/v3/properties/deals/dealstage`, { headers: auth })).json();
    const patched = await fetch(`${hs.sim.url}/crm/v3/properties/deals/dealstage`, {
      method: 'PATCH',
      headers: auth,
      body: JSON.stringify({
        options: [...property.options, { label: 'Technical review', value: 'technicalreview', displayOrder: 99, hidden: false }],
      }),
    });
    expect(patched.status).toBe(200);

    const deal = await hs.control('POST', '/objects/deals', {
      properties: { dealname: 'Globex monorail', amount: '50000', dealstage: 'technicalreview', pipeline: 'default' },
    });
    const dealId = await localIdOf('deal', deal.id);
    const [row] = await hs.sql`select name, stage, status from crm.deals where id = ${dealId}`;
    expect(row).toEqual({ name: 'Globex monorail', stage: 'technicalreview', status: 'open' });
    const unmapped = await hs.until('the stage to be listed as unmapped', async () => {
      const [r] = await hs.sql`select kind, remote_value, direction, last_entity_type, last_local_id from sync.unmapped_values
                                where connection_id = ${hs.connectionId} and remote_value = 'technicalreview'`;
      return r;
    });
    expect(unmapped).toEqual({ kind: 'deal_stage', remote_value: 'technicalreview', direction: 'inbound', last_entity_type: 'deal', last_local_id: dealId });
  });
});

describe('Postgres → HubSpot', () => {
  it('a company, a contact of it, a deal of both and a note on the deal, made in one transaction, reach HubSpot associated', async () => {
    const ids = await hs.sql.begin(async (tx) => {
      const [company] = await tx`insert into crm.companies (tenant_id, name, domain, industry)
                                 values (${hs.tenantId}, 'Initech', 'initech.example', 'Software') returning id`;
      const [contact] = await tx`insert into crm.contacts (tenant_id, email, first_name, last_name, company_id)
                                 values (${hs.tenantId}, 'peter@initech.example', 'Peter', 'Gibbons', ${company.id}) returning id`;
      const [deal] = await tx`insert into crm.deals (tenant_id, name, amount, currency, stage, status, close_date, company_id, contact_id)
                              values (${hs.tenantId}, 'Initech TPS reports', 4200, 'USD', 'qualified', 'open', '2026-06-30',
                                      ${company.id}, ${contact.id}) returning id`;
      const [note] = await tx`insert into crm.activities (tenant_id, type, body, occurred_at, deal_id)
                              values (${hs.tenantId}, 'note', 'Sent the cover sheet memo', '2026-05-04T09:15:00Z', ${deal.id}) returning id`;
      return { company: company.id as string, contact: contact.id as string, deal: deal.id as string, note: note.id as string };
    });

    const note = await hs.until('the note to reach HubSpot with its deal', async () => {
      const found = await hs.simByLocalId('notes', ids.note);
      return found?.associations.deals?.length ? found : null;
    }, 30_000);
    const company = await hs.simByLocalId('companies', ids.company);
    const contact = await hs.simByLocalId('contacts', ids.contact);
    const deal = await hs.simByLocalId('deals', ids.deal);
    expect(company?.properties).toMatchObject({ name: 'Initech', domain: 'initech.example', industry: 'COMPUTER_SOFTWARE' });
    expect(contact?.properties).toMatchObject({ email: 'peter@initech.example', firstname: 'Peter', lastname: 'Gibbons' });
    expect(deal?.properties).toMatchObject({
      dealname: 'Initech TPS reports', amount: '4200', deal_currency_code: 'USD', dealstage: 'qualifiedtobuy', pipeline: 'default',
    });
    expect(Date.parse(deal!.properties.closedate)).toBe(Date.parse('2026-06-30T00:00:00Z'));
    expect(note.properties).toMatchObject({ hs_note_body: 'Sent the cover sheet memo' });
    expect(Date.parse(note.properties.hs_timestamp)).toBe(Date.parse('2026-05-04T09:15:00Z'));

    // Associations as the simulator holds them (/_sim/objects/{type}/{id}).
    const contactDump = await hs.control('GET', `/objects/contacts/${contact!.id}`);
    const dealDump = await hs.control('GET', `/objects/deals/${deal!.id}`);
    const noteDump = await hs.control('GET', `/objects/notes/${note.id}`);
    expect(contactDump.associations.companies?.map((a: { id: string }) => a.id)).toEqual([company!.id]);
    expect(dealDump.associations.contacts?.map((a: { id: string }) => a.id)).toEqual([contact!.id]);
    expect(dealDump.associations.companies?.map((a: { id: string }) => a.id)).toEqual([company!.id]);
    expect(noteDump.associations.deals?.map((a: { id: string }) => a.id)).toEqual([deal!.id]);

    // Each record was created once, and each is mapped to what was created.
    for (const [type, localId] of [['companies', ids.company], ['contacts', ids.contact], ['deals', ids.deal], ['notes', ids.note]]) {
      expect((await hs.simObjects(type)).filter((r) => r.properties.forge_local_id === localId)).toHaveLength(1);
    }
    const mapped = await hs.sql`select entity_type, remote_id from sync.identity_map
                                 where connection_id = ${hs.connectionId} and local_id in (${ids.company}, ${ids.contact}, ${ids.deal}, ${ids.note})
                                 order by entity_type`;
    expect(mapped).toEqual([
      { entity_type: 'activity', remote_id: `notes:${note.id}` },
      { entity_type: 'company', remote_id: company!.id },
      { entity_type: 'contact', remote_id: contact!.id },
      { entity_type: 'deal', remote_id: deal!.id },
    ]);

    // The webhook echo of these creates changes nothing locally.
    await hs.settle();
    const [dealRow] = await hs.sql`select stage, status, amount::text, company_id, contact_id from crm.deals where id = ${ids.deal}`;
    expect(dealRow).toEqual({ stage: 'qualified', status: 'open', amount: '4200.00', company_id: ids.company, contact_id: ids.contact });
    const [noteRow] = await hs.sql`select deal_id, contact_id, company_id from crm.activities where id = ${ids.note}`;
    expect(noteRow).toEqual({ deal_id: ids.deal, contact_id: null, company_id: null });
  });

  it('a local deal moved to closed_won reaches HubSpot as closedwon', async () => {
    const [{ id }] = await hs.sql`select id from crm.deals where tenant_id = ${hs.tenantId} and name = 'Initech TPS reports'`;
    await hs.sql`update crm.deals set stage = 'closed_won', status = 'won' where id = ${id}`;
    const deal = await hs.until('the stage to reach HubSpot', async () => {
      const found = await hs.simByLocalId('deals', id);
      return found?.properties.dealstage === 'closedwon' ? found : null;
    });
    expect(deal.properties.pipeline).toBe('default');
  });
});
