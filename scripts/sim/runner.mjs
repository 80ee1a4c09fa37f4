// The steps of `npm run sim` (scripts/sim.mjs): a throwaway stack, the
// HubSpot simulator as its own process, one tenant connected to it, the
// seeds in turn with a line each, and the summary.
import path from 'node:path';
import postgres from 'postgres';
import { callWorker } from '../bench/engine-state.mjs';
import { startSimulator } from '../bench/simulator-process.mjs';
import { removeCluster, stopCluster } from '../stack/cluster.mjs';
import { prepareDatabase } from '../stack/database.mjs';
import { localKeys } from '../stack/keys.mjs';
import { log } from '../stack/log.mjs';
import { loadProfile, localJwtSecret, repoRoot } from '../stack/profiles.mjs';
import { fileLog, startServices } from '../stack/services.mjs';
import { runSeed } from './convergence.mjs';
import { createHubSpotDriver } from './hubspot-driver.mjs';
import { propertyNames } from './properties.mjs';

const hubspot = { token: 'pat-na1-sim', clientSecret: 'sim-client-secret', portalId: 71_000_009, appId: 5_100_009 };

export async function runSimulation({ seeds, seed: firstSeed, records, ops, strategies }) {
  const profile = loadProfile('test');
  const logFile = path.relative(repoRoot, path.join(profile.logDir, 'services.log'));
  let services = null;
  let sql = null;
  let sim = null;
  const results = [];
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

    log.step('starting the HubSpot simulator and connecting a tenant to it');
    sim = await startSimulator({ name: 'sim', logDir: profile.logDir, tokens: [hubspot.token], portalId: hubspot.portalId, appId: hubspot.appId,
      clientSecret: hubspot.clientSecret, webhookUrl: fn.functionUrl('hubspot-webhook'), rateLimit: 1_000 });
    const [{ id: tenantId }] = await sql`insert into crm.tenants (name, slug) values ('Convergence simulation', 'convergence-sim') returning id`;
    const res = await fetch(fn.functionUrl('connections'), {
      method: 'POST',
      headers: { authorization: `Bearer ${fn.serviceRoleKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ tenant_id: tenantId, provider: 'hubspot', access_token: hubspot.token, client_secret: hubspot.clientSecret,
                             api_base_url: sim.url }),
    });
    const connected = await res.json();
    if (res.status !== 201) throw new Error(`connecting the simulator failed (${res.status}): ${JSON.stringify(connected)}`);
    await sim.control('PUT', '/webhooks', { subscriptions: 'default', batchWindowMs: 20 });
    const ctx = {
      sql,
      tenantId,
      crms: [createHubSpotDriver({ control: sim.control, connectionId: connected.connection_id, portalId: hubspot.portalId })],
      runWorker: (reason) => callWorker(fn, reason),
    };

    log.step(`${seeds} seed(s) from ${firstSeed}: ${records} records, ${ops} operations each, strategies ${strategies.join(', ')}`);
    for (let seed = firstSeed; seed < firstSeed + seeds; seed++) {
      const strategy = strategies[(seed - firstSeed) % strategies.length];
      const started = Date.now();
      let result;
      try {
        result = await runSeed(ctx, { seed, strategy, records, ops });
      } catch (error) {
        result = { seed, strategy, ok: false, error: error.message, operations: 0, conflicts: 0, pending: 0, findings: {} };
      }
      results.push(result);
      const replay = `npm run sim -- --seed ${seed} --seeds 1 --strategy ${strategy} --records ${records} --ops ${ops}`;
      const line = `seed ${seed} ${strategy}: ${result.operations} ops, ${result.conflicts} conflicts (${result.pending} pending), ` +
        `${((Date.now() - started) / 1000).toFixed(1)} s`;
      if (result.ok) {
        log.ok(line);
      } else {
        log.error(`${line}\n    ${result.error ?? Object.values(result.findings).flat().join('\n    ')}\n    replay: ${replay}`);
      }
    }
  } catch (error) {
    log.error(error.message);
    if (error.hint) console.error(`  how to fix: ${error.hint}`);
    return 1;
  } finally {
    await sql?.end({ timeout: 5 });
    await sim?.stop();
    await services?.stop();
    stopCluster(profile);
  }
  return summarize(results);
}

function summarize(results) {
  const sum = (key) => results.reduce((n, r) => n + (r[key] ?? 0), 0);
  const count = (name) => results.reduce((n, r) => n + (r.findings?.[name]?.length ?? 0), 0);
  const errored = results.filter((r) => r.error).length;
  console.log(`\nseeds ${results.length}, operations ${sum('operations')}, conflicts ${sum('conflicts')} (${sum('pending')} pending review), ` +
    `divergent records ${count('divergent')} (must be 0)${errored ? `, ${errored} seed(s) failed to run` : ''}`);
  for (const [name, description] of Object.entries(propertyNames)) {
    const violations = count(name);
    console.log(`  ${violations === 0 && !errored ? 'PASS' : 'FAIL'}  ${description}${violations ? ` (${violations})` : ''}`);
  }
  const failed = results.filter((r) => !r.ok);
  if (failed.length) console.log(`\nfailing seeds: ${failed.map((r) => `${r.seed} (${r.strategy})`).join(', ')}`);
  return failed.length ? 1 : 0;
}
