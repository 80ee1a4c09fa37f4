// Backfill and reconciliation at scale: N contacts seeded in a simulator of
// their own, then one backfill job through the sync-jobs function (its chain
// of bounded runs kicked by pg_net) with the rate limit out of the way (how
// fast the local side ingests), a reconcile job over the same records, and a
// backfill sample under the Starter limit (100 requests / 10 s) against the
// 1,000 records/s ceiling. Peak memory is the sync-jobs worker process's
// high-water mark (VmHWM), read from /proc.
import fs from 'node:fs';
import postgres from 'postgres';
import { sleep, until } from '../engine-state.mjs';
import { medianOf, summarize } from '../stats.mjs';
import { APPLICATION_NAME as pgNetWorkerName } from '../../stack/pg-net-worker.mjs';
import { readGatewayLog } from './worker-cpu.mjs';

/** Peak resident memory (MB) of the processes serving a function, from /proc. */
export function functionPeakMemoryMb(functionName) {
  let peak = 0;
  for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (!cmdline.includes(`${functionName}/index.ts`)) continue;
      const hwm = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (hwm) peak = Math.max(peak, Number(hwm[1]) / 1024);
    } catch {
      // the process ended meanwhile
    }
  }
  return peak || null;
}

async function jobsApi(ctx, method, route, body) {
  const res = await fetch(`${ctx.functionUrl('sync-jobs')}${route}`, {
    method,
    headers: { authorization: `Bearer ${ctx.serviceRoleKey}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json();
  if (res.status >= 300) throw new Error(`sync-jobs ${method} ${route} → ${res.status}: ${JSON.stringify(json)}`);
  return json;
}

async function setRateLimit(ctx, sim, connectionId, maxRequests) {
  await sim.control('PUT', '/rate-limit', { maxPerInterval: maxRequests, intervalMs: 10_000, dailyLimit: 1_000_000_000, resetWindows: true });
  await ctx.sql`update sync.connections set settings = settings || ${ctx.sql.json({ rate_limit: { max_requests: Math.min(maxRequests, 100_000), interval_ms: 10_000 } })}
                 where id = ${connectionId}`;
  await ctx.sql`delete from sync.rate_budgets where connection_id = ${connectionId}`;
}

/** Runs a job to its end; resolves with its final status view. */
async function runJob(ctx, connectionId, kind, timeoutMs) {
  const { job } = await jobsApi(ctx, 'POST', '', { connection_id: connectionId, kind, entity_types: ['contact'], started_by: 'bench' });
  return await until(`${kind} job ${job.id} to end`, async () => {
    const { job: now } = await jobsApi(ctx, 'GET', `/${job.id}`);
    if (now.status === 'done') return now;
    if (!['queued', 'running'].includes(now.status)) throw new Error(`${kind} job ${now.status}: ${now.error}`);
    return null;
  }, { timeoutMs, intervalMs: 1_000 });
}

const elapsedOf = (job) => Date.parse(job.finished_at) - Date.parse(job.started_at);

/**
 * Records per second of each bounded run of a job that moved records, from
 * the function's log line per run ("sync-jobs run: {job_id, records,
 * elapsed_ms, ...}"): the job repeats the same page work hundreds of times,
 * so its runs give the median and the spread. Hand-overs between runs are
 * not in these; the job's overall rate has them.
 */
export function runRates(logFile, jobId) {
  const rates = [];
  for (const line of fs.readFileSync(logFile, 'utf8').split('\n')) {
    const at = line.indexOf('sync-jobs run: {');
    if (at < 0 || !line.includes(jobId)) continue;
    const run = JSON.parse(line.slice(at + 'sync-jobs run: '.length));
    if (run.job_id === jobId && run.records > 0 && run.elapsed_ms > 0) rates.push(run.records / (run.elapsed_ms / 1000));
  }
  return rates.length ? medianOf(rates) : null;
}

/**
 * Milliseconds the database's sessions have spent running statements
 * (pg_stat_database.active_time, Postgres 14+): its delta over a job is the
 * job's database time, plus the little that pg_cron and the stack do meanwhile.
 * A session adds its time to that figure when it flushes its statistics: about
 * once a second while busy, but up to 10 s after it goes idle, and at once
 * when it ends. The functions' idle sessions are therefore ended first, so the
 * figure holds everything they did so far; their pools open new ones on their
 * next query. The pg_net worker's session (LISTEN) and the benchmark's own
 * pool (its application_name) are left alone: the benchmark's own database
 * work between jobs runs in sessions of its own (see onOwnSession).
 */
async function databaseActiveMs(ctx) {
  // The sessions are chosen first: in one WHERE clause the terminate call could be evaluated before the filters.
  const ended = await ctx.sql`
    with idle as materialized (
      select pid from pg_stat_activity
       where datname = current_database() and backend_type = 'client backend' and state = 'idle'
         and application_name not in (${pgNetWorkerName}, current_setting('application_name')))
    select pid from idle where pg_terminate_backend(pid)`;
  await until('the idle sessions to end', async () => {
    const [{ left }] = await ctx.sql`select count(*)::int as left from pg_stat_activity where pid = any(${ended.map((r) => r.pid)}::int[])`;
    return left === 0;
  }, { timeoutMs: 10_000, intervalMs: 20 });
  await ctx.sql`select pg_stat_clear_snapshot()`;
  const [{ ms }] = await ctx.sql`select active_time::float8 as ms from pg_stat_database where datname = current_database()`;
  return ms;
}

/** Runs `work` in a session of its own, ended afterwards: its database time is counted at once, before the next reading. */
async function onOwnSession(ctx, work) {
  const sql = postgres(ctx.dbUrl, { max: 1, onnotice: () => {} });
  try {
    return await work(sql);
  } finally {
    await sql.end();
  }
}

/**
 * The database's own ceiling for what a backfill must store per record: the
 * row (its audit entry written by the trigger) and its identity row, for
 * `records` new contacts in two plain set-based INSERTs on one connection,
 * rolled back. No engine logic, no fetching or mapping: whatever the engine
 * does, its ingest on this machine cannot beat this.
 */
async function databaseFloor(sql, connectionId, records) {
  let elapsedMs = 0;
  await sql.begin(async (tx) => {
    const [{ tenant_id: tenantId }] = await tx`select tenant_id from sync.connections where id = ${connectionId}`;
    // As the engine writes them: its own connection is the origin, so nothing is queued back out.
    await tx`select set_config('crm_sync.origin_connection', ${connectionId}, true)`;
    await tx`create temporary table floor_ids on commit drop as select gen_random_uuid() as id, g from generate_series(1, ${records}) g`;
    const started = performance.now();
    await tx`insert into crm.contacts (id, tenant_id, email, first_name, last_name, phone, lifecycle_stage)
             select id, ${tenantId}, 'floor' || g || '@floor.example.com', 'Floor', 'Record ' || g, '+1-555-0100', 'lead' from floor_ids`;
    await tx`insert into sync.identity_map (connection_id, tenant_id, entity_type, remote_id, local_id, remote_updated_at, base, base_references)
             select ${connectionId}, ${tenantId}, 'contact', 'floor-' || g, id, now(),
                    jsonb_build_object('email', 'floor' || g || '@floor.example.com', 'first_name', 'Floor', 'last_name', 'Record ' || g,
                                       'phone', '+1-555-0100', 'lifecycle_stage', 'lead', 'lead_source', null, 'custom_fields', '{}'::jsonb),
                    '{"company": null}'::jsonb
               from floor_ids`;
    elapsedMs = performance.now() - started;
    throw Object.assign(new Error('rolled back'), { rollback: true });
  }).catch((error) => {
    if (!error.rollback) throw error;
  });
  return { records, elapsedMs, recordsPerSecond: records / (elapsedMs / 1000) };
}

export async function backfillAtScale(ctx, { records, limitedSampleMs }) {
  const startedAt = Date.now();
  const { sim, connectionId } = await ctx.newPortal('backfill');
  for (let seeded = 0; seeded < records; seeded += 100_000) {
    await sim.control('POST', '/seed', { objectType: 'contacts', count: Math.min(100_000, records - seeded) });
  }
  const timeoutMs = Math.max(600_000, records * 10);

  await setRateLimit(ctx, sim, connectionId, 1_000_000);
  const backfillDbFrom = await databaseActiveMs(ctx);
  const unlimited = await runJob(ctx, connectionId, 'backfill', timeoutMs);
  const backfillDbMs = await databaseActiveMs(ctx) - backfillDbFrom;
  const [{ n: landed }] = await ctx.sql`select count(*)::int as n from sync.identity_map where connection_id = ${connectionId}`;
  const backfill = {
    records: unlimited.done, landed, elapsedMs: elapsedOf(unlimited), recordsPerSecond: unlimited.done / (elapsedOf(unlimited) / 1000),
    invocations: unlimited.invocations, peakMemoryMb: functionPeakMemoryMb('sync-jobs'), databaseMs: backfillDbMs,
    perRun: runRates(ctx.logFile, unlimited.id),
  };

  backfill.floor = await onOwnSession(ctx, (sql) => databaseFloor(sql, connectionId, 10_000));
  // The daily reconciliation meets tables that autovacuum has settled since their last bulk change: vacuumed here,
  // so the backfill's maintenance (its inserts' vacuum and analyze) does not run inside the reconcile's measure.
  await onOwnSession(ctx, (sql) => sql`vacuum (analyze) crm.contacts, sync.identity_map, audit.entries`);
  const reconcileDbFrom = await databaseActiveMs(ctx);
  const reconciled = await runJob(ctx, connectionId, 'reconcile', timeoutMs);
  const reconcileDbMs = await databaseActiveMs(ctx) - reconcileDbFrom;
  const reconcile = {
    records: reconciled.reconcile?.records_compared ?? reconciled.done, drifted: reconciled.reconcile?.records_drifted ?? null,
    elapsedMs: elapsedOf(reconciled), databaseMs: reconcileDbMs, invocations: reconciled.invocations,
    peakMemoryMb: functionPeakMemoryMb('sync-jobs'), perRun: runRates(ctx.logFile, reconciled.id),
  };

  // Under the Starter limit: a sample of a second full listing (records already there: every page is the API's pace).
  await setRateLimit(ctx, sim, connectionId, 100);
  const { job } = await jobsApi(ctx, 'POST', '', { connection_id: connectionId, kind: 'backfill', entity_types: ['contact'], started_by: 'bench' });
  await until('the rate-limited backfill to start', async () => (await jobsApi(ctx, 'GET', `/${job.id}`)).job.done > 0,
    { timeoutMs: 60_000, intervalMs: 200 });
  const first = (await jobsApi(ctx, 'GET', `/${job.id}`)).job;
  const from = Date.now();
  // The rate of each 10-second window (the limit's own) gives the median and the spread.
  const windowRates = [];
  let last = first;
  for (let windowFrom = from; Date.now() - from < limitedSampleMs;) {
    await sleep(Math.min(10_000, limitedSampleMs - (Date.now() - from)));
    const now = (await jobsApi(ctx, 'GET', `/${job.id}`)).job;
    windowRates.push((now.done - last.done) / ((Date.now() - windowFrom) / 1000));
    last = now;
    windowFrom = Date.now();
  }
  const sampleMs = Date.now() - from;
  await jobsApi(ctx, 'POST', `/${job.id}/cancel`, {});
  const { results: log } = await sim.control('GET', '/requests?limit=5000');
  const rateLimited = {
    records: last.done - first.done, sampleMs, recordsPerSecond: (last.done - first.done) / (sampleMs / 1000),
    rateLimited429: log.filter((r) => r.status === 429).length, perWindow: medianOf(windowRates),
  };
  await sleep(500); // the log stream flushes
  // CPU of each job run (the gateway's cpu≈ per request; POSTs to sync-jobs are the runs and three starts).
  const runs = readGatewayLog(ctx.logFile).filter((e) => e.fn === 'sync-jobs' && e.method === 'POST' && e.at >= startedAt);
  const cpuPerRun = { runs: runs.length, cpuMs: summarize(runs.map((r) => r.cpuMs)), overBudget: runs.filter((r) => r.cpuMs > 2_000).length };
  return { contacts: records, backfill, reconcile, rateLimited, cpuPerRun };
}
