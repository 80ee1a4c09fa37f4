// The steps of `npm test` (scripts/test.mjs).
import fs from 'node:fs';
import path from 'node:path';
import { connect, removeCluster, stopCluster } from './cluster.mjs';
import { prepareDatabase } from './database.mjs';
import { log } from './log.mjs';
import { lintDatabase } from './migrations.mjs';
import { loadProfile, repoRoot } from './profiles.mjs';
import { run, runLive } from './run.mjs';
import { fileLog, functionEnvironment, startServices } from './services.mjs';

const pgTapDir = path.join(repoRoot, 'supabase', 'tests', 'database');

function parseOptions(args) {
  const options = { only: null, keep: false, filters: [] };
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--only') options.only = args[++i];
    else if (args[i] === '--keep') options.keep = true;
    else options.filters.push(args[i]);
  }
  if (options.only && !['pgtap', 'vitest'].includes(options.only)) {
    throw new Error(`--only takes pgtap or vitest, not "${options.only}"`);
  }
  return options;
}

/** pgTAP is a test-only extension: the pgTAP suite and the policy mutation test use it. */
async function installPgTap(profile) {
  const sql = connect(profile);
  try {
    await sql`create extension if not exists pgtap with schema extensions`;
  } finally {
    await sql.end();
  }
}

async function runPgTap(profile) {
  const files = fs.readdirSync(pgTapDir).filter((f) => f.endsWith('.test.sql')).sort().map((f) => path.join(pgTapDir, f));
  log.step(`pgTAP: ${files.length} files`);
  const result = run('pg_prove', ['--host', '127.0.0.1', '--port', String(profile.dbPort), '--username', 'postgres',
    '--dbname', 'postgres', '--failures', ...files], { allowFail: true, env: { ...process.env, PGPASSWORD: 'postgres' } });
  process.stdout.write(result.stdout);
  process.stderr.write(result.stderr);
  const total = Number(result.stdout.match(/Tests=(\d+)/)?.[1] ?? 0);
  const failedLines = [...result.stdout.matchAll(/Failed (\d+)\/\d+ subtests/g)].map((m) => Number(m[1]));
  let failed = failedLines.reduce((a, b) => a + b, 0);
  if (result.status !== 0 && failed === 0) failed = 1; // a file that died before its plan
  return { passed: Math.max(total - failed, 0), failed };
}

async function runVitest(profile, filters) {
  const reportFile = path.join(profile.dir, 'vitest.json');
  fs.rmSync(reportFile, { force: true });
  log.step('vitest');
  const code = await runLive(path.join(repoRoot, 'node_modules', '.bin', 'vitest'),
    ['run', '--reporter=default', '--reporter=json', `--outputFile.json=${reportFile}`, ...filters], {
      cwd: repoRoot,
      env: { ...process.env, ...functionEnvironment(profile), CRM_SYNC_TEST_STACK: '1', CRM_SYNC_LOG_DIR: profile.logDir },
    });
  if (!fs.existsSync(reportFile)) return { passed: 0, failed: 1 };
  const report = JSON.parse(fs.readFileSync(reportFile, 'utf8'));
  const failed = report.numFailedTests + (code !== 0 && report.numFailedTests === 0 ? 1 : 0);
  return { passed: report.numPassedTests, failed };
}

/** Type-checks every Edge Function as Deno (the runtime they deploy to) sees it. */
function typeCheckFunctions() {
  const entries = fs.readdirSync(path.join(repoRoot, 'supabase', 'functions'), { withFileTypes: true })
    .filter((d) => d.isDirectory() && !d.name.startsWith('_'))
    .map((d) => path.join('supabase', 'functions', d.name, 'index.ts'))
    .filter((f) => fs.existsSync(path.join(repoRoot, f)));
  const result = run(path.join(repoRoot, 'node_modules', '.bin', 'deno'), ['check', ...entries],
    { cwd: repoRoot, allowFail: true, env: { ...process.env, NO_COLOR: '1' } });
  if (result.status === 0) {
    log.ok(`deno check: ${entries.length} functions type-check`);
    return { passed: 1, failed: 0 };
  }
  log.error(`deno check failed:\n${result.stdout}${result.stderr}`);
  return { passed: 0, failed: 1 };
}

export async function runTests(args) {
  const options = parseOptions(args);
  const profile = loadProfile('test');
  const totals = { passed: 0, failed: 0 };
  const add = (r) => { totals.passed += r.passed; totals.failed += r.failed; };
  let services = null;
  try {
    log.step('building a fresh test database');
    removeCluster(profile);
    await prepareDatabase(profile);
    await installPgTap(profile);

    if (options.only !== 'vitest') {
      add(typeCheckFunctions());
      const lint = lintDatabase(profile);
      if (lint.ok) {
        log.ok('supabase db lint: no PL/pgSQL errors');
        add({ passed: 1, failed: 0 });
      } else {
        log.error(`supabase db lint found errors:\n${lint.output}`);
        add({ passed: 0, failed: 1 });
      }
      add(await runPgTap(profile));
    }
    if (options.only !== 'pgtap') {
      services = await startServices(profile, { log: fileLog(profile, 'services') });
      add(await runVitest(profile, options.filters));
    }
  } catch (error) {
    log.error(error.message);
    if (error.hint) console.error(`  how to fix: ${error.hint}`);
    totals.failed += 1;
  } finally {
    await services?.stop();
    if (!options.keep) stopCluster(profile);
  }
  console.log(`\ntests: ${totals.passed} passed, ${totals.failed} failed`);
  return totals.failed === 0 ? 0 : 1;
}
