// Merges and privacy deletions made in HubSpot, end to end: a contact merge
// folds the merged contact into the survivor locally (references repointed,
// the merged one soft-deleted, nothing sent back), a GDPR delete erases
// the local contact row, and a merge made in the app (merge_records) reaches
// HubSpot as one merge call.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HubSpotSyncHarness, isObjectWrite, startHubSpotSync } from './hubspot-sync-harness.ts';

let hs: HubSpotSyncHarness;

beforeAll(async () => {
  hs = await startHubSpotSync('merge');
}, 60_000);

afterAll(async () => {
  await hs?.close();
});

async function localIdOf(entityType: string, remoteId: string): Promise<string> {
  return await hs.until(`${entityType} ${remoteId} to be mapped`, async () => {
    const [row] = await hs.sql`select local_id from sync.identity_map
                                where connection_id = ${hs.connectionId} and entity_type = ${entityType} and remote_id = ${remoteId}`;
    return row?.local_id as string | undefined;
  });
}

describe('a contact merge in HubSpot', () => {
  it('soft-deletes the merged contact, keeps the survivor on the primary id and repoints the deals', async () => {
    const primary = await hs.control('POST', '/objects/contacts', {
      properties: { email: 'marge@springfield.example', firstname: 'Marge', lastname: 'Simpson' },
    });
    const merged = await hs.control('POST', '/objects/contacts', {
      properties: { email: 'marjorie@springfield.example', firstname: 'Marjorie', lastname: 'Bouvier', phone: '+1 555 0199' },
    });
    // A deal associated in HubSpot with the contact that will be merged away...
    const remoteDeal = await hs.control('POST', '/objects/deals', {
      properties: { dealname: 'Pretzel franchise', amount: '3000', dealstage: 'qualifiedtobuy', pipeline: 'default' },
      associations: [{ toObjectType: 'contacts', toObjectId: merged.id }],
    });
    const survivorId = await localIdOf('contact', primary.id);
    const mergedId = await localIdOf('contact', merged.id);
    const remoteDealId = await localIdOf('deal', remoteDeal.id);
    await hs.until('the HubSpot deal to point at the merged contact', async () =>
      (await hs.sql`select 1 from crm.deals where id = ${remoteDealId} and contact_id = ${mergedId}`).length > 0);
    // ... and one made locally for it.
    const [{ id: localDealId }] = await hs.sql`insert into crm.deals (tenant_id, name, amount, contact_id)
                                                values (${hs.tenantId}, 'Chanel suit', 90, ${mergedId}) returning id`;
    const localDealRemote = await hs.until('the local deal to reach HubSpot with its contact', async () => {
      const found = await hs.simByLocalId('deals', localDealId);
      return found?.associations.contacts?.some((a) => a.id === merged.id) ? found : null;
    });
    await hs.settle();

    const before = (await hs.requests()).length;
    await hs.control('POST', '/objects/contacts/merge', { primaryObjectId: primary.id, objectIdToMerge: merged.id });

    await hs.until('the merged contact to be soft-deleted', async () =>
      (await hs.sql`select 1 from crm.contacts where id = ${mergedId} and deleted_at is not null`).length > 0);
    await hs.settle();

    const contacts = await hs.sql`select id, email, first_name, deleted_at is not null as deleted from crm.contacts
                                   where tenant_id = ${hs.tenantId} order by email`;
    expect(contacts).toEqual([
      { id: survivorId, email: 'marge@springfield.example', first_name: 'Marge', deleted: false },
      { id: mergedId, email: 'marjorie@springfield.example', first_name: 'Marjorie', deleted: true },
    ]);
    // The survivor keeps the primary's remote id; the merged id is no longer mapped.
    const mapped = await hs.sql`select remote_id, local_id from sync.identity_map
                                 where connection_id = ${hs.connectionId} and entity_type = 'contact' order by remote_id`;
    expect(mapped).toEqual([{ remote_id: primary.id, local_id: survivorId }]);
    // The merge filled the primary's empty phone in HubSpot; the survivor has it too.
    const [survivor] = await hs.sql`select phone from crm.contacts where id = ${survivorId}`;
    expect(survivor.phone).toBe('+1 555 0199');
    // Deals that pointed at the merged contact now point at the survivor.
    const deals = await hs.sql`select id, contact_id, deleted_at from crm.deals where id in (${remoteDealId}, ${localDealId}) order by name`;
    expect(deals).toEqual([
      { id: localDealId, contact_id: survivorId, deleted_at: null },
      { id: remoteDealId, contact_id: survivorId, deleted_at: null },
    ]);
    // A merge made in HubSpot is not sent back: no write, the primary is still live.
    const writes = (await hs.requests()).slice(before).filter(isObjectWrite);
    expect(writes).toEqual([]);
    const primaryNow = await hs.control('GET', `/objects/contacts/${primary.id}`);
    expect(primaryNow.archived).toBe(false);
    expect(localDealRemote.id).toBeTruthy();
  });

  it('a later local edit of a repointed deal keeps it associated with the survivor in HubSpot', async () => {
    const [deal] = await hs.sql`select d.id, m.remote_id from crm.deals d
                                 join sync.identity_map m on m.local_id = d.id and m.connection_id = ${hs.connectionId}
                                where d.tenant_id = ${hs.tenantId} and d.name = 'Pretzel franchise'`;
    const [survivor] = await hs.sql`select m.remote_id from crm.contacts c
                                     join sync.identity_map m on m.local_id = c.id and m.connection_id = ${hs.connectionId}
                                    where c.tenant_id = ${hs.tenantId} and c.email = 'marge@springfield.example'`;
    await hs.sql`update crm.deals set amount = 3500 where id = ${deal.id}`;
    await hs.until('the amount to reach HubSpot', async () =>
      (await hs.control('GET', `/objects/deals/${deal.remote_id}`)).properties.amount === '3500');
    await hs.settle();
    const dump = await hs.control('GET', `/objects/deals/${deal.remote_id}`);
    expect(dump.associations.contacts?.map((a: { id: string }) => a.id)).toEqual([survivor.remote_id]);
    const [row] = await hs.sql`select c.email from crm.deals d join crm.contacts c on c.id = d.contact_id where d.id = ${deal.id}`;
    expect(row.email).toBe('marge@springfield.example');
  });
});

describe('a privacy deletion in HubSpot (contact.privacyDeletion)', () => {
  it('erases the local contact row and its mapping, and sends nothing back', async () => {
    const person = await hs.control('POST', '/objects/contacts', {
      properties: { email: 'frank@grimes.example', firstname: 'Frank', lastname: 'Grimes' },
    });
    const localId = await localIdOf('contact', person.id);
    const [{ id: dealId }] = await hs.sql`insert into crm.deals (tenant_id, name, contact_id)
                                           values (${hs.tenantId}, 'Nuclear safety audit', ${localId}) returning id`;
    await hs.until('the deal to reach HubSpot', async () => (await hs.simByLocalId('deals', dealId))?.associations.contacts?.length);
    await hs.settle();

    const before = (await hs.requests()).length;
    await hs.control('POST', `/objects/contacts/${person.id}/gdpr-delete`, {});
    await hs.until('the local contact row to be gone', async () =>
      (await hs.sql`select 1 from crm.contacts where id = ${localId}`).length === 0);
    await hs.settle();

    expect(await hs.sql`select 1 from crm.contacts where id = ${localId}`).toEqual([]);
    expect(await hs.sql`select 1 from crm.contacts where tenant_id = ${hs.tenantId} and email = 'frank@grimes.example'`).toEqual([]);
    expect(await hs.sql`select 1 from sync.identity_map where connection_id = ${hs.connectionId} and remote_id = ${person.id}
                                                         and entity_type = 'contact'`).toEqual([]);
    const [deal] = await hs.sql`select contact_id, deleted_at from crm.deals where id = ${dealId}`;
    expect(deal).toEqual({ contact_id: null, deleted_at: null });
    const writes = (await hs.requests()).slice(before).filter(isObjectWrite);
    expect(writes).toEqual([]);
  });

  it('a later local edit of a deal that pointed at the erased contact still reaches HubSpot', async () => {
    const [{ id }] = await hs.sql`select id from crm.deals where tenant_id = ${hs.tenantId} and name = 'Nuclear safety audit'`;
    await hs.sql`update crm.deals set amount = 1200 where id = ${id}`;
    await hs.until('the amount to reach HubSpot', async () => (await hs.simByLocalId('deals', id))?.properties.amount === '1200');
    await hs.settle();
    expect((await hs.simByLocalId('deals', id))?.associations.contacts ?? []).toEqual([]);
    expect(await hs.sql`select error from sync.dead_letters where connection_id = ${hs.connectionId}`).toEqual([]);
    expect(await hs.queued('crm_outbound')).toBe(0);
  });
});

describe('a contact merge made in the app (merge_records)', () => {
  it('reaches HubSpot as one merge: the survivor keeps its record and the deal, nothing is archived', async () => {
    const [{ id: survivorId }] = await hs.sql`insert into crm.contacts (tenant_id, email, first_name, last_name)
      values (${hs.tenantId}, 'lisa@springfield.example', 'Lisa', 'Simpson') returning id`;
    const [{ id: mergedId }] = await hs.sql`insert into crm.contacts (tenant_id, email, first_name, last_name)
      values (${hs.tenantId}, 'lisa.s@springfield.example', 'Lisa', 'S.') returning id`;
    const survivorRemote = await hs.until('the survivor to reach HubSpot', () => hs.simByLocalId('contacts', survivorId));
    const mergedRemote = await hs.until('the merged contact to reach HubSpot', () => hs.simByLocalId('contacts', mergedId));
    const [{ id: dealId }] = await hs.sql`insert into crm.deals (tenant_id, name, amount, contact_id)
                                           values (${hs.tenantId}, 'Saxophone lessons', 40, ${mergedId}) returning id`;
    const remoteDeal = await hs.until('the deal to reach HubSpot with the merged contact', async () => {
      const found = await hs.simByLocalId('deals', dealId);
      return found?.associations.contacts?.some((a) => a.id === mergedRemote.id) ? found : null;
    });
    await hs.settle();

    const before = (await hs.requests()).length;
    const [{ merge_records: returned }] = await hs.sql`select merge_records('contact', ${survivorId}, ${mergedId})`;
    expect(returned).toBe(survivorId);

    // HubSpot merged them: the merged id now resolves to the survivor's record.
    await hs.until('HubSpot to merge the contacts', async () =>
      (await hs.control('GET', `/objects/contacts/${mergedRemote.id}`)).id === survivorRemote.id);
    await hs.settle();

    const survivorNow = await hs.control('GET', `/objects/contacts/${survivorRemote.id}`);
    expect(survivorNow.archived).toBe(false);
    expect(survivorNow.properties.forge_local_id).toBe(survivorId);
    // One live contact in HubSpot for the two local ones, and no stray copy.
    const live = (await hs.simObjects('contacts')).filter((c) => [survivorId, mergedId].includes(c.properties.forge_local_id));
    expect(live.map((c) => c.id)).toEqual([survivorRemote.id]);
    // The deal is associated with the survivor in HubSpot and locally.
    const dealNow = await hs.control('GET', `/objects/deals/${remoteDeal.id}`);
    expect(dealNow.associations.contacts?.map((a: { id: string }) => a.id)).toEqual([survivorRemote.id]);
    expect(await hs.sql`select contact_id, deleted_at from crm.deals where id = ${dealId}`).toEqual([{ contact_id: survivorId, deleted_at: null }]);
    // Locally: the merged contact is soft-deleted, the survivor is live and mapped, the merged remote id is forgotten.
    const contacts = await hs.sql`select id, deleted_at is not null as deleted from crm.contacts where id in (${survivorId}, ${mergedId}) order by deleted_at nulls first`;
    expect(contacts).toEqual([{ id: survivorId, deleted: false }, { id: mergedId, deleted: true }]);
    const mapped = await hs.sql`select remote_id, local_id, remote_deleted_at from sync.identity_map
                                 where connection_id = ${hs.connectionId} and entity_type = 'contact'
                                   and (local_id in (${survivorId}, ${mergedId}) or remote_id = ${mergedRemote.id})`;
    expect(mapped).toEqual([{ remote_id: survivorRemote.id, local_id: survivorId, remote_deleted_at: null }]);
    // Exactly one merge call, and no archive of any contact.
    const writes = (await hs.requests()).slice(before).filter(isObjectWrite);
    expect(writes.filter((r) => r.path === '/crm/v3/objects/contacts/merge' && r.method === 'POST').length).toBe(1);
    expect(writes.filter((r) => r.path.startsWith('/crm/v3/objects/contacts') && (r.path.includes('archive') || r.method === 'DELETE')))
      .toEqual([]);
    expect(await hs.sql`select error from sync.dead_letters where connection_id = ${hs.connectionId}`).toEqual([]);
    expect(await hs.queued('crm_outbound')).toBe(0);
  });
});
