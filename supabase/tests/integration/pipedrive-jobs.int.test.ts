// Batch sync jobs against the Pipedrive simulator, end to end through the
// sync-jobs function (chains of bounded runs kicked by pg_net): a backfill of
// a few thousand persons and organizations lands each once with its
// organization; events lost to a webhook ban are recovered by an incremental
// job (a person deleted meanwhile, which the API does not list, by
// reconciliation); drift planted in Pipedrive behind the engine's back (no
// webhook at all: fields, a person's organization, a deletion) is found by a
// reconciliation of both entity types side by side, stored and repaired.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseWrite } from '../../../scripts/simulators/pipedrive/entities.ts';
import { type PipedriveSyncHarness, type SimEntity, startPipedriveSync } from './pipedrive-sync-harness.ts';
import { jobsApi as sharedJobsApi, mappedCount as sharedMappedCount } from './job-probes.ts';

let h: PipedriveSyncHarness;
const ORGS = 400;
const PERSONS = 2600;

const jobsApi = (method: string, route = '', body?: unknown) => sharedJobsApi(h.env, method, route, body);

async function runJob(body: Record<string, unknown>, timeoutMs = 45_000) {
  const started = await jobsApi('POST', '', { connection_id: h.connectionId, ...body });
  expect(started.status, JSON.stringify(started.body)).toBe(201);
  return await h.until(`${body.kind} job to finish`, async () => {
    const { body: status } = await jobsApi('GET', `/${started.body.job.id}`);
    return ['done', 'failed', 'paused'].includes(status.job?.status) ? status.job : null;
  }, timeoutMs);
}

const mappedCount = (entityType: string) => sharedMappedCount(h.sql, h.connectionId, entityType);

/** Local contacts and companies by remote id, as the fields compared with Pipedrive. */
async function localByRemote(entityType: 'contact' | 'company') {
  const rows = entityType === 'contact'
    ? await h.sql<{ remote_id: string; view: string }[]>`
        select m.remote_id, json_build_object('first_name', c.first_name, 'last_name', c.last_name, 'email', c.email,
               'org', (select o.remote_id from sync.identity_map o where o.connection_id = m.connection_id and o.local_id = c.company_id),
               'deleted', c.deleted_at is not null)::text as view
          from sync.identity_map m join crm.contacts c on c.id = m.local_id
         where m.connection_id = ${h.connectionId} and m.entity_type = 'contact'`
    : await h.sql<{ remote_id: string; view: string }[]>`
        select m.remote_id, json_build_object('name', c.name, 'deleted', c.deleted_at is not null)::text as view
          from sync.identity_map m join crm.companies c on c.id = m.local_id
         where m.connection_id = ${h.connectionId} and m.entity_type = 'company'`;
  return new Map(rows.map((r) => [r.remote_id, JSON.parse(r.view)]));
}

const remoteView = (entityType: 'contact' | 'company', e: SimEntity) => entityType === 'contact'
  ? {
    first_name: e.data.first_name ?? null, last_name: e.data.last_name ?? null,
    email: (e.data.emails ?? []).find((m: { primary?: boolean }) => m.primary)?.value?.toLowerCase() ?? null,
    org: e.data.org_id ? String(e.data.org_id) : null, deleted: e.deleted,
  }
  : { name: e.data.name, deleted: e.deleted };

/** Every live Pipedrive record of the type is mapped once and equal locally; deleted ones are soft-deleted (as they last were). */
async function expectLocalEqualsPipedrive(entityType: 'contact' | 'company') {
  const remote = await h.simObjects(entityType === 'contact' ? 'persons' : 'organizations', true);
  const local = await localByRemote(entityType);
  const live = remote.filter((e) => !e.deleted);
  expect(local.size).toBe(live.length + remote.filter((e) => e.deleted && local.has(String(e.id))).length);
  const differing = remote
    .filter((e) => !e.deleted || local.has(String(e.id)))
    .filter((e) => e.deleted ? local.get(String(e.id))?.deleted !== true
      : JSON.stringify(local.get(String(e.id))) !== JSON.stringify(remoteView(entityType, e)))
    .map((e) => ({ id: e.id, local: local.get(String(e.id)) ?? null, remote: remoteView(entityType, e) }));
  expect(differing.slice(0, 5), `${differing.length} ${entityType} records differ`).toEqual([]);
}

/** A change in Pipedrive that sends no webhook at all: behind the engine's back. */
function silentUpdate(entity: 'person' | 'organization', id: number, values: Record<string, unknown>) {
  const state = h.sim.state;
  state.store.update(entity, id, parseWrite(entity, values), { ...state.appActor(), silent: true });
}

beforeAll(async () => {
  h = await startPipedriveSync('jobs', { rateLimit: { burstLimit: 400 } });
  // A larger burst than the API token's keeps the test short; the rate limit itself is the bench's subject.
  // The jobs here are the test's own: none from the hourly schedule when the run crosses the hour.
  await h.sql`update sync.connections set settings = settings || '{"rate_limit": {"max_requests": 400, "interval_ms": 2000}, "scheduled_jobs": false}'
               where id = ${h.connectionId}`;
  await h.sql`delete from sync.rate_budgets where connection_id = ${h.connectionId}`;
  await h.control('POST', '/seed', { entity: 'organizations', count: ORGS });
  await h.control('POST', '/seed', { entity: 'persons', count: PERSONS });
}, 60_000);

afterAll(async () => {
  await h?.close(); // the connection's jobs, marks and drift go with it
});

describe('Pipedrive batch jobs', () => {
  it('backfills a few thousand persons and organizations across bounded runs, each once, with their organization', async () => {
    const job = await runJob({ kind: 'backfill', entity_types: ['company', 'contact'], budget_ms: 2_000, max_records: 500 });
    expect(job.status, job.error).toBe('done');
    expect(job.done).toBe(ORGS + PERSONS);
    expect(job.invocations).toBeGreaterThanOrEqual(4);
    expect(job.entities).toEqual({ company: { done: ORGS, finished: true }, contact: { done: PERSONS, finished: true } });
    expect(await mappedCount('company')).toBe(ORGS);
    expect(await mappedCount('contact')).toBe(PERSONS);
    const [counts] = await h.sql`select (select count(*)::int from crm.contacts where tenant_id = ${h.tenantId}) as contacts,
                                        (select count(*)::int from crm.companies where tenant_id = ${h.tenantId}) as companies`;
    expect(counts).toEqual({ contacts: PERSONS, companies: ORGS });
    const withOrg = (await h.simObjects('persons')).filter((p) => p.data.org_id).length;
    expect(withOrg).toBeGreaterThan(PERSONS / 2);
    await expectLocalEqualsPipedrive('company');
    await expectLocalEqualsPipedrive('contact');
  }, 60_000);

  it('changes lost to a webhook ban never arrive by webhook; an incremental job recovers them', async () => {
    await h.settle();
    // Ten failed first deliveries in a row ban a webhook (for 30 scaled minutes: a long while here).
    await h.control('PUT', '/webhooks', { banDurationMs: 30 * 60_000 * 500 });
    const subscriptions = h.sim.state.webhooks.list();
    const urls = new Map(subscriptions.map((s) => [s.id, s.subscriptionUrl]));
    for (const s of subscriptions) s.subscriptionUrl = 'http://127.0.0.1:9/unreachable';
    const persons = (await h.simObjects('persons')).slice(0, 16);
    const orgs = (await h.simObjects('organizations')).slice(0, 12);
    for (const [i, p] of persons.slice(0, 10).entries()) {
      await h.control('PATCH', `/objects/persons/${p.id}`, { values: { name: `Failed Delivery${i}` } });
    }
    for (const [i, o] of orgs.slice(0, 10).entries()) {
      await h.control('PATCH', `/objects/organizations/${o.id}`, { values: { name: `Failed Org ${i}` } });
    }
    await h.control('POST', '/webhooks/flush', { timeoutMs: 10_000 });
    const health = await h.control<{ subscriptions: { id: number; event_object: string }[]; webhooks: Record<string, { bans: number; bannedUntil: string | null }> }>('GET', '/webhooks');
    for (const object of ['person', 'organization']) {
      const id = health.subscriptions.find((s) => s.event_object === object)!.id;
      expect(health.webhooks[id].bans, `${object} webhook banned`).toBe(1);
      expect(Date.parse(health.webhooks[id].bannedUntil!)).toBeGreaterThan(Date.now() + 60_000);
    }

    // The endpoint works again, but the ban holds: these changes are lost too.
    for (const s of subscriptions) s.subscriptionUrl = urls.get(s.id)!;
    const lostBefore = (await h.control('GET', '/webhooks')).stats.eventsLost;
    for (const [i, p] of persons.slice(10).entries()) {
      await h.control('PATCH', `/objects/persons/${p.id}`, { values: { name: `During Ban${i}`, org_id: orgs[11].id } });
    }
    await h.control('PATCH', `/objects/organizations/${orgs[10].id}`, { values: { name: 'Renamed During Ban' } });
    const created = await h.control('POST', '/objects/persons', { values: { name: 'New During Ban', emails: [{ value: 'new.ban@jobs.example', primary: true }] } });
    await h.control('DELETE', `/objects/persons/${persons[0].id}`, {});
    const lost = (await h.control('GET', '/webhooks')).stats.eventsLost - lostBefore;
    expect(lost).toBeGreaterThanOrEqual(9);
    await h.settle();
    await new Promise((r) => setTimeout(r, 300));
    await h.settle();
    const local = await localByRemote('contact');
    expect(local.get(String(persons[12].id))?.first_name).toBe(persons[12].data.first_name ?? null);
    expect(local.get(String(persons[3].id))?.first_name).toBe(persons[3].data.first_name ?? null);
    expect(local.has(String(created.id))).toBe(false);
    expect((await localByRemote('company')).get(String(orgs[10].id))?.name).toBe(orgs[10].data.name);

    await new Promise((r) => setTimeout(r, 1_100)); // the window ends at a whole second, exclusive
    const job = await runJob({ kind: 'incremental', entity_types: ['company', 'contact'], budget_ms: 2_000, max_records: 500 });
    expect(job.status, job.error).toBe('done');
    expect(job.done).toBeGreaterThanOrEqual(27);
    await expectLocalEqualsPipedrive('company');
    // The API does not list deleted persons: the one deleted during the ban is left for reconciliation.
    const deleted = String(persons[0].id);
    expect((await localByRemote('contact')).get(deleted)?.deleted).toBe(false);
    const recovered = await localByRemote('contact');
    expect(recovered.get(String(created.id))).toMatchObject({ first_name: 'New', last_name: 'During Ban', email: 'new.ban@jobs.example' });
    expect(recovered.get(String(persons[12].id))).toMatchObject({ first_name: 'During', last_name: 'Ban2', org: String(orgs[11].id) });

    const reconcile = await runJob({ kind: 'reconcile', entity_types: ['contact'] });
    expect(reconcile.status, reconcile.error).toBe('done');
    expect(reconcile.reconcile).toMatchObject({ records_drifted: 1, resolved: 1, alerted: 0 });
    await expectLocalEqualsPipedrive('contact');
  }, 60_000);

  it('reconciliation finds drift planted in Pipedrive behind the engine\'s back, stores it and repairs it', async () => {
    await h.settle();
    const persons = (await h.simObjects('persons')).slice(20, 23);
    const [org] = (await h.simObjects('organizations')).slice(20, 21);
    const [renamed, removed, moved] = persons;
    const otherOrg = (await h.simObjects('organizations')).find((o) => o.id !== moved.data.org_id && o.id !== org.id)!;
    silentUpdate('person', renamed.id, { name: 'Quietly Renamed' });
    silentUpdate('person', moved.id, { org_id: otherOrg.id });
    silentUpdate('organization', org.id, { name: 'Quiet Org Name' });
    h.sim.state.store.delete('person', removed.id, { ...h.sim.state.appActor(), silent: true });
    await h.settle();
    expect((await localByRemote('contact')).get(String(renamed.id))?.first_name).toBe(renamed.data.first_name ?? null);

    const livePersons = (await h.simObjects('persons')).length;
    const liveOrgs = (await h.simObjects('organizations')).length;
    const job = await runJob({ kind: 'reconcile', entity_types: ['company', 'contact'], budget_ms: 2_000, max_records: 1_000 });
    expect(job.status, job.error).toBe('done');
    const drift = await h.sql`select entity_type, remote_id, field, kind, winner, resolution, local_value, remote_value
                                from sync.reconcile_drift where run_id = ${job.reconcile.id}
                               order by entity_type collate "C", remote_id collate "C", field collate "C"`;
    expect(job.reconcile).toMatchObject({
      records_compared: livePersons + liveOrgs, records_drifted: 4, fields_drifted: 5, resolved: 5, alerted: 0,
    });
    const expected = [
      { entity_type: 'company', remote_id: String(org.id), field: 'name', kind: 'field', winner: 'remote', resolution: 'applied_locally',
        local_value: org.data.name, remote_value: 'Quiet Org Name' },
      { entity_type: 'contact', remote_id: String(removed.id), field: '*', kind: 'missing_remote', winner: 'remote',
        resolution: 'applied_locally', local_value: null, remote_value: null },
      { entity_type: 'contact', remote_id: String(renamed.id), field: 'first_name', kind: 'field', winner: 'remote',
        resolution: 'applied_locally', local_value: renamed.data.first_name, remote_value: 'Quietly' },
      { entity_type: 'contact', remote_id: String(renamed.id), field: 'last_name', kind: 'field', winner: 'remote',
        resolution: 'applied_locally', local_value: renamed.data.last_name, remote_value: 'Renamed' },
    ];
    expect(drift.filter((d) => d.remote_id !== String(moved.id)).map((d) => ({ ...d })))
      .toEqual(expected.sort((a, b) => `${a.entity_type} ${a.remote_id} ${a.field}` < `${b.entity_type} ${b.remote_id} ${b.field}` ? -1 : 1));
    const movedDrift = drift.filter((d) => d.remote_id === String(moved.id));
    // A person moved to another organization: its reference differs (compared as remote ids on both sides).
    expect(movedDrift.map((d) => ({ ...d }))).toEqual([{
      entity_type: 'contact', remote_id: String(moved.id), field: 'company_id', kind: 'field', winner: 'remote',
      resolution: 'applied_locally', local_value: moved.data.org_id ? String(moved.data.org_id) : null, remote_value: String(otherOrg.id),
    }]);
    await expectLocalEqualsPipedrive('company');
    await expectLocalEqualsPipedrive('contact');

    // Repaired: a second reconciliation finds nothing.
    const again = await runJob({ kind: 'reconcile', entity_types: ['company', 'contact'] });
    expect(again.status, again.error).toBe('done');
    expect(again.reconcile).toMatchObject({ records_compared: livePersons + liveOrgs, records_drifted: 0 });
  }, 60_000);
});
