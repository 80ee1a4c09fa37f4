// The private Postgres 15 cluster of one stack profile: created with initdb
// under .stack/<profile>/pgdata, run by its own OS user, reachable only on
// 127.0.0.1 with Supabase's local password.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import postgres from 'postgres';
import { log, StackError } from './log.mjs';
import { dbOsUser, isRoot, run, runPg } from './run.mjs';

/** @typedef {import('./profiles.mjs').Profile} Profile */

function ownByDbUser(target) {
  if (isRoot) run('chown', ['-R', `${dbOsUser}:${dbOsUser}`, target]);
}

function settingsFor(profile) {
  const settings = {
    listen_addresses: `'127.0.0.1'`,
    port: profile.dbPort,
    unix_socket_directories: `''`,
    max_connections: 200,
    shared_preload_libraries: `'pg_cron'`,
    'cron.database_name': `'postgres'`,
    'cron.use_background_workers': 'on',
    max_worker_processes: 32,
    wal_level: 'logical',
    timezone: `'UTC'`,
    log_timezone: `'UTC'`,
    'vault.key_file': `'${profile.vaultKeyFile}'`,
  };
  if (!profile.durable) {
    // The test stack is rebuilt on every run: trade crash safety for speed.
    Object.assign(settings, { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' });
  }
  return Object.entries(settings).map(([key, value]) => `${key} = ${value}`).join('\n');
}

/** True when the data directory exists and holds an initialised cluster. */
export function clusterExists(profile) {
  return fs.existsSync(path.join(profile.pgData, 'PG_VERSION'));
}

/** Creates the cluster (once); returns true when it was created now. */
export function initCluster(profile) {
  if (clusterExists(profile)) return false;
  log.step(`creating a Postgres 15 cluster in ${path.relative(process.cwd(), profile.pgData) || profile.pgData}`);
  fs.mkdirSync(profile.logDir, { recursive: true });
  fs.mkdirSync(profile.pgData, { recursive: true, mode: 0o700 });
  const pwFile = path.join(profile.dir, '.pwfile');
  fs.writeFileSync(pwFile, 'postgres\n', { mode: 0o600 });
  // The Vault stand-in reads its key from this file, outside the database.
  if (!fs.existsSync(profile.vaultKeyFile)) {
    fs.writeFileSync(profile.vaultKeyFile, randomBytes(32).toString('hex'), { mode: 0o600 });
  }
  ownByDbUser(profile.dir);
  checkTraversable(profile.dir);
  try {
    runPg('initdb', [
      '-D', profile.pgData, '-U', 'postgres', '--pwfile', pwFile, '-E', 'UTF8', '--locale=C.UTF-8',
      '--auth-local=trust', '--auth-host=scram-sha-256',
    ], { what: 'initdb' });
  } finally {
    fs.rmSync(pwFile, { force: true });
  }
  fs.appendFileSync(path.join(profile.pgData, 'postgresql.conf'), `\n# crm-sync local stack\n${settingsFor(profile)}\n`);
  fs.writeFileSync(path.join(profile.pgData, 'pg_hba.conf'), [
    'local all all trust',
    'host all all 127.0.0.1/32 scram-sha-256',
    'host all all ::1/128 scram-sha-256',
    '',
  ].join('\n'));
  ownByDbUser(profile.dir);
  return true;
}

/** The cluster's OS user must be able to reach the data directory. */
function checkTraversable(dir) {
  if (!isRoot) return;
  const probe = run('runuser', ['-u', dbOsUser, '--', 'test', '-w', dir], { allowFail: true });
  if (probe.status !== 0) {
    throw new StackError(
      `the ${dbOsUser} OS user cannot reach ${dir}`,
      `make every parent folder traversable (chmod o+x on each), or clone the project under a folder such as /srv or /work`,
    );
  }
}

export function clusterRunning(profile) {
  if (!clusterExists(profile)) return false;
  return runPg('pg_ctl', ['-D', profile.pgData, 'status'], { allowFail: true }).status === 0;
}

export async function startCluster(profile) {
  if (clusterRunning(profile)) return;
  await assertPortFree(profile.dbPort, 'Postgres', profile.envPrefix);
  log.step(`starting Postgres on 127.0.0.1:${profile.dbPort}`);
  const logFile = path.join(profile.logDir, 'postgres.log');
  const result = runPg('pg_ctl', ['-D', profile.pgData, '-l', logFile, '-w', '-t', '60', 'start'], { allowFail: true });
  if (result.status !== 0) {
    const tail = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8').split('\n').slice(-15).join('\n') : '';
    throw new StackError(`Postgres did not start:\n${tail}`, `read ${logFile}; "npm run stack -- reset" rebuilds the cluster`);
  }
}

export function stopCluster(profile) {
  if (!clusterRunning(profile)) return false;
  runPg('pg_ctl', ['-D', profile.pgData, '-m', 'fast', '-w', 'stop'], { what: 'pg_ctl stop' });
  return true;
}

export function removeCluster(profile) {
  stopCluster(profile);
  fs.rmSync(profile.dir, { recursive: true, force: true });
}

/** A short-lived superuser connection to the profile's database. */
export function connect(profile, database = 'postgres') {
  const url = profile.dbUrl.replace(/\/postgres$/, `/${database}`);
  return postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 10 });
}

async function assertPortFree(port, what, envPrefix = 'CRM_SYNC') {
  const net = await import('node:net');
  await new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', () =>
      reject(new StackError(`port ${port} (${what}) is already in use by another program`,
        `stop that program (another crm-sync stack? "npm run stack -- stop"), or choose other ports with ${envPrefix}_DB_PORT / ${envPrefix}_API_PORT`)));
    server.listen(port, '127.0.0.1', () => server.close(resolve));
  });
}
export { assertPortFree };
