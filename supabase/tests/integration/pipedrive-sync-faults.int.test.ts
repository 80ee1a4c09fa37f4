// Pipedrive end to end under trouble and with record-to-record changes:
// bursts of 429s and 5xx (lost answers included) recover without loss or
// duplicates; references (person-organization, deal-person,
// deal-organization) change both ways; merges made in Pipedrive and in the
// app land on the other side.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PipedriveSyncHarness, startPipedriveSync } from './pipedrive-sync-harness.ts';

let h: PipedriveSyncHarness;

beforeAll(async () => {
  h = await startPipedriveSync('faults');
}, 60_000);
afterAll(async () => {
  await h?.close();
});

const localContact = async (email: string) =>
  (await h.sql`select * from crm.contacts where tenant_id = ${h.tenantId} and email = ${email}`)[0];

describe('rate limits and outages', () => {
  it('a burst of 429s (Pipedrive allowing less than the budget says) pauses and recovers: every record once', async () => {
    await h.control('PUT', '/rate-limit', { burstLimit: 4, resetWindows: true });
    const emails = Array.from({ length: 16 }, (_, i) => `burst.${i}@limits.example`);
    for (const email of emails) {
      await h.sql`insert into crm.contacts (tenant_id, email, first_name) values (${h.tenantId}, ${email}, 'Burst')`;
    }
    await h.until('every contact in Pipedrive', async () => {
      await h.settle(30_000);
      const persons = (await h.simObjects('persons')).filter((p) => emails.includes(p.data.emails?.[0]?.value));
      return persons.length >= emails.length;
    }, 120_000); // records refused mid-batch retry with backoff: slow on a loaded machine, never lost
    const counters = await h.control('GET', '/counters');
    expect(counters.rateLimited.burst).toBeGreaterThan(0);
    const persons = (await h.simObjects('persons')).filter((p) => emails.includes(p.data.emails?.[0]?.value));
    expect(persons.length).toBe(emails.length);
    await h.control('PUT', '/rate-limit', { burstLimit: 40, resetWindows: true });
  }, 150_000);

  it('5xx answers, some after the write took effect, lose nothing and double nothing', async () => {
    await h.control('POST', '/faults', { mode: 'error', count: 2, pathPrefix: '/api/v2/organizations', method: 'POST', status: 503, applyFirst: true });
    await h.control('POST', '/faults', { mode: 'error', count: 2, pathPrefix: '/api/v2/organizations', method: 'POST', status: 500 });
    const names = Array.from({ length: 5 }, (_, i) => `Outage Co ${i}`);
    for (const name of names) await h.sql`insert into crm.companies (tenant_id, name) values (${h.tenantId}, ${name})`;
    await h.until('every company in Pipedrive', async () => {
      await h.settle(30_000);
      return (await h.simObjects('organizations')).filter((o) => names.includes(o.data.name)).length >= names.length;
    }, 60_000);
    const orgs = (await h.simObjects('organizations')).filter((o) => names.includes(o.data.name));
    expect(orgs.map((o) => o.data.name).sort()).toEqual(names);
    const mapped = await h.sql`select count(*)::int as n from sync.identity_map m join crm.companies c on c.id = m.local_id
                                where m.connection_id = ${h.connectionId} and c.name like 'Outage Co %'`;
    expect(mapped[0].n).toBe(names.length);
  }, 90_000);
});

describe('a person\'s name, written whole', () => {
  it('a user\'s edit of the other part, landing between the engine\'s read and its write, is restored everywhere', async () => {
    const [contact] = await h.sql`insert into crm.contacts (tenant_id, email, first_name, last_name)
                                  values (${h.tenantId}, 'ann.baker@names.example', 'Ann', 'Baker') returning id`;
    await h.settle();
    const personId = await h.remoteIdOf('contact', contact.id);
    expect(personId).toBeTruthy();

    // The engine reads "Ann Baker" and writes "Xia Baker"; its write is held on the way in while the user renames her "Ann Cole".
    await h.clearRequests();
    await h.control('POST', '/faults', { mode: 'delay', hangMs: 1_500, method: 'PATCH', pathPrefix: `/api/v2/persons/${personId}` });
    await h.sql`update crm.contacts set first_name = 'Xia' where id = ${contact.id}`;
    await h.until('the engine read the person before writing', async () => {
      const { results } = await h.control<{ results: { method: string; path: string }[] }>('GET', '/requests?limit=5000');
      return results.some((r) => r.method === 'GET' && r.path.startsWith('/api/v2/persons'));
    }, 10_000);
    await h.control('PATCH', `/objects/persons/${personId}`, { values: { name: 'Ann Cole' } });
    await h.until('the held write landed', async () => (await h.simObjects('persons')).find((p) => String(p.id) === personId)?.data.name !== 'Ann Cole', 10_000);

    await h.until('both parts everywhere', async () => {
      await h.settle(30_000);
      const person = (await h.simObjects('persons')).find((p) => String(p.id) === personId);
      return person?.data.name === 'Xia Cole';
    }, 60_000);
    const [local] = await h.sql`select first_name, last_name from crm.contacts where id = ${contact.id}`;
    expect(local).toEqual({ first_name: 'Xia', last_name: 'Cole' });
  }, 90_000);
});

describe('an edit made just before a deletion', () => {
  it('is kept on the deleted record (the fetch finds it gone; the webhook carried its last state), ready should it live on', async () => {
    const [contact] = await h.sql`insert into crm.contacts (tenant_id, email, first_name, last_name, lead_source)
                                  values (${h.tenantId}, 'gone.soon@names.example', 'Gone', 'Soon', 'seed') returning id`;
    await h.settle();
    const personId = await h.remoteIdOf('contact', contact.id);
    // Both webhooks arrive after the deletion: the fetch of either finds the person gone.
    await h.control('PUT', '/webhooks', { faults: { delayMs: 1_500 } });
    try {
      await h.control('PATCH', `/objects/persons/${personId}`, { values: { name: 'Gone Later' } });
      await h.control('DELETE', `/objects/persons/${personId}`);
      await h.until('the deletion applied', async () => {
        await h.settle(30_000);
        const [row] = await h.sql`select deleted_at from crm.contacts where id = ${contact.id}`;
        return row.deleted_at !== null;
      }, 60_000);
    } finally {
      await h.control('PUT', '/webhooks', { faults: { delayMs: 0 } });
    }
    const [local] = await h.sql`select first_name, last_name from crm.contacts where id = ${contact.id}`;
    expect(local).toEqual({ first_name: 'Gone', last_name: 'Later' });
    // The edit landed first, then the deletion, both on Pipedrive's behalf.
    const trail = await h.sql<{ source: string; fields: string }[]>`
      select source, (select string_agg(k, ',' order by k) from jsonb_object_keys(changes) k) as fields
        from audit.entries where entity_id = ${contact.id} and action <> 'created' order by occurred_at, id`;
    expect(trail).toEqual([{ source: 'pipedrive', fields: 'last_name' }, { source: 'pipedrive', fields: 'deleted_at' }]);
  }, 90_000);
});

describe('references', () => {
  it('a deal moved to another person and organization in Pipedrive moves locally, and back the other way', async () => {
    const orgA = await h.control('POST', '/objects/organizations', { values: { name: 'Ref Org A' } });
    const orgB = await h.control('POST', '/objects/organizations', { values: { name: 'Ref Org B' } });
    const personA = await h.control('POST', '/objects/persons', { values: { name: 'Ref A', emails: [{ value: 'ref.a@refs.example' }], org_id: orgA.id } });
    const personB = await h.control('POST', '/objects/persons', { values: { name: 'Ref B', emails: [{ value: 'ref.b@refs.example' }], org_id: orgB.id } });
    const deal = await h.control('POST', '/objects/deals', { values: { title: 'Ref deal', person_id: personA.id, org_id: orgA.id } });
    await h.settle();
    await h.control('PATCH', `/objects/deals/${deal.id}`, { values: { person_id: personB.id, org_id: orgB.id } });
    await h.settle();
    const [local] = await h.sql`select d.id, d.contact_id, d.company_id from crm.deals d where d.tenant_id = ${h.tenantId} and d.name = 'Ref deal'`;
    const contactB = await localContact('ref.b@refs.example');
    expect(local.contact_id).toBe(contactB.id);
    expect(local.company_id).toBe(contactB.company_id);

    // Locally back to A: one PATCH carrying both references.
    const contactA = await localContact('ref.a@refs.example');
    await h.clearRequests();
    await h.sql`update crm.deals set contact_id = ${contactA.id}, company_id = ${contactA.company_id} where id = ${local.id}`;
    await h.settle();
    const remote = (await h.simObjects('deals')).find((d) => d.id === deal.id)!;
    expect(remote.data).toMatchObject({ person_id: personA.id, org_id: orgA.id });
    expect(await h.apiWrites()).toEqual([{ method: 'PATCH', path: `/api/v2/deals/${deal.id}`, status: 200 }]);
  });
});

describe('merges', () => {
  it('a merge in Pipedrive soft-deletes the merged contact and moves its deal to the survivor', async () => {
    const keep = await h.control('POST', '/objects/persons', { values: { name: 'Keep Me', emails: [{ value: 'keep@merge.example' }] } });
    const fold = await h.control('POST', '/objects/persons', { values: { name: 'Fold Me', emails: [{ value: 'fold@merge.example' }] } });
    await h.control('POST', '/objects/deals', { values: { title: 'Merge deal', person_id: fold.id } });
    await h.settle();
    await h.control('POST', '/merge', { entity: 'persons', id: fold.id, mergeWithId: keep.id });
    await h.settle();
    const survivor = await localContact('keep@merge.example');
    const merged = await localContact('fold@merge.example');
    expect(survivor.deleted_at).toBeNull();
    expect(merged.deleted_at).not.toBeNull();
    const [deal] = await h.sql`select contact_id from crm.deals where tenant_id = ${h.tenantId} and name = 'Merge deal'`;
    expect(deal.contact_id).toBe(survivor.id);
  });

  it('a merge made in the app (merge_records) is one v1 merge in Pipedrive, the survivor\'s record kept', async () => {
    const [{ id: survivorId }] = await h.sql`insert into crm.contacts (tenant_id, email, first_name) values (${h.tenantId}, 'app.keep@merge.example', 'Keep') returning id`;
    const [{ id: mergedId }] = await h.sql`insert into crm.contacts (tenant_id, email, first_name) values (${h.tenantId}, 'app.fold@merge.example', 'Fold') returning id`;
    await h.settle();
    const survivorRemote = Number(await h.remoteIdOf('contact', survivorId));
    const mergedRemote = Number(await h.remoteIdOf('contact', mergedId));
    await h.clearRequests();
    await h.sql`select merge_records('contact', ${survivorId}, ${mergedId})`;
    await h.settle();
    const persons = await h.simObjects('persons', true);
    expect(persons.find((p) => p.id === mergedRemote)).toMatchObject({ deleted: true, mergedInto: survivorRemote });
    expect(persons.find((p) => p.id === survivorRemote)!.deleted).toBe(false);
    const writes = await h.apiWrites();
    expect(writes.filter((w) => w.path.endsWith('/merge'))).toEqual([{ method: 'PUT', path: `/v1/persons/${mergedRemote}/merge`, status: 200 }]);
    expect((await localContact('app.keep@merge.example')).deleted_at).toBeNull();
  });
});
