// The steps of `npm run bench` (scripts/bench.mjs): a throwaway stack on the
// bench ports, two HubSpot simulators, the workloads in turn, and the report
// in bench/results/. A workload that misses its target is reported as such;
// one that fails outright is reported with its error.
import fs from 'node:fs';
import path from 'node:path';
import postgres from 'postgres';
import { removeCluster, stopCluster } from '../stack/cluster.mjs';
import { prepareDatabase } from '../stack/database.mjs';
import { localKeys } from '../stack/keys.mjs';
import { log } from '../stack/log.mjs';
import { loadProfile, localJwtSecret, repoRoot } from '../stack/profiles.mjs';
import { fileLog, startServices } from '../stack/services.mjs';
import { describeMachine, loadAverage } from './machine.mjs';
import { renderMarkdown, verdicts } from './report.mjs';
import { pipedriveModes, pipedriveWorkloadNames, runPipedriveWorkloads } from './pipedrive.mjs';
import { startSimulator } from './simulator-process.mjs';
import { databaseQuiet, sleep, until } from './engine-state.mjs';
import { backfillAtScale } from './workloads/backfill.mjs';
import { bulkOutbound } from './workloads/bulk-outbound.mjs';
import { naiveBaseline } from './workloads/naive-baseline.mjs';
import { propagationLatency } from './workloads/propagation-latency.mjs';
import { loadPerSecond, loadShare, propagationUnderLoad } from './workloads/propagation-under-load.mjs';
import { webhookIngest } from './workloads/webhook-ingest.mjs';
import { webhookTimes, workerCpu } from './workloads/worker-cpu.mjs';

export const workloadNames = ['latency', 'bulk', 'ingest', 'naive', 'backfill', ...pipedriveWorkloadNames];

// --quick keeps every measure, each on a smaller sample, to finish in under five minutes.
export const modes = {
  quick: { ingestMs: 5_000, latencySamples: 12, underLoadSamples: 10, bulkRecords: 1_000, bulkSteadyRounds: 2, naiveSample: 150,
           backfillRecords: 100_000, limitedSampleMs: 20_000 },
  full: { ingestMs: 60_000, latencySamples: 60, underLoadSamples: 60, bulkRecords: 10_000, bulkSteadyRounds: 3, naiveSample: 400,
          backfillRecords: 1_000_000, limitedSampleMs: 60_000 },
};
for (const [mode, settings] of Object.entries(pipedriveModes)) Object.assign(modes[mode], settings);

const resultsDir = path.join(repoRoot, 'bench', 'results');

/** Creates a tenant and connects it to a simulator's portal through the connections function. */
async function connectPortal(ctx, sim, { name, token, clientSecret, portalId, appId }) {
  const [{ id: tenantId }] = await ctx.sql`insert into crm.tenants (name, slug) values (${`Bench ${name}`}, ${`bench-${name}-${portalId}`}) returning id`;
  const res = await fetch(ctx.functionUrl('connections'), {
    method: 'POST',
    headers: { authorization: `Bearer ${ctx.serviceRoleKey}`, 'content-type': 'application/json' },
    // The workloads start their own jobs: none from the hourly schedule in the middle of a measurement.
    body: JSON.stringify({ tenant_id: tenantId, provider: 'hubspot', access_token: token, client_secret: clientSecret, api_base_url: sim.url,
      scheduled_jobs: false }),
  });
  const body = await res.json();
  if (res.status !== 201) throw new Error(`connecting the ${name} portal failed (${res.status}): ${JSON.stringify(body)}`);
  return { tenantId, connectionId: body.connection_id, token, clientSecret, portalId, appId };
}

/**
 * Takes the ingest connection out of the way: its queued events dropped and
 * the connection disabled (a disabled connection's messages would otherwise
 * be read and set aside again and again), then dropped once more after the
 * worker's current run.
 */
async function retireConnection(ctx, connectionId) {
  // In slices, skipping rows a worker run has locked, so the delete never deadlocks with it.
  const drop = async () => {
    let dropped = 0;
    for (;;) {
      // The slice is picked once (a CTE): as an IN (subquery), the planner re-ran it per row, for minutes.
      const { count } = await ctx.sql`with slice as (
          select msg_id from pgmq.q_crm_inbound where message ->> 'connection_id' = ${connectionId}
           limit 20000 for update skip locked)
        delete from pgmq.q_crm_inbound q using slice s where q.msg_id = s.msg_id`;
      dropped += count;
      if (count === 0) return dropped;
    }
  };
  let dropped = await drop();
  await ctx.sql`update sync.connections set enabled = false where id = ${connectionId}`;
  dropped += await drop();
  await until('the sync worker to finish its run', async () => {
    const [row] = await ctx.sql`select coalesce(lease_until < clock_timestamp(), true) as free from sync.worker_state`;
    return row.free;
  }, { timeoutMs: 120_000, intervalMs: 250 });
  return dropped + await drop();
}

export async function runBenchmarks({ quick, only }) {
  const mode = quick ? 'quick' : 'full';
  const settings = modes[mode];
  const selected = only ?? workloadNames;
  const profile = loadProfile('test');
  const result = {
    mode,
    command: `npm run bench${quick ? ' -- --quick' : ''}${only ? ` (only ${only.join(', ')})` : ''}`,
    startedAt: new Date().toISOString(),
    machine: describeMachine(),
    stack: { profile: profile.name, folder: path.relative(repoRoot, profile.dir), apiPort: profile.apiPort, dbPort: profile.dbPort },
    settings,
    selected,
    workloads: {},
    errors: {},
    phases: [],
  };
  const logFile = path.join(profile.logDir, 'services.log');
  let services = null;
  let sql = null;
  const simulators = [];
  try {
    log.step(`building a fresh benchmark database (${result.stack.folder})`);
    removeCluster(profile);
    await prepareDatabase(profile, { seed: false });
    const [{ version }] = await (async () => {
      const probe = postgres(profile.dbUrl, { max: 1, onnotice: () => {} });
      try {
        return await probe`select current_setting('server_version') as version`;
      } finally {
        await probe.end();
      }
    })();
    result.machine.postgres = version;

    log.step(`starting the functions gateway on ${profile.apiUrl} (log: ${path.relative(repoRoot, logFile)})`);
    services = await startServices(profile, { log: fileLog(profile, 'services') });
    const warm = await services.gateway.warmUp();
    const broken = warm.filter((w) => !w.ok);
    if (broken.length) throw new Error(`functions failed to start: ${broken.map((b) => `${b.name}: ${b.error}`).join('; ')}`);

    sql = postgres(profile.dbUrl, { max: 4, onnotice: () => {}, connection: { application_name: 'crm-sync bench' } });
    const ctx = {
      sql,
      dbUrl: profile.dbUrl,
      serviceRoleKey: localKeys(localJwtSecret).serviceRoleKey,
      functionUrl: (name) => `${profile.apiUrl}/functions/v1/${name}`,
      log: (line) => log.info(line),
      logFile,
      logDir: profile.logDir,
    };

    log.step('starting two HubSpot simulators (100 requests / 10 s per token)');
    const sync = { token: 'pat-na1-bench-sync', clientSecret: 'bench-sync-client-secret', portalId: 71_000_001, appId: 5_100_001 };
    const ingest = { token: 'pat-na1-bench-ingest', clientSecret: 'bench-ingest-client-secret', portalId: 71_000_002, appId: 5_100_002 };
    const naive = { token: 'pat-na1-bench-naive' };
    ctx.syncSim = await startSimulator({ name: 'sync', logDir: profile.logDir, tokens: [sync.token], portalId: sync.portalId, appId: sync.appId,
      clientSecret: sync.clientSecret, webhookUrl: ctx.functionUrl('hubspot-webhook'), rateLimit: 100 });
    simulators.push(ctx.syncSim);
    ctx.ingestSim = await startSimulator({ name: 'ingest', logDir: profile.logDir, tokens: [ingest.token, naive.token], portalId: ingest.portalId,
      appId: ingest.appId, clientSecret: ingest.clientSecret, rateLimit: 100 });
    simulators.push(ctx.ingestSim);
    ctx.naiveSim = ctx.ingestSim;
    ctx.naive = naive;
    ctx.sync = await connectPortal(ctx, ctx.syncSim, { name: 'sync', ...sync });
    ctx.ingest = await connectPortal(ctx, ctx.ingestSim, { name: 'ingest', ...ingest });

    const phase = async (name, run) => {
      const startedAt = Date.now();
      try {
        result.workloads[name] = await run();
      } catch (error) {
        log.error(`${name}: ${error.message}`);
        result.errors[name] = error.message;
      }
      result.phases.push({ name, startedAt, endedAt: Date.now(), loadAverageAfter: loadAverage() });
    };

    if (selected.includes('latency')) {
      log.step(`propagation latency: ${settings.latencySamples} changes each way, ~300 ms apart`);
      await phase('latency', () => propagationLatency(ctx, { samples: settings.latencySamples }));
      log.step(`propagation latency at ${loadShare * 100}% of capacity: the same changes while ${loadPerSecond} other contacts change per second in the same direction`);
      await phase('latencyUnderLoad', () => propagationUnderLoad(ctx, { samples: settings.underLoadSamples }));
    }
    if (selected.includes('bulk')) {
      log.step(`bulk outbound: ${settings.bulkRecords} creates, then ${settings.bulkSteadyRounds + 1} rounds of ${settings.bulkRecords} edits`);
      await phase('bulk', () => bulkOutbound(ctx, { records: settings.bulkRecords, steadyRounds: settings.bulkSteadyRounds }));
    }
    if (selected.includes('ingest')) {
      log.step(`webhook ingest: 100-event signed requests, at most 10 in flight: ${settings.ingestMs / 1000} s at 2,000 events/s, then ${settings.ingestMs / 1000} s saturated`);
      await phase('ingest', async () => {
        const measured = await webhookIngest(ctx, { durationMs: settings.ingestMs });
        await sleep(500); // the log stream flushes
        for (const run of [measured.saturated, measured.paced]) run.serverSide = webhookTimes(logFile, run.window.from, run.window.to);
        try {
          measured.queuedEventsDroppedAfterwards = await retireConnection(ctx, ctx.ingest.connectionId);
        } catch (error) {
          result.errors.ingestCleanup = `dropping the ingest portal's queued events failed: ${error.message}`;
        }
        return measured;
      });
    }
    if (selected.includes('naive')) {
      log.step(`naive baseline: ${settings.naiveSample} single-record updates under the same limit`);
      await phase('naive', () => naiveBaseline(ctx, { sampleRecords: settings.naiveSample, extrapolateTo: settings.bulkRecords }));
    }
    if (selected.includes('backfill')) {
      log.step(`backfill and reconciliation of ${settings.backfillRecords.toLocaleString('en-US')} contacts, then a backfill sample under the limit`);
      ctx.newPortal = async (name) => {
        const info = { token: `pat-na1-bench-${name}`, clientSecret: `bench-${name}-client-secret`, portalId: 71_000_003, appId: 5_100_003 };
        const sim = await startSimulator({ name, logDir: profile.logDir, tokens: [info.token], portalId: info.portalId, appId: info.appId,
          clientSecret: info.clientSecret, rateLimit: 100, heapMb: 12_288 });
        simulators.push(sim);
        const { connectionId } = await connectPortal(ctx, sim, { name, ...info });
        return { sim, connectionId };
      };
      const quietAfterMs = await databaseQuiet(ctx.sql);
      await phase('backfill', async () => ({
        ...await backfillAtScale(ctx, { records: settings.backfillRecords, limitedSampleMs: settings.limitedSampleMs }), quietAfterMs,
      }));
    }
    await runPipedriveWorkloads(ctx, { selected, settings, phase, addSimulator: (sim) => simulators.push(sim), retireConnection, webhookTimes,
      step: (line) => log.step(line) });
    await sleep(500);
    result.workloads.workerCpu = workerCpu(logFile, result.phases);
  } catch (error) {
    log.error(error.message);
    if (error.hint) console.error(`  how to fix: ${error.hint}`);
    result.errors.setup = error.message;
  } finally {
    await sql?.end({ timeout: 5 });
    for (const sim of simulators) await sim.stop();
    await services?.stop();
    stopCluster(profile);
  }

  result.finishedAt = new Date().toISOString();
  result.durationMs = Date.parse(result.finishedAt) - Date.parse(result.startedAt);
  result.verdicts = verdicts(result);
  fs.mkdirSync(resultsDir, { recursive: true });
  // A --quick run, or one of some workloads only, is kept beside the day's full run, not over it.
  const base = path.join(resultsDir, result.startedAt.slice(0, 10) + (only ? `-${only.join('-')}` : '') + (quick ? '-quick' : ''));
  fs.writeFileSync(`${base}.json`, `${JSON.stringify(result, null, 2)}\n`);
  const markdown = renderMarkdown(result);
  fs.writeFileSync(`${base}.md`, markdown);
  console.log(`\n${markdown}`);
  log.ok(`results: ${path.relative(process.cwd(), `${base}.md`)} and .json`);
  return Object.keys(result.errors).length === 0 ? 0 : 1;
}
