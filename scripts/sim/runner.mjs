// The steps of `npm run sim` (scripts/sim.mjs): a throwaway stack, the CRM
// simulators as processes of their own, the seeds in turn (each in a fresh
// tenant connected to every CRM, see hub.mjs) with a line each, and the
// summary.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import postgres from 'postgres';
import { callWorker } from '../bench/engine-state.mjs';
import { startPipedriveSimulator, startSimulator } from '../bench/simulator-process.mjs';
import { removeCluster, stopCluster } from '../stack/cluster.mjs';
import { prepareDatabase } from '../stack/database.mjs';
import { localKeys } from '../stack/keys.mjs';
import { log } from '../stack/log.mjs';
import { loadProfile, localJwtSecret, repoRoot } from '../stack/profiles.mjs';
import { fileLog, startServices } from '../stack/services.mjs';
import { reconcileConnections } from './catch-up.mjs';
import { runSeed } from './convergence.mjs';
import { openHub } from './hub.mjs';
import { propertyNames } from './properties.mjs';

// Limits generous enough that the run is about conflicts, not throttling (injected 429s still come), over a
// one-second window: a 429 says so (X-HubSpot-RateLimit-Interval-Milliseconds, x-ratelimit-reset), and the
// engine waits a second, not the ten (HubSpot) or two (Pipedrive) of the real accounts' windows.
const hubspot = { token: 'pat-na1-sim', clientSecret: 'sim-client-secret', portalId: 71_000_009, appId: 5_100_009,
                  rateLimit: 100, intervalMs: 1_000 };
const pipedrive = { token: 'pd-sim-api-token', companyId: 8_100_009, rateLimit: 100, intervalMs: 1_000, dailyBudget: 100_000_000,
                    webhookTimeScale: 0.002 };

export async function runSimulation({ seeds, seed: firstSeed, records, ops, strategies, crms: crmNames }) {
  const profile = loadProfile('test');
  const logFile = path.relative(repoRoot, path.join(profile.logDir, 'services.log'));
  let services = null;
  let sql = null;
  const sims = [];
  const results = [];
  const runStarted = Date.now();
  try {
    log.step(`building a fresh simulation database (${path.relative(repoRoot, profile.dir)})`);
    removeCluster(profile);
    await prepareDatabase(profile, { seed: false });
    log.step(`starting the functions gateway on ${profile.apiUrl} (log: ${logFile})`);
    services = await startServices(profile, { log: fileLog(profile, 'services') });
    const broken = (await services.gateway.warmUp()).filter((w) => !w.ok);
    if (broken.length) throw new Error(`functions failed to start: ${broken.map((b) => `${b.name}: ${b.error}`).join('; ')}`);
    sql = postgres(profile.dbUrl, { max: 4, onnotice: () => {} });
    const fn = { sql, serviceRoleKey: localKeys(localJwtSecret).serviceRoleKey, functionUrl: (name) => `${profile.apiUrl}/functions/v1/${name}` };

    const call = async (name, method, route, body) => {
      const res = await fetch(`${fn.functionUrl(name)}${route}`, {
        method,
        headers: { authorization: `Bearer ${fn.serviceRoleKey}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, body: await res.json() };
    };
    const hubCrms = {};
    log.step(`starting the ${crmNames.join(' and ')} simulator(s)`);
    if (crmNames.includes('hubspot')) {
      const sim = await startSimulator({ name: 'sim', logDir: profile.logDir, tokens: [hubspot.token], portalId: hubspot.portalId,
        appId: hubspot.appId, clientSecret: hubspot.clientSecret, webhookUrl: fn.functionUrl('hubspot-webhook'), rateLimit: hubspot.rateLimit });
      sims.push(sim);
      await sim.control('PUT', '/rate-limit', { maxPerInterval: hubspot.rateLimit, intervalMs: hubspot.intervalMs });
      hubCrms.hubspot = { sim, ...hubspot };
    }
    if (crmNames.includes('pipedrive')) {
      const sim = await startPipedriveSimulator({ name: 'sim', logDir: profile.logDir, ...pipedrive });
      sims.push(sim);
      await sim.control('PUT', '/rate-limit', { burstLimit: pipedrive.rateLimit, burstWindowMs: pipedrive.intervalMs });
      hubCrms.pipedrive = { sim, ...pipedrive };
    }
    const catchUp = reconcileConnections((method, route, body) => call('sync-jobs', method, route, body));

    // Ctrl-C (or SIGTERM) ends the run after the current seed, with the summary of the seeds done.
    let interrupted = false;
    const interrupt = () => { interrupted = true; log.step('stopping after this seed'); };
    process.once('SIGINT', interrupt);
    process.once('SIGTERM', interrupt);
    log.step(`${seeds} seed(s) from ${firstSeed}: ${records} records, ${ops} operations each, strategies ${strategies.join(', ')}`);
    for (let seed = firstSeed; seed < firstSeed + seeds && !interrupted; seed++) {
      const strategy = strategies[(seed - firstSeed) % strategies.length];
      const started = Date.now();
      let result;
      let hub = null;
      try {
        hub = await openHub({ sql, crms: hubCrms, name: `Convergence simulation, seed ${seed}`,
                              connect: (body) => call('connections', 'POST', '', body) });
        const ctx = { sql, tenantId: hub.tenantId, crms: hub.crms, runWorker: (reason) => callWorker(fn, reason), catchUp };
        result = await runSeed(ctx, { seed, strategy, records, ops });
      } catch (error) {
        result = { seed, strategy, ok: false, error: error.message, operations: 0, conflicts: 0, pending: 0, findings: {} };
      } finally {
        await hub?.close();
      }
      results.push(result);
      const replay = `npm run sim -- --seed ${seed} --seeds 1 --strategy ${strategy} --records ${records} --ops ${ops} --crms ${crmNames.join(',')}`;
      const line = `seed ${seed} ${strategy}: ${result.operations} ops, ${result.conflicts} conflicts (${result.pending} pending), ` +
        `${((Date.now() - started) / 1000).toFixed(1)} s`;
      if (result.ok) {
        log.ok(line);
      } else {
        const trace = result.trace ? path.join(profile.logDir, `seed-${seed}.trace.txt`) : null;
        if (trace) writeFileSync(trace, result.trace);
        log.error(`${line}\n    ${result.error ?? Object.values(result.findings).flat().join('\n    ')}\n    replay: ${replay}` +
          (trace ? `\n    what happened to those records: ${trace}` : ''));
      }
    }
  } catch (error) {
    log.error(error.message);
    if (error.hint) console.error(`  how to fix: ${error.hint}`);
    return 1;
  } finally {
    await sql?.end({ timeout: 5 });
    for (const sim of sims) await sim.stop();
    await services?.stop();
    stopCluster(profile);
  }
  return summarize(results, Date.now() - runStarted);
}

function summarize(results, wallMs) {
  const sum = (key) => results.reduce((n, r) => n + (r[key] ?? 0), 0);
  const count = (name) => results.reduce((n, r) => n + (r.findings?.[name]?.length ?? 0), 0);
  const errored = results.filter((r) => r.error).length;
  console.log(`\nseeds ${results.length}, operations ${sum('operations')}, conflicts ${sum('conflicts')} (${sum('pending')} pending review), ` +
    `divergent records ${count('divergent')} (must be 0)${errored ? `, ${errored} seed(s) failed to run` : ''}, ` +
    `wall time ${(wallMs / 60_000).toFixed(1)} min`);
  for (const [name, description] of Object.entries(propertyNames)) {
    const violations = count(name);
    console.log(`  ${violations === 0 && !errored ? 'PASS' : 'FAIL'}  ${description}${violations ? ` (${violations})` : ''}`);
  }
  const failed = results.filter((r) => !r.ok);
  if (failed.length) console.log(`\nfailing seeds: ${failed.map((r) => `${r.seed} (${r.strategy})`).join(', ')}`);
  return failed.length ? 1 : 0;
}
