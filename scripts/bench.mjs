#!/usr/bin/env node
// npm run bench: measures the sync engine against its targets on a
// throwaway stack of its own (profile `test` on ports 54371/54372, data in
// .stack/test-54372/, so neither `npm start` nor `npm test` is disturbed),
// and writes bench/results/<YYYY-MM-DD>.md and .json. A missed target is
// reported as missed; the command still exits 0. It exits 1 only when a
// workload could not run.
import { ensureDependencies } from './ensure-deps.mjs';

const usage = `Usage: npm run bench [-- options]

Workloads: propagation latency (both directions, at light load and at 10%
of capacity, i.e. while 100 other changes/s go the same way), bulk outbound
under the 100 requests / 10 s limit, webhook ingest, a naive
one-call-per-record baseline, backfill and reconciliation at 100,000
(--quick) or 1,000,000 contacts, and the sync-worker's CPU per invocation.

Options:
  --quick               shorter runs, 100,000 contacts in the backfill (under 5 minutes instead of about 25)
  --only <names>        comma-separated subset of: latency, bulk, ingest, naive, backfill,
                        pipedrive-ingest, pipedrive-latency, pipedrive-outbound
  -h, --help            this help

Results: bench/results/<YYYY-MM-DD>.md and .json (today's file is replaced); a run with
--only writes bench/results/<YYYY-MM-DD>-<names>.md and .json instead.
Logs of the benchmark stack: .stack/test-54372/logs/`;

const args = process.argv.slice(2);
if (args.includes('-h') || args.includes('--help')) {
  console.log(usage);
  process.exit(0);
}
const options = { quick: false, only: null };
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--quick') options.quick = true;
  else if (args[i] === '--only') options.only = String(args[++i] ?? '').split(',').filter(Boolean);
  else {
    console.error(`unknown option "${args[i]}"\n\n${usage}`);
    process.exit(2);
  }
}

// The bench stack's own ports (CRM_SYNC_BENCH_API_PORT / _DB_PORT move
// them), set before the profile is loaded.
process.env.CRM_SYNC_TEST_API_PORT = process.env.CRM_SYNC_BENCH_API_PORT ?? '54371';
process.env.CRM_SYNC_TEST_DB_PORT = process.env.CRM_SYNC_BENCH_DB_PORT ?? '54372';

ensureDependencies();
const { runBenchmarks, workloadNames } = await import('./bench/runner.mjs');
const unknown = (options.only ?? []).filter((name) => !workloadNames.includes(name));
if (unknown.length) {
  console.error(`--only takes ${workloadNames.join(', ')}; unknown: ${unknown.join(', ')}`);
  process.exit(2);
}
process.exit(await runBenchmarks(options));
