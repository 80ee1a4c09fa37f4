// GDPR end to end: a person planted in every place (the contact synced from
// the HubSpot simulator, activities and tasks, audit entries, shadows, queue
// messages waiting and archived, dead letters, webhook receipts) is erased
// through the gdpr function; afterwards no text or JSON column of any table
// holds the name, email or phone, the simulator no longer has the person,
// and a tombstone says who asked, when, and that HubSpot confirmed. A
// privacy deletion made in HubSpot erases the same way; the access export
// returns what is held.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HubSpotSyncHarness, startHubSpotSync } from './hubspot-sync-harness.ts';
import { functionUrl } from './stack-env.ts';
import { columnsHolding } from './trace-scan.ts';

let hs: HubSpotSyncHarness;

beforeAll(async () => {
  hs = await startHubSpotSync('gdpr');
}, 60_000);

afterAll(async () => {
  await hs?.close();
});

async function gdpr(method: string, path: string, body?: unknown, key = hs.env.serviceRoleKey) {
  const res = await fetch(`${functionUrl(hs.env, 'gdpr')}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

async function localIdOf(remoteId: string): Promise<string> {
  return await hs.until(`contact ${remoteId} to be mapped`, async () => {
    const [row] = await hs.sql`select local_id from sync.identity_map
                                where connection_id = ${hs.connectionId} and entity_type = 'contact' and remote_id = ${remoteId}`;
    return row?.local_id as string | undefined;
  });
}

/** Every record of every object type in the simulator, archived ones too, as JSON text. */
async function simulatorText(): Promise<string> {
  const types = ['contacts', 'companies', 'deals', 'notes', 'calls', 'meetings', 'emails'];
  const all = await Promise.all(types.map((t) => hs.simObjects(t, true)));
  return JSON.stringify(all).toLowerCase();
}

describe('erasing a person through the gdpr function', () => {
  const person = { email: 'ottoline.vexmoor@gdpr.example', firstname: 'Ottoline', lastname: 'Vexmoor', phone: '+44 20 7946 0558' };
  const needles = [person.email, person.lastname, `${person.firstname} ${person.lastname}`, person.phone];
  let localId: string;
  let remoteId: string;

  it('finds the person planted everywhere, and exports it', async () => {
    const created = await hs.control('POST', '/objects/contacts', { properties: person });
    remoteId = created.id;
    localId = await localIdOf(remoteId);
    await hs.sql`update crm.contacts set lifecycle_stage = 'lead' where id = ${localId}`;
    await hs.sql`insert into crm.activities (tenant_id, type, subject, body, contact_id)
                 values (${hs.tenantId}, 'note', ${`Met ${person.firstname} ${person.lastname}`}, ${`Reach them at ${person.phone}`}, ${localId})`;
    await hs.sql`insert into crm.tasks (tenant_id, title, contact_id) values (${hs.tenantId}, ${`Email ${person.email}`}, ${localId})`;
    await hs.settle();
    await hs.until('the note to reach HubSpot', async () => (await simulatorText()).includes(person.phone));
    // Work still waiting, work archived, work that failed for good.
    await hs.sql`select pgmq.send('crm_inbound', ${hs.sql.json({ connection_id: hs.connectionId, event: {
      subscriptionType: 'contact.propertyChange', objectId: Number(remoteId), propertyName: 'email', propertyValue: person.email } })}, 3600)`;
    await hs.sql`select pgmq.archive('crm_inbound', pgmq.send('crm_inbound', ${hs.sql.json({ connection_id: hs.connectionId, event: {
      subscriptionType: 'contact.propertyChange', objectId: Number(remoteId), propertyName: 'lastname', propertyValue: person.lastname } })}, 3600))`;
    await hs.sql`insert into sync.dead_letters (queue_name, connection_id, tenant_id, message, error, attempts)
                 values ('crm_outbound', ${hs.connectionId}, ${hs.tenantId},
                         ${hs.sql.json({ connection_id: hs.connectionId, entity_type: 'contact', local_id: localId, op: 'upsert' })},
                         ${`HubSpot 409: Contact already exists: ${person.email}`}, 8)`;

    const before = await columnsHolding(hs.sql, needles);
    expect(before).toEqual(expect.arrayContaining([
      'crm.activities.body', 'crm.activities.subject', 'crm.contacts.email', 'crm.contacts.last_name', 'crm.contacts.phone',
      'crm.tasks.title', 'pgmq.a_crm_inbound.message', 'pgmq.q_crm_inbound.message', 'sync.dead_letters.error',
      'sync.identity_map.base',
    ]));
    expect(before.some((c) => c.startsWith('audit.entries'))).toBe(true);
    expect((await hs.sql`select 1 from sync.webhook_receipts where connection_id = ${hs.connectionId} and dedupe_key like ${`contact.%|${remoteId}|%`}`).length)
      .toBeGreaterThan(0);

    const exported = await gdpr('GET', `/export?tenant_id=${hs.tenantId}&email=${encodeURIComponent(person.email.toUpperCase())}`);
    expect(exported.status).toBe(200);
    const [doc] = exported.body.exports;
    expect(doc.contact).toMatchObject({ id: localId, email: person.email, phone: person.phone });
    expect(doc.activities.map((a: { body: string }) => a.body)).toEqual([`Reach them at ${person.phone}`]);
    expect(doc.tasks.map((t: { title: string }) => t.title)).toEqual([`Email ${person.email}`]);
    expect(doc.crm_records).toEqual([expect.objectContaining({ provider: 'hubspot', remote_id: remoteId })]);
    // Created by the engine from HubSpot; updated by a server-side write.
    expect(doc.audit).toEqual(expect.arrayContaining([
      expect.objectContaining({ action: 'created', source: 'hubspot', actor_connection_id: hs.connectionId }),
      expect.objectContaining({ action: 'updated', source: 'system', changes: { lifecycle_stage: { old: null, new: 'lead' } } }),
    ]));
    expect(doc.dead_letters).toHaveLength(1);
  }, 60_000);

  it('leaves no trace in any table or in HubSpot, and a tombstone', async () => {
    const started = new Date();
    const res = await gdpr('POST', '/erasures', { contact_id: localId, requested_by: 'privacy-desk ticket 4711' });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const [erasure] = res.body.erasures;
    expect(erasure).toMatchObject({ contact_id: localId, requested_by: 'privacy-desk ticket 4711', completed_at: null,
                                    crms: [{ connection_id: hs.connectionId, provider: 'hubspot', status: 'queued', error: null }] });

    const done = await hs.until('HubSpot to confirm the erasure', async () => {
      await hs.drain();
      const status = await gdpr('GET', `/erasures/${erasure.erasure_id}`);
      return status.body.completed_at ? status.body : null;
    });
    expect(done.crms).toEqual([{ connection_id: hs.connectionId, provider: 'hubspot', status: 'erased', error: null }]);
    expect(new Date(done.requested_at).getTime()).toBeGreaterThanOrEqual(started.getTime() - 1000);
    await hs.settle();

    expect(await columnsHolding(hs.sql, needles)).toEqual([]);
    expect(await simulatorText()).not.toContain(person.email);
    expect(await simulatorText()).not.toContain(person.phone.toLowerCase());
    expect(await simulatorText()).not.toContain(person.lastname.toLowerCase());
    const gone = await fetch(`${hs.sim.url}/_sim/objects/contacts/${remoteId}`);
    expect(gone.status).toBe(404);
    expect(await hs.sql`select 1 from sync.webhook_receipts where connection_id = ${hs.connectionId}
                                                          and dedupe_key like ${`contact.propertyChange|${remoteId}|%`}`).toEqual([]);
    const [tombstone] = await hs.sql`select action, changes from audit.entries where entity_id = ${localId} order by id desc limit 1`;
    expect(tombstone).toEqual({ action: 'gdpr_deleted', changes: {} });
    expect(await hs.sql`select error from sync.dead_letters where connection_id = ${hs.connectionId}`).toEqual([]);
  }, 60_000);

  it('answers bad requests with a clear status', async () => {
    expect((await gdpr('POST', '/erasures', { contact_id: 'nope', requested_by: 'x' })).status).toBe(400);
    expect((await gdpr('POST', '/erasures', { contact_id: localId })).status).toBe(400);
    expect((await gdpr('POST', '/erasures', { contact_id: crypto.randomUUID(), requested_by: 'x' })).status).toBe(404);
    expect((await gdpr('GET', `/export?contact_id=${localId}`)).status).toBe(404);
    expect((await gdpr('GET', '/export')).status).toBe(400);
    expect((await gdpr('POST', '/erasures', { contact_id: localId, requested_by: 'x' }, hs.env.anonKey)).status).toBe(403);
  });
});

describe('a privacy deletion made in HubSpot', () => {
  it('erases the person locally the same way, with the connection as the one who asked', async () => {
    const person = { email: 'quill.ambrose@gdpr.example', firstname: 'Quill', lastname: 'Ambrosewaite', phone: '+44 20 7946 0773' };
    const created = await hs.control('POST', '/objects/contacts', { properties: person });
    const localId = await localIdOf(created.id);
    await hs.sql`insert into crm.activities (tenant_id, type, subject, contact_id) values (${hs.tenantId}, 'call', ${`Call ${person.phone}`}, ${localId})`;
    await hs.settle();

    await hs.control('POST', `/objects/contacts/${created.id}/gdpr-delete`, {});
    await hs.until('the local contact to be erased', async () =>
      (await hs.sql`select 1 from privacy.erasures where local_id = ${localId}`).length > 0);
    await hs.settle();
    expect(await columnsHolding(hs.sql, [person.email, person.lastname, person.phone])).toEqual([]);
    const [erasure] = await hs.sql`select requested_by, completed_at is not null as completed from privacy.erasures where local_id = ${localId}`;
    expect(erasure).toEqual({ requested_by: `connection:${hs.connectionId}`, completed: true });
  }, 60_000);
});
