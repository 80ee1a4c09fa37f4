// start / stop / status / reset of the dev stack.
import fs from 'node:fs';
import { clusterRunning, connect, removeCluster, stopCluster } from './cluster.mjs';
import { prepareDatabase } from './database.mjs';
import { createHubSpotDemo, hubSpotStatusLines, stopLeftoverSimulator } from './demo.mjs';
import { localKeys } from './keys.mjs';
import { exitWithError, log } from './log.mjs';
import { applySeed } from './migrations.mjs';
import { loadProfile, localJwtSecret } from './profiles.mjs';
import { startServices } from './services.mjs';

const profile = loadProfile('dev');

function runningSupervisor() {
  if (!fs.existsSync(profile.pidFile)) return null;
  const pid = Number(fs.readFileSync(profile.pidFile, 'utf8'));
  try {
    process.kill(pid, 0);
    return pid;
  } catch {
    fs.rmSync(profile.pidFile, { force: true });
    return null;
  }
}

async function fetchHealth() {
  const keys = localKeys(localJwtSecret);
  try {
    const res = await fetch(`${profile.apiUrl}/functions/v1/health`, {
      headers: { authorization: `Bearer ${keys.anonKey}` },
      signal: AbortSignal.timeout(30_000),
    });
    return { status: res.status, body: await res.json() };
  } catch (error) {
    return { status: 0, body: { error: error.message } };
  }
}

function printConnectionInfo() {
  const keys = localKeys(localJwtSecret);
  console.log(`
  API URL (functions): ${profile.apiUrl}/functions/v1/<name>
  DB URL:              ${profile.dbUrl}
  JWT secret:          ${localJwtSecret}
  anon key:            ${keys.anonKey}
  service_role key:    ${keys.serviceRoleKey}
`);
}

async function start() {
  const pid = runningSupervisor();
  if (pid) {
    log.ok(`crm-sync is already running (pid ${pid}); nothing to do`);
    await status();
    return;
  }
  await prepareDatabase(profile);
  const services = await startServices(profile, { log: (line) => console.log(line), watch: true });
  fs.writeFileSync(profile.pidFile, String(process.pid));
  const hubSpot = createHubSpotDemo(profile);

  let stopping = false;
  const shutdown = async (signal) => {
    if (stopping) return;
    stopping = true;
    log.step(`${signal}: stopping the HubSpot demo, the functions, the pg_net worker and Postgres`);
    await hubSpot.stop();
    await services.stop();
    stopCluster(profile);
    fs.rmSync(profile.pidFile, { force: true });
    log.ok('stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));

  const warm = await services.gateway.warmUp();
  for (const fn of warm.filter((f) => !f.ok)) log.warn(`function ${fn.name} failed to start: ${fn.error}`);
  const health = await fetchHealth();
  if (health.status === 200) log.ok(`health: ${health.body.status}, ${health.body.migrations.count} migrations, extensions ${Object.entries(health.body.extensions).map(([n, v]) => `${n} ${v}`).join(', ')}`);
  else log.warn(`health check answered ${health.status}: ${JSON.stringify(health.body)}`);
  log.ok(`crm-sync is running. Functions: ${warm.map((f) => f.name).join(', ')}`);
  printConnectionInfo();
  await hubSpot.start();
  log.info('Press Ctrl-C to stop.');
}

async function stop() {
  const pid = runningSupervisor();
  if (pid) {
    process.kill(pid, 'SIGTERM');
    for (let i = 0; i < 150 && runningSupervisor(); i++) await new Promise((r) => setTimeout(r, 100));
  }
  const stoppedSimulator = stopLeftoverSimulator(profile);
  const stoppedDb = stopCluster(profile);
  log.ok(pid || stoppedDb || stoppedSimulator ? 'crm-sync stopped' : 'crm-sync was not running');
}

async function status() {
  const pid = runningSupervisor();
  const dbUp = clusterRunning(profile);
  console.log(`  Postgres:  ${dbUp ? `running on 127.0.0.1:${profile.dbPort}` : 'stopped'}`);
  console.log(`  Functions: ${pid ? `serving on ${profile.apiUrl} (pid ${pid})` : 'stopped'}`);
  for (const line of hubSpotStatusLines(profile, Boolean(pid))) console.log(line);
  if (dbUp) {
    const sql = connect(profile);
    try {
      const rows = await sql`select version, name from supabase_migrations.schema_migrations order by version`;
      console.log(`  Migrations: ${rows.length} applied${rows.length ? `, latest ${rows.at(-1).version}_${rows.at(-1).name}` : ''}`);
    } catch {
      console.log('  Migrations: none applied yet');
    } finally {
      await sql.end();
    }
  }
  if (pid) {
    const health = await fetchHealth();
    console.log(`  Health:    ${health.status === 200 ? health.body.status : `HTTP ${health.status}`}`);
    printConnectionInfo();
  }
}

async function reset() {
  await stop();
  log.step('deleting the local database');
  removeCluster(profile);
  const { created } = await prepareDatabase(profile, { seed: false });
  if (created) await applySeed(profile);
  log.ok(`clean database ready on 127.0.0.1:${profile.dbPort} (Postgres left running; "npm start" serves the functions)`);
}

const commands = { start, stop, status, reset };

export async function runStackCommand(name) {
  try {
    await commands[name]();
  } catch (error) {
    exitWithError(error);
  }
}
