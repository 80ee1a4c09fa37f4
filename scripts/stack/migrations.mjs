// Applies supabase/migrations with the Supabase CLI (as `supabase db push`
// does on a hosted project), then the seed, and type-checks PL/pgSQL.
import fs from 'node:fs';
import path from 'node:path';
import { connect } from './cluster.mjs';
import { log, StackError } from './log.mjs';
import { repoRoot } from './profiles.mjs';
import { run } from './run.mjs';

const supabaseCli = path.join(repoRoot, 'node_modules', '.bin', 'supabase');
const cliUrl = (profile) => `${profile.dbUrl}?sslmode=disable`;

export async function applyMigrations(profile) {
  const result = run(supabaseCli, ['migration', 'up', '--db-url', cliUrl(profile)], {
    cwd: repoRoot,
    allowFail: true,
    env: { ...process.env, SUPABASE_TELEMETRY_DISABLED: '1', DO_NOT_TRACK: '1' },
  });
  const output = `${result.stdout}${result.stderr}`.trim();
  if (result.status !== 0) {
    throw new StackError(`a migration failed; nothing after it was applied:\n${output}`,
      'fix the migration named above (migrations are forward-only: add a new one if it already landed elsewhere), then start again');
  }
  const applied = output.split('\n').filter((line) => line.startsWith('Applying migration'));
  log.ok(applied.length ? `applied ${applied.length} migration(s)` : 'migrations up to date');
}

export async function applySeed(profile) {
  const seedFile = path.join(repoRoot, 'supabase', 'seed.sql');
  if (!fs.existsSync(seedFile)) return;
  const sql = connect(profile);
  try {
    await sql.begin((tx) => tx.unsafe(fs.readFileSync(seedFile, 'utf8')));
    log.ok('seed applied');
  } catch (error) {
    throw new StackError(`supabase/seed.sql failed: ${error.message}`, 'fix the seed and run "npm run stack -- reset"');
  } finally {
    await sql.end();
  }
}

/** `supabase db lint`: plpgsql_check over every function; true when clean. */
export function lintDatabase(profile) {
  const result = run(supabaseCli, ['db', 'lint', '--db-url', cliUrl(profile), '--schema', projectSchemas.join(','), '--level', 'warning', '--fail-on', 'error'], {
    cwd: repoRoot,
    allowFail: true,
    env: { ...process.env, SUPABASE_TELEMETRY_DISABLED: '1', DO_NOT_TRACK: '1' },
  });
  const output = `${result.stdout}${result.stderr}`.trim();
  return { ok: result.status === 0, output };
}

/** The schemas this project owns (RLS and lint apply to all of them). */
export const projectSchemas = ['public', 'crm', 'sync'];
