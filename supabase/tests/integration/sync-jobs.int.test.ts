// Batch sync end to end: the sync-jobs function runs backfill, export,
// incremental and reconcile jobs against the HubSpot simulator as chains of
// bounded runs kicked by pg_net; the tests check every record lands once,
// a run killed mid-way is resumed from its checkpoint, a CRM that is down
// pauses the job, and drift is found, stored and repaired. Webhooks are off:
// whatever arrives here came through the jobs.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJobDb } from '../../functions/_shared/jobs/job-db.ts';
import { type InvocationReport, runJobInvocation } from '../../functions/_shared/jobs/job-runner.ts';
import type { CrmAdapter } from '../../functions/_shared/providers/adapter.ts';
import { adapterFor } from '../../functions/_shared/providers/registry.ts';
import { createSyncDb } from '../../functions/_shared/sync/sync-db.ts';
import type { Sql } from '../../functions/_shared/db.ts';
import { type HubSpotSyncHarness, startHubSpotSync } from './hubspot-sync-harness.ts';
import { jobsApi as sharedJobsApi, mappedCount as sharedMappedCount } from './job-probes.ts';

const cliPath = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../../scripts/cli/crm-sync.mjs');
let h: HubSpotSyncHarness;

const jobsApi = (method: string, route = '', body?: unknown, key?: string) => sharedJobsApi(h.env, method, route, body, key);

async function waitForJob(id: string, statuses: string[], timeoutMs = 120_000) {
  return await h.until(`job ${id} to be ${statuses.join(' or ')}`, async () => {
    const { body } = await jobsApi('GET', `/${id}`);
    return statuses.includes(body.job?.status) ? body.job : null;
  }, timeoutMs);
}

async function localCount(table: string, where = 'true') {
  const [row] = await h.sql.unsafe<{ n: number }[]>(`select count(*)::int as n from crm.${table} where tenant_id = $1 and ${where}`, [h.tenantId]);
  return row.n;
}

const mappedCount = (entityType: string) => sharedMappedCount(h.sql, h.connectionId, entityType);

function crmSync(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliPath, ...args], {
      env: { PATH: process.env.PATH, SUPABASE_URL: h.env.apiUrl, SUPABASE_SERVICE_ROLE_KEY: h.env.serviceRoleKey },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

beforeAll(async () => {
  h = await startHubSpotSync('jobs');
  await h.control('PUT', '/webhooks', { subscriptions: [] });
  // A larger budget than Starter's keeps the test short; the rate limit itself is the bench's subject.
  await h.control('PUT', '/rate-limit', { maxPerInterval: 2000, resetWindows: true });
  // The jobs here are the test's own: none from the hourly schedule when the run crosses the hour.
  await h.sql`update sync.connections set settings = settings || '{"rate_limit": {"max_requests": 2000, "interval_ms": 10000}, "scheduled_jobs": false}'
               where id = ${h.connectionId}`;
  await h.sql`delete from sync.rate_budgets where connection_id = ${h.connectionId}`;
  await h.control('POST', '/seed', { objectType: 'companies', count: 200 });
  await h.control('POST', '/seed', { objectType: 'contacts', count: 2000, associateWith: 'companies' });
}, 120_000);

afterAll(async () => {
  await h?.close(); // the connection's jobs, marks and drift go with it
});

describe('sync-jobs', () => {
  it('backfills a few thousand records across many bounded runs, each once, with their references', async () => {
    const start = { connection_id: h.connectionId, kind: 'backfill', entity_types: ['company', 'contact'], budget_ms: 2_000, max_records: 400 };
    const first = await jobsApi('POST', '', start);
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    expect(first.body.created).toBe(true);
    const again = await jobsApi('POST', '', start);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ created: false, job: { id: first.body.job.id } });
    const other = await jobsApi('POST', '', { ...start, kind: 'reconcile' });
    expect(other.status).toBe(409);
    expect(other.body.error.code).toBe('job_conflict');

    const job = await waitForJob(first.body.job.id, ['done', 'failed', 'paused']);
    expect(job.status, job.error).toBe('done');
    expect(job.done).toBe(2200);
    expect(job.invocations).toBeGreaterThanOrEqual(5);
    expect(job.entities).toEqual({ company: { done: 200, finished: true }, contact: { done: 2000, finished: true } });
    expect(await mappedCount('contact')).toBe(2000);
    expect(await mappedCount('company')).toBe(200);
    expect(await localCount('contacts')).toBe(2000);
    const withCompany = (await h.simObjects('contacts')).filter((c) => (c.associations.companies ?? []).length > 0).length;
    expect(withCompany).toBeGreaterThan(0);
    expect(await localCount('contacts', 'company_id is not null')).toBe(withCompany);
    const [mark] = await h.sql`select count(*)::int as n from sync.sync_marks where connection_id = ${h.connectionId}`;
    expect(mark.n).toBe(2);
  }, 180_000);

  it('a run analyzes the tables its pages read when their statistics are stale (a new tenant looked like one row)', async () => {
    const jobs = createJobDb(h.sql as unknown as Sql);
    // Autovacuum is kept off the table meanwhile, so the analyze seen is the run's.
    await h.sql`alter table crm.tasks set (autovacuum_enabled = false)`;
    try {
      await jobs.refreshStatistics(['task']);
      const [{ reltuples }] = await h.sql<{ reltuples: number }[]>`select greatest(reltuples, 0)::int as reltuples from pg_class where oid = 'crm.tasks'::regclass`;
      const rows = 1_100 + Math.ceil(reltuples / 4);
      await h.sql`insert into crm.tasks (tenant_id, title) select ${h.tenantId}, 'Stats ' || i from generate_series(1, ${rows}) i`;
      await h.until('the inserts to reach the statistics collector', async () => {
        await h.sql`select pg_stat_clear_snapshot()`;
        const [row] = await h.sql<{ n: number }[]>`select n_mod_since_analyze::int as n from pg_stat_user_tables where relid = 'crm.tasks'::regclass`;
        return row.n >= rows;
      }, 20_000);
      expect(await jobs.refreshStatistics(['task'])).toContain('crm.tasks');
      expect(await jobs.refreshStatistics(['task'])).not.toContain('crm.tasks');
    } finally {
      await h.sql`delete from crm.tasks where tenant_id = ${h.tenantId} and title like 'Stats %'`;
      await h.sql`alter table crm.tasks reset (autovacuum_enabled)`;
    }
  }, 60_000);

  it('answers bad input with a clear 4xx', async () => {
    const cases: [unknown, number, string][] = [
      [{ connection_id: h.connectionId, kind: 'mirror' }, 400, 'invalid_request'],
      [{ connection_id: h.connectionId, kind: 'backfill', entity_types: ['ticket'] }, 400, 'invalid_request'],
      [{ connection_id: '00000000-0000-4000-8000-00000000dead', kind: 'backfill' }, 404, 'not_found'],
      [{ kind: 'backfill' }, 400, 'invalid_request'],
    ];
    for (const [body, status, code] of cases) {
      const res = await jobsApi('POST', '', body);
      expect([res.status, res.body.error?.code], JSON.stringify(body)).toEqual([status, code]);
    }
    expect((await jobsApi('GET', '/00000000-0000-4000-8000-00000000dead')).status).toBe(404);
    expect((await jobsApi('GET', '/not-a-uuid')).status).toBe(400);
    expect((await jobsApi('POST', '/00000000-0000-4000-8000-00000000dead/resume', {})).status).toBe(404);
    expect((await jobsApi('GET', '', undefined, h.env.anonKey)).status).toBe(403);
  });

  it('resumes a run that died mid-way from its checkpoint: no record twice, none missing', async () => {
    await h.control('POST', '/seed', { objectType: 'deals', count: 1200 });
    // Started without its pg_net kick: this test plays the first run itself, in process.
    const [started] = await h.sql.begin(async (tx) => {
      const rows = await tx`select * from sync.start_job(${h.connectionId}, 'backfill', array['deal'], 'test', '{"budget_ms": 60000}')`;
      await tx`delete from net.http_request_queue where url like ${`%/sync-jobs/${rows[0].job_id}/run`}`;
      return rows;
    });
    const jobId: string = started.job_id;
    const sql = h.sql as unknown as Sql;
    const db = createSyncDb(sql);
    let pages = 0;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const dying = runJobInvocation({
      jobs: createJobDb(sql),
      db,
      log: () => {},
      async adapterFor(connection, deadline) {
        const adapter = await adapterFor(db, connection, deadline);
        return {
          ...adapter,
          async listRecords(entityType, cursor) {
            if (++pages > 4) await gate; // the process hangs here, as if killed
            return await adapter.listRecords(entityType, cursor);
          },
        } satisfies CrmAdapter;
      },
    }, jobId);
    await h.until('four pages applied', async () => (await waitForJob(jobId, ['running'])).done >= 400);
    expect(await mappedCount('deal')).toBe(400);

    // Its lease runs out; the cron safety net finds it stuck and kicks a new run, which continues from the checkpoint.
    await h.sql`update sync.jobs set lease_until = clock_timestamp() - interval '1 second' where id = ${jobId}`;
    const [recovered] = await h.sql`select sync.recover_stuck_jobs() as n`;
    expect(recovered.n).toBeGreaterThanOrEqual(1);
    const job = await waitForJob(jobId, ['done', 'failed', 'paused']);
    expect(job.status, job.error).toBe('done');
    expect(job.done).toBe(1200);
    expect(job.invocations).toBe(2);

    // The dead run comes back: its page and checkpoint are refused, the job stays as the new run left it.
    release();
    const late: InvocationReport = await dying;
    expect(late.claimed).toBe(true);
    expect(late.status).toBe('done');
    expect((await waitForJob(jobId, ['done'])).done).toBe(1200);
    expect(await mappedCount('deal')).toBe(1200);
    expect(await localCount('deals')).toBe(1200);
  }, 180_000);

  it('pauses on a CRM that is down, keeps the error, and resumes from the checkpoint', async () => {
    const first = await jobsApi('POST', '', {
      connection_id: h.connectionId, kind: 'backfill', entity_types: ['contact'], budget_ms: 2_000, max_records: 200,
    });
    expect(first.status).toBe(201);
    const id = first.body.job.id;
    await h.until('a few pages done', async () => (await jobsApi('GET', `/${id}`)).body.job.done >= 400, 60_000);
    await h.control('POST', '/faults', { mode: 'error', status: 503, count: 10_000, pathPrefix: '/crm/v3/objects/contacts' });
    const paused = await waitForJob(id, ['paused', 'done', 'failed']);
    await h.control('DELETE', '/faults');
    expect(paused.status).toBe('paused');
    expect(paused.error).toMatch(/503/);
    expect(paused.done).toBeLessThan(2000);

    const resumed = await jobsApi('POST', `/${id}/resume`, {});
    expect(resumed.status).toBe(200);
    const job = await waitForJob(id, ['done', 'paused', 'failed']);
    expect(job.status, job.error).toBe('done');
    expect(job.done).toBe(2000); // from the checkpoint: no page listed twice
    expect(await mappedCount('contact')).toBe(2000);
  }, 180_000);

  it('incremental sync finds changes and deletions, with 15,000 records on one timestamp past the 10,000-result search cap', async () => {
    // One frozen moment for every change; the listing's window ends 30 s behind the clock (search indexing lag), so wait that out.
    const frozenAt = Date.now();
    await h.control('PUT', '/clock', { freezeAt: frozenAt });
    const [changed, removed] = (await h.simObjects('contacts')).slice(0, 2);
    await h.control('POST', '/seed', { objectType: 'contacts', count: 15_000 });
    await h.control('PATCH', `/objects/contacts/${changed.id}`, { properties: { firstname: 'Incremental' } });
    await h.control('DELETE', `/objects/contacts/${removed.id}`);
    await h.control('PUT', '/clock', { freezeAt: null });
    await new Promise((r) => setTimeout(r, frozenAt + 31_000 - Date.now()));
    const sharing = (await h.simObjects('contacts')).filter((c) => {
      const at = c.properties.lastmodifieddate;
      return (/^\d+$/.test(at) ? Number(at) : Date.parse(at)) === frozenAt;
    });
    expect(sharing.length).toBe(15_001); // the seeded and the edited ones; the deleted one carries it as archivedAt

    const started = await jobsApi('POST', '', { connection_id: h.connectionId, kind: 'incremental', entity_types: ['contact'] });
    expect(started.status).toBe(201);
    const job = await waitForJob(started.body.job.id, ['done', 'paused', 'failed']);
    expect(job.status, job.error).toBe('done');
    expect(job.done).toBeGreaterThanOrEqual(15_002); // the window starts five minutes before the last backfill: it may hold more
    expect(await mappedCount('contact')).toBe(17_000);
    expect(await localCount('contacts', 'deleted_at is null')).toBe(16_999);
    const [local] = await h.sql`
      select c.first_name, c.deleted_at from crm.contacts c join sync.identity_map m on m.local_id = c.id
       where m.connection_id = ${h.connectionId} and m.remote_id = ${changed.id}`;
    expect(local.first_name).toBe('Incremental');
    const [gone] = await h.sql`
      select c.deleted_at from crm.contacts c join sync.identity_map m on m.local_id = c.id
       where m.connection_id = ${h.connectionId} and m.remote_id = ${removed.id}`;
    expect(gone.deleted_at).not.toBeNull();
  }, 180_000);

  it('reconciliation finds drift planted on either side, stores it and repairs it', async () => {
    const [remoteSide, localSide, goneSide, crossed] = (await h.simObjects('contacts')).slice(5, 9);
    await h.control('PATCH', `/objects/contacts/${remoteSide.id}`, { properties: { phone: '+1 555 0199' } });
    await h.control('DELETE', `/objects/contacts/${goneSide.id}`);
    // A deletion the engine sent that crossed a restore: gone from HubSpot, known as deleted, live locally.
    await h.control('DELETE', `/objects/contacts/${crossed.id}`);
    await h.sql`update sync.identity_map set remote_deleted_at = now() where connection_id = ${h.connectionId} and remote_id = ${crossed.id}`;
    const [localRow] = await h.sql`select local_id from sync.identity_map where connection_id = ${h.connectionId}
                                     and entity_type = 'contact' and remote_id = ${localSide.id}`;
    await h.sql.begin(async (tx) => {
      // Behind the engine's back: marked as this connection's own change, so nothing is queued for it.
      await tx`select set_config('crm_sync.origin_connection', ${h.connectionId}, true)`;
      await tx`update crm.contacts set last_name = 'Drifted' where id = ${localRow.local_id}`;
    });

    const started = await jobsApi('POST', '', { connection_id: h.connectionId, kind: 'reconcile', entity_types: ['contact'] });
    expect(started.status).toBe(201);
    const job = await waitForJob(started.body.job.id, ['done', 'paused', 'failed']);
    expect(job.status, job.error).toBe('done');
    expect(job.reconcile).toMatchObject({ records_compared: 16_997, records_drifted: 4, fields_drifted: 4, resolved: 4, alerted: 0 });
    const drift = await h.sql`select remote_id, field, kind, winner, resolution, local_value, remote_value from sync.reconcile_drift
                               where run_id = ${job.reconcile.id} order by field collate "C", winner`;
    expect(drift.map((d) => ({ ...d }))).toEqual([
      { remote_id: crossed.id, field: '*', kind: 'missing_remote', winner: 'local', resolution: 'queued_outbound',
        local_value: null, remote_value: null },
      { remote_id: goneSide.id, field: '*', kind: 'missing_remote', winner: 'remote', resolution: 'applied_locally',
        local_value: null, remote_value: null },
      { remote_id: localSide.id, field: 'last_name', kind: 'field', winner: 'local', resolution: 'queued_outbound',
        local_value: 'Drifted', remote_value: localSide.properties.lastname ?? null },
      { remote_id: remoteSide.id, field: 'phone', kind: 'field', winner: 'remote', resolution: 'applied_locally',
        local_value: remoteSide.properties.phone ?? null, remote_value: '+1 555 0199' },
    ]);
    const [repaired] = await h.sql`select c.phone from crm.contacts c join sync.identity_map m on m.local_id = c.id
                                    where m.connection_id = ${h.connectionId} and m.remote_id = ${remoteSide.id}`;
    expect(repaired.phone).toBe('+1 555 0199');
    const [gone] = await h.sql`select c.deleted_at from crm.contacts c join sync.identity_map m on m.local_id = c.id
                                where m.connection_id = ${h.connectionId} and m.remote_id = ${goneSide.id}`;
    expect(gone.deleted_at).not.toBeNull();
    const [{ listed, unseen }] = await h.sql`select (select count(*)::int from sync.reconcile_listed where run_id = ${job.reconcile.id}) as listed,
                                                    (select count(*)::int from sync.reconcile_unseen where run_id = ${job.reconcile.id}) as unseen`;
    expect([listed, unseen]).toEqual([0, 0]); // kept only while the run lasts
    await h.until('the local side reaches HubSpot', async () => {
      const record = (await h.simObjects('contacts')).find((c) => c.id === localSide.id);
      return record?.properties.lastname === 'Drifted';
    }, 30_000);
    await h.until('the crossed record is created in HubSpot anew', async () => {
      const [mapped] = await h.sql`select m.remote_id, m.remote_deleted_at from sync.identity_map m join crm.contacts c on c.id = m.local_id
                                    where m.connection_id = ${h.connectionId} and c.email = ${crossed.properties.email}`;
      return mapped && mapped.remote_id !== crossed.id && mapped.remote_deleted_at === null;
    }, 30_000);
    const again = (await h.simObjects('contacts')).filter((c) => c.properties.email === crossed.properties.email);
    expect(again.map((c) => c.id)).not.toContain(crossed.id);
    expect(again).toHaveLength(1);
  }, 180_000);

  it('initial export links records that exist in the CRM by email and creates the rest', async () => {
    const { id: existingId } = await h.control<{ id: string }>('POST', '/objects/contacts',
      { properties: { email: 'match.me@export.example', firstname: 'Match' } });
    const before = (await h.simObjects('contacts')).length;
    await h.sql.begin(async (tx) => {
      await tx`select set_config('crm_sync.origin_connection', ${h.connectionId}, true)`;
      await tx`insert into crm.contacts (tenant_id, email, first_name)
               select ${h.tenantId}::uuid, 'export.' || n || '@export.example', 'Export ' || n from generate_series(1, 120) n
               union all select ${h.tenantId}::uuid, 'match.me@export.example', 'Match'`;
    });
    const started = await jobsApi('POST', '', { connection_id: h.connectionId, kind: 'export', entity_types: ['contact'], max_records: 1000 });
    expect(started.status).toBe(201);
    const job = await waitForJob(started.body.job.id, ['done', 'paused', 'failed']);
    expect(job.status, job.error).toBe('done');
    expect(job.total).toBe(121);
    const after = await h.simObjects('contacts');
    expect(after.length).toBe(before + 120);
    expect(after.filter((c) => c.properties.email === 'match.me@export.example').map((c) => c.id)).toEqual([existingId]);
    const [linked] = await h.sql`select m.remote_id from sync.identity_map m join crm.contacts c on c.id = m.local_id
                                  where m.connection_id = ${h.connectionId} and c.email = 'match.me@export.example'`;
    expect(linked.remote_id).toBe(existingId);
    const [{ n }] = await h.sql`select count(*)::int as n from crm.contacts c where c.tenant_id = ${h.tenantId}
      and c.email like 'export.%' and exists (select from sync.identity_map m where m.connection_id = ${h.connectionId} and m.local_id = c.id)`;
    expect(n).toBe(120);
  }, 180_000);

  it('the CLI starts, follows and lists jobs, and explains bad input', async () => {
    const json = await crmSync(['reconcile', h.connectionId, '--entities', 'company', '--json']);
    expect(json.code, json.stderr).toBe(0);
    const result = JSON.parse(json.stdout);
    expect(result.job).toMatchObject({ kind: 'reconcile', status: 'done', done: 200, entity_types: ['company'] });

    const plain = await crmSync(['sync', h.connectionId, '--entities', 'company']);
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stderr).toMatch(/^started incremental job /m);
    expect(plain.stderr).toMatch(/^incremental [0-9a-f]{8} +done/m); // plain progress lines, not a redrawn bar
    expect(plain.stdout).toMatch(/entity types: company \d+ ✓/);

    const listed = await crmSync(['jobs', '--connection', h.connectionId, '--status', 'done', '--json']);
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout).jobs.map((j: { kind: string }) => j.kind)).toEqual(
      expect.arrayContaining(['backfill', 'incremental', 'reconcile', 'export']));

    const status = await crmSync(['status', result.job.id]);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/reconciliation: 200 compared, 0 drifted/);

    const unknown = await crmSync(['backfill', '00000000-0000-4000-8000-00000000dead']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/connection 00000000-0000-4000-8000-00000000dead does not exist/);
    const usage = await crmSync(['backfill', h.connectionId, '--entities', 'ticket']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/unknown: ticket/);
  }, 180_000);
});
