// Where each local stack lives and which ports it uses. `dev` is what
// `npm start` runs; `test` is a throwaway stack that `npm test` builds from
// scratch on other ports, so tests never touch a developer's data.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The well-known local JWT secret of the Supabase CLI; never used in production. */
export const localJwtSecret = 'super-secret-jwt-token-with-at-least-32-characters-long';

const base = {
  dev: { apiPort: 54321, dbPort: 54322, durable: true },
  test: { apiPort: 54331, dbPort: 54332, durable: false },
};

/**
 * @param {'dev'|'test'} name
 * @param {NodeJS.ProcessEnv} env
 */
export function loadProfile(name, env = process.env) {
  const defaults = base[name];
  if (!defaults) throw new Error(`unknown stack profile "${name}" (expected dev or test)`);
  const prefix = name === 'dev' ? 'CRM_SYNC' : 'CRM_SYNC_TEST';
  const apiPort = Number(env[`${prefix}_API_PORT`] ?? defaults.apiPort);
  const dbPort = Number(env[`${prefix}_DB_PORT`] ?? defaults.dbPort);
  // Stacks on non-default ports get their own folder, so several can run side by side.
  const dir = path.join(repoRoot, '.stack', dbPort === defaults.dbPort ? name : `${name}-${dbPort}`);
  return {
    name,
    envPrefix: prefix,
    durable: defaults.durable,
    apiPort,
    dbPort,
    dir,
    pgData: path.join(dir, 'pgdata'),
    logDir: path.join(dir, 'logs'),
    vaultKeyFile: path.join(dir, 'vault.key'),
    pidFile: path.join(dir, 'stack.pid'),
    apiUrl: `http://127.0.0.1:${apiPort}`,
    dbUrl: `postgresql://postgres:postgres@127.0.0.1:${dbPort}/postgres`,
    wallClockMs: Number(env.CRM_SYNC_FUNCTION_WALL_CLOCK_MS ?? 150_000),
    memoryMb: Number(env.CRM_SYNC_FUNCTION_MEMORY_MB ?? 256),
  };
}

/** @typedef {ReturnType<typeof loadProfile>} Profile */
