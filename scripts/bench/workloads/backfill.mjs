// Backfill and reconciliation at scale: N contacts seeded in a simulator of
// their own, then one backfill job through the sync-jobs function (its chain
// of bounded runs kicked by pg_net) with the rate limit out of the way (how
// fast the local side ingests), a reconcile job over the same records, and a
// backfill sample under the Starter limit (100 requests / 10 s) against the
// 1,000 records/s ceiling. Peak memory is the sync-jobs worker process's
// high-water mark (VmHWM), read from /proc.
import fs from 'node:fs';
import { sleep, until } from '../engine-state.mjs';
import { medianOf, summarize } from '../stats.mjs';
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
 */
async function databaseActiveMs(ctx) {
  await ctx.sql`select pg_stat_clear_snapshot()`;
  const [{ ms }] = await ctx.sql`select active_time::float8 as ms from pg_stat_database where datname = current_database()`;
  return ms;
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
