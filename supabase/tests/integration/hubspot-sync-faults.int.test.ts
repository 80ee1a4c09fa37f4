// The HubSpot sync under the faults a real account produces, end to end:
// webhooks duplicated and out of order, the echo of the engine's own writes,
// a burst of 429s and 5xx answers, and a worker that stops mid-batch. What
// must hold each time: the final state on both sides agrees, nothing is
// created twice, no change is lost, nothing is dead-lettered.
//
// Deliveries with a bad signature or from an unknown portal are refused
// before anything is queued: hubspot-webhook.int.test.ts covers them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HubSpotSyncHarness, isObjectWrite, type SimRecord, startHubSpotSync } from './hubspot-sync-harness.ts';

let hs: HubSpotSyncHarness;

beforeAll(async () => {
  hs = await startHubSpotSync('faults');
}, 60_000);

afterAll(async () => {
  await hs?.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function localIdOf(entityType: string, remoteId: string): Promise<string> {
  return await hs.until(`${entityType} ${remoteId} to be mapped`, async () => {
    const [row] = await hs.sql`select local_id from sync.identity_map
                                where connection_id = ${hs.connectionId} and entity_type = ${entityType} and remote_id = ${remoteId}`;
    return row?.local_id as string | undefined;
  });
}

/** Makes every queued outbound message of this connection visible now (skips retry backoff and delays). */
async function releaseOutbound() {
  await hs.sql`update pgmq.q_crm_outbound set vt = clock_timestamp() where message ->> 'connection_id' = ${hs.connectionId}`;
}

/** Drains (skipping backoff) until `probe` holds and this connection's outbound queue is empty. */
async function recover<T>(what: string, probe: () => Promise<T | null | undefined | false>, timeoutMs = 30_000): Promise<T> {
  return await hs.until(what, async () => {
    await releaseOutbound();
    await hs.drain();
    const value = await probe();
    return value && (await hs.queued('crm_outbound')) === 0 ? value : null;
  }, timeoutMs);
}

/** HubSpot records carrying one of these local ids, grouped by local id. */
async function byLocalId(type: string, localIds: string[]): Promise<Map<string, SimRecord[]>> {
  const wanted = new Set(localIds);
  const groups = new Map<string, SimRecord[]>();
  for (const record of await hs.simObjects(type)) {
    const localId = record.properties.forge_local_id;
    if (localId && wanted.has(localId)) groups.set(localId, [...(groups.get(localId) ?? []), record]);
  }
  return groups;
}

/** Webhooks in batches of up to 100 events, 20 ms apart, without faults. */
async function deliverWebhooksPromptly() {
  await hs.control('PUT', '/webhooks', {
    maxEventsPerRequest: 100,
    batchWindowMs: 20,
    faults: { duplicateProbability: 0, reorder: false, delayMs: 0 },
  });
}

async function deadLetters() {
  return await hs.sql`select queue_name, error from sync.dead_letters where connection_id = ${hs.connectionId}`;
}

describe('webhooks delivered twice and out of order', () => {
  it('leave the local records equal to HubSpot after a record changed several times', async () => {
    await hs.control('PUT', '/webhooks', {
      maxEventsPerRequest: 4,
      batchWindowMs: 10,
      faults: { seed: 20261125, duplicateProbability: 1, reorder: true, delayMs: 400 },
    });
    const statsBefore = (await hs.control('GET', '/webhooks')).stats;

    const company = await hs.control('POST', '/objects/companies', { properties: { name: 'Vandelay Industries', domain: 'vandelay.example' } });
    const contact = await hs.control('POST', '/objects/contacts', {
      properties: { email: 'art@vandelay.example', firstname: 'Art', lastname: 'Vandelay' },
    });
    const deal = await hs.control('POST', '/objects/deals', {
      properties: { dealname: 'Latex import', amount: '100', dealstage: 'appointmentscheduled', pipeline: 'default' },
    });
    const edits: [string, string, Record<string, string>][] = [
      ['contacts', contact.id, { firstname: 'Arthur' }],
      ['deals', deal.id, { dealstage: 'qualifiedtobuy', amount: '250' }],
      ['contacts', contact.id, { phone: '+1 212 555 0100', lastname: 'Vandelay Jr' }],
      ['deals', deal.id, { dealstage: 'presentationscheduled' }],
      ['contacts', contact.id, { firstname: 'Art' }],
      ['deals', deal.id, { amount: '1200.75', dealstage: 'contractsent' }],
      ['contacts', contact.id, { phone: '+1 212 555 0199' }],
      ['deals', deal.id, { dealstage: 'closedwon' }],
    ];
    for (const [type, id, properties] of edits) {
      await hs.control('PATCH', `/objects/${type}/${id}`, { properties });
      await sleep(40);
    }
    await hs.control('POST', '/associations', { fromObjectType: 'contacts', fromObjectId: contact.id, toObjectType: 'companies', toObjectId: company.id });
    await hs.control('POST', '/associations', { fromObjectType: 'deals', fromObjectId: deal.id, toObjectType: 'contacts', toObjectId: contact.id });
    // The company is deleted, restored and renamed: its events race each other too.
    await hs.control('DELETE', `/objects/companies/${company.id}`, {});
    await sleep(40);
    await hs.control('POST', `/objects/companies/${company.id}/restore`, {});
    await sleep(40);
    await hs.control('PATCH', `/objects/companies/${company.id}`, { properties: { name: 'Vandelay Industries International' } });

    await hs.settle(30_000);

    // The faults really happened: every event twice, batches delivered out of event order.
    const stats = (await hs.control('GET', '/webhooks')).stats;
    const created = stats.eventsCreated - statsBefore.eventsCreated;
    expect(created).toBeGreaterThan(20);
    expect(stats.eventsDuplicated - statsBefore.eventsDuplicated).toBe(created);
    const { results: deliveries } = await hs.control('GET', '/webhooks/deliveries?limit=2000');
    const firstIds = (deliveries as { eventIds: number[] }[]).map((d) => Math.min(...d.eventIds));
    expect(firstIds.some((id, i) => i > 0 && id < firstIds[i - 1])).toBe(true);

    const contactId = await localIdOf('contact', contact.id);
    const dealId = await localIdOf('deal', deal.id);
    const companyId = await localIdOf('company', company.id);
    const remoteContact = await hs.control('GET', `/objects/contacts/${contact.id}`);
    const remoteDeal = await hs.control('GET', `/objects/deals/${deal.id}`);
    const [localCompany] = await hs.sql`select name, deleted_at from crm.companies where id = ${companyId}`;
    expect(localCompany).toEqual({ name: 'Vandelay Industries International', deleted_at: null });
    const [localContact] = await hs.sql`select email, first_name, last_name, phone, company_id from crm.contacts where id = ${contactId}`;
    const [localDeal] = await hs.sql`select name, amount::float8 as amount, stage, status, contact_id from crm.deals where id = ${dealId}`;
    expect(localContact).toEqual({
      email: remoteContact.properties.email,
      first_name: remoteContact.properties.firstname,
      last_name: remoteContact.properties.lastname,
      phone: remoteContact.properties.phone,
      company_id: companyId,
    });
    expect(localContact).toMatchObject({ first_name: 'Art', last_name: 'Vandelay Jr', phone: '+1 212 555 0199' });
    expect(remoteDeal.properties).toMatchObject({ amount: '1200.75', dealstage: 'closedwon' });
    expect(localDeal).toEqual({ name: 'Latex import', amount: 1200.75, stage: 'closed_won', status: 'won', contact_id: contactId });
    expect(await deadLetters()).toEqual([]);
  });
});

describe('a company deleted and restored in HubSpot', () => {
  it('gives its contact the company again, although the contact was read while the company was gone', async () => {
    await deliverWebhooksPromptly();
    const company = await hs.control('POST', '/objects/companies', { properties: { name: 'Kramerica Industries', domain: 'kramerica.example' } });
    const contact = await hs.control('POST', '/objects/contacts', {
      properties: { email: 'cosmo@kramerica.example', firstname: 'Cosmo', lastname: 'Kramer' },
    });
    await hs.control('POST', '/associations', { fromObjectType: 'contacts', fromObjectId: contact.id, toObjectType: 'companies', toObjectId: company.id });
    const companyId = await localIdOf('company', company.id);
    const contactId = await localIdOf('contact', contact.id);
    const companyOfContact = async () =>
      (await hs.sql`select company_id from crm.contacts where id = ${contactId}`)[0].company_id as string | null;
    await hs.until('the contact to have its company', async () => (await companyOfContact()) === companyId);

    // Deleted: HubSpot hides the association, so the contact, read now, has no company.
    await hs.control('DELETE', `/objects/companies/${company.id}`, {});
    await hs.until('the deletion to arrive', async () =>
      (await hs.sql`select deleted_at from crm.companies where id = ${companyId}`)[0].deleted_at !== null);
    await hs.control('PATCH', `/objects/contacts/${contact.id}`, { properties: { phone: '+1 212 555 0142' } });
    await hs.until('the contact to be read while its company is gone', async () =>
      (await hs.sql`select phone from crm.contacts where id = ${contactId}`)[0].phone === '+1 212 555 0142');
    expect(await companyOfContact()).toBeNull();

    // Restored: the association is back in HubSpot, with no event for the contact.
    await hs.control('POST', `/objects/companies/${company.id}/restore`, {});
    await hs.until('the contact to have its company again', async () => (await companyOfContact()) === companyId);
    expect((await hs.sql`select deleted_at from crm.companies where id = ${companyId}`)[0].deleted_at).toBeNull();
    expect(await deadLetters()).toEqual([]);
  });
});

describe('the echo of a local edit', () => {
  it('costs exactly one HubSpot write and does not come back as a change', async () => {
    await deliverWebhooksPromptly();
    const [{ id }] = await hs.sql`select id from crm.contacts where tenant_id = ${hs.tenantId} and email = 'art@vandelay.example'`;
    const [{ remote_id: remoteId }] = await hs.sql`select remote_id from sync.identity_map where connection_id = ${hs.connectionId} and local_id = ${id}`;
    await hs.settle();
    const before = (await hs.requests()).length;
    const eventsBefore = (await hs.control('GET', '/webhooks')).stats.eventsCreated;

    await hs.sql`update crm.contacts set last_name = 'Vandelay III' where id = ${id}`;
    await hs.until('the edit to reach HubSpot', async () =>
      (await hs.control('GET', `/objects/contacts/${remoteId}`)).properties.lastname === 'Vandelay III');
    // The echo webhook is delivered and processed; then a few quiet seconds of draining.
    await hs.settle();
    const { results: events } = await hs.control('GET', '/webhooks/events?limit=200');
    expect(events).toContainEqual(expect.objectContaining({
      subscriptionType: 'contact.propertyChange', objectId: Number(remoteId), propertyName: 'lastname',
      propertyValue: 'Vandelay III', changeSource: 'INTEGRATION',
    }));
    for (let i = 0; i < 6; i++) {
      await sleep(500);
      await hs.control('POST', '/webhooks/flush', { timeoutMs: 5_000 });
      await hs.drain();
    }

    const writes = (await hs.requests()).slice(before).filter(isObjectWrite);
    expect(writes.map((w) => `${w.method} ${w.path}`)).toEqual(['POST /crm/v3/objects/contacts/batch/update']);
    // The only webhook events since the edit are its echo.
    const { stats } = await hs.control('GET', '/webhooks');
    const { results: recent } = await hs.control('GET', `/webhooks/events?limit=${stats.eventsCreated - eventsBefore}`);
    expect(recent.map((e: { propertyName?: string }) => e.propertyName)).toEqual(['lastname']);
    const [row] = await hs.sql`select last_name from crm.contacts where id = ${id}`;
    expect(row.last_name).toBe('Vandelay III');
    expect(await hs.queued('crm_inbound')).toBe(0);
    expect(await hs.queued('crm_outbound')).toBe(0);
  });

  it('holds for a deal stage moved locally too (stage and pipeline are written, read back and mapped to the same stage)', async () => {
    const [{ id }] = await hs.sql`select id from crm.deals where tenant_id = ${hs.tenantId} and name = 'Latex import'`;
    const [{ remote_id: remoteId }] = await hs.sql`select remote_id from sync.identity_map where connection_id = ${hs.connectionId} and local_id = ${id}`;
    await hs.settle();
    const before = (await hs.requests()).length;

    await hs.sql`update crm.deals set stage = 'negotiation', status = 'open', amount = 1500 where id = ${id}`;
    await hs.until('the stage to reach HubSpot', async () =>
      (await hs.control('GET', `/objects/deals/${remoteId}`)).properties.dealstage === 'decisionmakerboughtin');
    await hs.settle();
    for (let i = 0; i < 4; i++) {
      await sleep(500);
      await hs.control('POST', '/webhooks/flush', { timeoutMs: 5_000 });
      await hs.drain();
    }

    const writes = (await hs.requests()).slice(before).filter(isObjectWrite);
    expect(writes.map((w) => `${w.method} ${w.path}`)).toEqual(['POST /crm/v3/objects/deals/batch/update']);
    const [row] = await hs.sql`select stage, status, amount::float8 as amount from crm.deals where id = ${id}`;
    expect(row).toEqual({ stage: 'negotiation', status: 'open', amount: 1500 });
  });
});

describe('a burst of 429s and 5xx answers from the API', () => {
  it('delays 50 local contacts, which then exist in HubSpot exactly once each, with nothing dead-lettered', async () => {
    const pauseMs = 2_000;
    // HubSpot says how long to back off in X-HubSpot-RateLimit-Interval-Milliseconds; a short window keeps the test short.
    await hs.control('PUT', '/rate-limit', { intervalMs: pauseMs, resetWindows: true });
    const [{ id: companyId }] = await hs.sql`insert into crm.companies (tenant_id, name, domain)
                                              values (${hs.tenantId}, 'Kramerica', 'kramerica.example') returning id`;
    const company = await recover('the company to reach HubSpot', () => hs.simByLocalId('companies', companyId));
    await hs.settle();

    await hs.control('POST', '/faults', { mode: 'rate-limit', count: 3 });
    await hs.control('POST', '/faults', { mode: 'error', status: 503, count: 2 });
    await hs.control('POST', '/faults', { mode: 'error', status: 502, body: 'html', count: 1 });
    await hs.control('POST', '/faults', { mode: 'error', status: 500, count: 1 });
    const injectedBefore = (await hs.control('GET', '/faults')).injected;
    const logBefore = (await hs.requests()).length;

    const rows = await hs.sql`insert into crm.contacts (tenant_id, email, first_name, company_id)
                              select ${hs.tenantId}, format('intern%s@kramerica.example', n), format('Intern %s', n),
                                     case when n % 2 = 0 then ${companyId}::uuid end
                                from generate_series(1, 50) n returning id`;
    const localIds = rows.map((r) => r.id as string);

    const groups = await recover('all 50 contacts to reach HubSpot', async () => {
      const found = await byLocalId('contacts', localIds);
      return found.size === 50 ? found : null;
    }, 45_000);

    const faults = await hs.control('GET', '/faults');
    expect(faults.results).toEqual([]);
    expect(faults.injected - injectedBefore).toBe(7);
    expect([...groups.values()].every((records) => records.length === 1)).toBe(true);
    const mapped = await hs.sql`select local_id, remote_id from sync.identity_map
                                 where connection_id = ${hs.connectionId} and local_id = any (${localIds}::uuid[])`;
    expect(mapped).toHaveLength(50);
    for (const { local_id, remote_id } of mapped) expect(groups.get(local_id)![0].id).toBe(remote_id);
    const withCompany = rows.filter((_, i) => (i + 1) % 2 === 0).map((r) => r.id as string);
    for (const localId of withCompany) {
      expect(groups.get(localId)![0].associations.companies?.map((a) => a.id)).toEqual([company.id]);
    }
    expect(await deadLetters()).toEqual([]);

    // Each 429 paused the connection: no request started in the window it asked to wait.
    const log = (await hs.requests()).slice(logBefore).map((r) => ({ ...r, start: Date.parse(r.at) }));
    const limited = log.filter((r) => r.status === 429);
    expect(limited).toHaveLength(3);
    for (const hit of limited) {
      const answered = hit.start + hit.durationMs;
      const early = log.filter((r) => r.start > answered + 200 && r.start < hit.start + pauseMs - 200);
      expect(early).toEqual([]);
    }
    await hs.control('PUT', '/rate-limit', { intervalMs: 10_000, resetWindows: true });
  });
});

describe('a worker stopped mid-batch', () => {
  it('leaves the messages it read; once visible again they sync each record once, with the change made meanwhile', async () => {
    // A worker reads the batch (pgmq.read makes it invisible for 60 s) and dies without deleting it.
    const ids = await hs.sql.begin(async (tx) => {
      const rows = await tx`insert into crm.contacts (tenant_id, email, first_name)
                            select ${hs.tenantId}, format('lost%s@pendant.example', n), 'Before'
                              from generate_series(1, 5) n returning id`;
      const read = await tx`select msg_id from pgmq.read('crm_outbound', 60, 100,
                                                         jsonb_build_object('connection_id', ${hs.connectionId}::text))`;
      expect(read).toHaveLength(5);
      return rows.map((r) => r.id as string);
    });
    await hs.drain();
    expect((await byLocalId('contacts', ids)).size).toBe(0);
    await hs.sql`update crm.contacts set first_name = 'After' where id = ${ids[0]}`;

    // Its visibility timeout runs out (here: at once, not in 60 s).
    const groups = await recover('the contacts to reach HubSpot', async () => {
      const found = await byLocalId('contacts', ids);
      return found.size === 5 ? found : null;
    });
    expect([...groups.values()].map((records) => records.length)).toEqual([1, 1, 1, 1, 1]);
    expect(groups.get(ids[0])![0].properties.firstname).toBe('After');
    await hs.settle();
    expect((await byLocalId('contacts', ids)).get(ids[0])).toHaveLength(1);
    expect(await deadLetters()).toEqual([]);
  });

  it('retries a batch upsert that hung until the connection was cut: each record once', async () => {
    await hs.control('POST', '/faults', { mode: 'timeout', pathPrefix: '/crm/v3/objects/contacts/batch/upsert', count: 1, hangMs: 1_500 });
    const rows = await hs.sql`insert into crm.contacts (tenant_id, email, first_name)
                              select ${hs.tenantId}, format('hung%s@pendant.example', n), 'Hung'
                                from generate_series(1, 5) n returning id`;
    const ids = rows.map((r) => r.id as string);
    await hs.drain(1_000);
    await hs.until('the upsert to hit the fault', async () => (await hs.control('GET', '/faults')).results.length === 0);
    await hs.sql`update crm.contacts set last_name = 'Meanwhile' where id = ${ids[1]}`;
    const groups = await recover('the contacts to reach HubSpot', async () => {
      const found = await byLocalId('contacts', ids);
      return found.size === 5 && found.get(ids[1])?.[0].properties.lastname === 'Meanwhile' ? found : null;
    });
    expect([...groups.values()].map((records) => records.length)).toEqual([1, 1, 1, 1, 1]);
    const requests = (await hs.requests()).filter((r) => r.path === '/crm/v3/objects/contacts/batch/upsert');
    expect(requests.some((r) => r.outcome === 'fault')).toBe(true);
    expect(await deadLetters()).toEqual([]);
  });

  /**
   * The worker's batch upsert takes effect in HubSpot but its answer is lost
   * (the connection is cut): the worker cannot know whether it happened.
   * Meanwhile the webhook echo of those creates arrives and another worker
   * takes it; then the batch is retried.
   */
  async function upsertWithLostAnswer(objectType: 'contacts' | 'deals', create: () => Promise<string[]>, edit: (id: string) => Promise<void>) {
    await hs.settle();
    await hs.control('POST', '/faults', {
      mode: 'timeout', applyFirst: true, hangMs: 2_000, count: 1, method: 'POST', pathPrefix: `/crm/v3/objects/${objectType}/batch/upsert`,
    });
    const ids = await create();
    void hs.drain(1_000).catch(() => {});
    await hs.until('the upsert to take effect in HubSpot', async () => (await byLocalId(objectType, ids)).size === ids.length, 10_000);
    await hs.control('POST', '/webhooks/flush', { timeoutMs: 5_000 });
    await hs.drain();
    await edit(ids[0]);
    await sleep(2_000); // the cut-off worker gives up on its request
    await recover('the outbound queue to drain', async () => true);
    await hs.settle();
    const requests = (await hs.requests()).filter((r) => r.path === `/crm/v3/objects/${objectType}/batch/upsert`);
    expect(requests.some((r) => r.outcome === 'fault')).toBe(true);
    return ids;
  }

  it('whose upsert reached HubSpot but whose answer was lost: the retry finds the records instead of duplicating them', async () => {
    const ids = await upsertWithLostAnswer('contacts', async () => {
      const rows = await hs.sql`insert into crm.contacts (tenant_id, email, first_name)
                                select ${hs.tenantId}, format('lost-answer%s@pendant.example', n), 'Lost'
                                  from generate_series(1, 5) n returning id`;
      return rows.map((r) => r.id as string);
    }, async (id) => {
      await hs.sql`update crm.contacts set first_name = 'Changed meanwhile' where id = ${id}`;
    });

    const final = await byLocalId('contacts', ids);
    expect([...final.values()].map((records) => records.length)).toEqual([1, 1, 1, 1, 1]);
    expect(final.get(ids[0])![0].properties.firstname).toBe('Changed meanwhile');
    const mapped = await hs.sql`select local_id, remote_id from sync.identity_map
                                 where connection_id = ${hs.connectionId} and local_id = any (${ids}::uuid[])`;
    expect(new Map(mapped.map((m) => [m.local_id, m.remote_id]))).toEqual(new Map(ids.map((id) => [id, final.get(id)![0].id])));
    const local = await hs.sql`select first_name from crm.contacts
                                where tenant_id = ${hs.tenantId} and email like 'lost-answer%@pendant.example' and deleted_at is null`;
    expect(local.map((r) => r.first_name).sort()).toEqual(['Changed meanwhile', 'Lost', 'Lost', 'Lost', 'Lost']);
    expect(await deadLetters()).toEqual([]);
  });

  it('whose upsert of records without a natural key (deals) reached HubSpot with the answer lost: no duplicate on either side', async () => {
    const ids = await upsertWithLostAnswer('deals', async () => {
      const rows = await hs.sql`insert into crm.deals (tenant_id, name, amount)
                                select ${hs.tenantId}, format('Lost answer deal %s', n), n * 100
                                  from generate_series(1, 3) n returning id`;
      return rows.map((r) => r.id as string);
    }, async (id) => {
      await hs.sql`update crm.deals set amount = 999 where id = ${id}`;
    });

    const final = await byLocalId('deals', ids);
    expect([...final.values()].map((records) => records.length)).toEqual([1, 1, 1]);
    expect(final.get(ids[0])![0].properties.amount).toBe('999');
    expect((await hs.simObjects('deals')).filter((r) => r.properties.dealname?.startsWith('Lost answer deal'))).toHaveLength(3);
    const local = await hs.sql`select id, amount::int as amount from crm.deals
                                where tenant_id = ${hs.tenantId} and name like 'Lost answer deal %' and deleted_at is null order by name`;
    expect(local).toEqual([{ id: ids[0], amount: 999 }, { id: ids[1], amount: 200 }, { id: ids[2], amount: 300 }]);
    const mapped = await hs.sql`select local_id, remote_id from sync.identity_map
                                 where connection_id = ${hs.connectionId} and entity_type = 'deal'
                                   and remote_id = any (${ids.map((id) => final.get(id)![0].id)}::text[])`;
    expect(new Map(mapped.map((m) => [m.local_id, m.remote_id]))).toEqual(new Map(ids.map((id) => [id, final.get(id)![0].id])));
    expect(await deadLetters()).toEqual([]);
  });
});
