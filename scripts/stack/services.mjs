// The long-running processes of a stack besides Postgres: the functions
// gateway (with its Deno workers) and the pg_net stand-in's HTTP worker.
import fs from 'node:fs';
import path from 'node:path';
import { startGateway } from './gateway.mjs';
import { localJwtSecret } from './profiles.mjs';
import { localKeys } from './keys.mjs';
import { assertPortFree } from './cluster.mjs';
import { startPgNetWorker } from './pg-net-worker.mjs';

/** The environment the hosted runtime gives every function. */
export function functionEnvironment(profile) {
  const keys = localKeys(localJwtSecret);
  return {
    SUPABASE_URL: profile.apiUrl,
    SUPABASE_DB_URL: profile.dbUrl,
    SUPABASE_ANON_KEY: keys.anonKey,
    SUPABASE_SERVICE_ROLE_KEY: keys.serviceRoleKey,
  };
}

/**
 * Starts the gateway and the pg_net worker; `log` receives every line they
 * print. Returns a handle whose stop() ends both.
 */
export async function startServices(profile, { log, watch = false }) {
  await assertPortFree(profile.apiPort, 'functions gateway', profile.envPrefix);
  const pgNet = await startPgNetWorker({ dbUrl: profile.dbUrl, log: { info: (m) => log(`[pg_net] ${m}`), warn: (m) => log(`[pg_net] ${m}`), error: (m) => log(`[pg_net] ${m}`), log: (m) => log(`[pg_net] ${m}`) } });
  const gateway = await startGateway({
    port: profile.apiPort,
    jwtSecret: localJwtSecret,
    env: functionEnvironment(profile),
    wallClockMs: profile.wallClockMs,
    memoryMb: profile.memoryMb,
    watch,
    log,
  });
  return {
    gateway,
    async stop() {
      await gateway.close();
      await pgNet.stop();
    },
  };
}

/** A log sink that appends to a file (tests keep the console for results). */
export function fileLog(profile, name) {
  fs.mkdirSync(profile.logDir, { recursive: true });
  const stream = fs.createWriteStream(path.join(profile.logDir, `${name}.log`), { flags: 'a' });
  return (line) => stream.write(`${new Date().toISOString()} ${line}\n`);
}
