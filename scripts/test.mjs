#!/usr/bin/env node
// npm test: every test against a fresh database. Builds the throwaway `test`
// stack (own cluster and ports, so a running `npm start` is untouched), runs
// the PL/pgSQL lint, pgTAP through pg_prove, then vitest with the functions
// gateway up, and ends with one summary line.
import { ensureDependencies } from './ensure-deps.mjs';

const usage = `Usage: npm test [-- options] [vitest filters]

Options:
  --only <pgtap|vitest>   run one suite
  --keep                  leave the test stack's Postgres running afterwards (for debugging)
  -h, --help              this help

Logs of the test stack: .stack/test/logs/`;

const args = process.argv.slice(2);
if (args.includes('-h') || args.includes('--help')) {
  console.log(usage);
  process.exit(0);
}
ensureDependencies();
const { runTests } = await import('./stack/test-runner.mjs');
process.exit(await runTests(args));
