// The database as the hub: one tenant connected to HubSpot and to Pipedrive
// (both simulators). A change in either CRM reaches the other through
// Postgres, and everything settles after one write per side: no loop
// between the three.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HubSpotSyncHarness, isObjectWrite, startHubSpotSync } from './hubspot-sync-harness.ts';
import { type PipedriveSyncHarness, startPipedriveSync } from './pipedrive-sync-harness.ts';

let hs: HubSpotSyncHarness;
let pd: PipedriveSyncHarness;

beforeAll(async () => {
  hs = await startHubSpotSync('hub');
  pd = await startPipedriveSync('hub', {}, { sql: hs.sql, tenantId: hs.tenantId });
}, 90_000);
afterAll(async () => {
  await pd?.close();
  await hs?.close();
});

async function settleAll() {
  for (let i = 0; i < 2; i++) {
    await hs.settle();
    await pd.settle();
  }
}

const hubSpotWrites = async () => (await hs.requests()).filter(isObjectWrite).length;

describe('HubSpot ⇄ Postgres ⇄ Pipedrive', () => {
  it('a contact made in HubSpot reaches Pipedrive, and an edit in Pipedrive reaches HubSpot, one write per side', async () => {
    await settleAll();
    const hsWritesBefore = await hubSpotWrites();
    await pd.clearRequests();
    const created = await hs.control('POST', '/objects/contacts', {
      properties: { email: 'hub.person@hooli.example', firstname: 'Hub', lastname: 'Person', phone: '+1 555 0101' },
    });
    await settleAll();

    const [row] = await hs.sql`select id, phone from crm.contacts where tenant_id = ${hs.tenantId} and email = 'hub.person@hooli.example'`;
    expect(row.phone).toBe('+1 555 0101');
    const personId = Number(await pd.remoteIdOf('contact', row.id));
    const person = (await pd.simObjects('persons')).find((p) => p.id === personId)!;
    expect(person.data).toMatchObject({ name: 'Hub Person', emails: [{ value: 'hub.person@hooli.example' }] });
    expect(await pd.apiWrites()).toEqual([{ method: 'POST', path: '/api/v2/persons', status: 200 }]);
    expect(await hubSpotWrites()).toBe(hsWritesBefore);

    // Back the other way: a person edits the phone in Pipedrive.
    await pd.clearRequests();
    await pd.control('PATCH', `/objects/persons/${personId}`, { values: { phones: [{ value: '+1 555 0202', primary: true }] } });
    await settleAll();
    await new Promise((r) => setTimeout(r, 500));
    await settleAll();

    const [after] = await hs.sql`select phone from crm.contacts where id = ${row.id}`;
    expect(after.phone).toBe('+1 555 0202');
    const remote = await hs.control('GET', `/objects/contacts/${created.id}`);
    expect(remote.properties.phone).toBe('+1 555 0202');
    expect(await hubSpotWrites()).toBe(hsWritesBefore + 1);
    expect(await pd.apiWrites()).toEqual([]);
  });
});
