#!/usr/bin/env node
// npm run sim: the convergence simulation (see scripts/sim/convergence.mjs)
// on a throwaway stack of its own (ports 54381/54382, data in
// .stack/test-54382/; CRM_SYNC_SIM_API_PORT / CRM_SYNC_SIM_DB_PORT move
// them), so neither `npm start` nor `npm test` is disturbed. Exits 1 when a
// property is violated (or the run could not start), 2 on a usage mistake.
import { ensureDependencies } from './ensure-deps.mjs';

const strategyNames = ['timestamp', 'source_priority', 'field_merge', 'manual_review'];
const crmNames = ['hubspot', 'pipedrive'];
const usage = `Usage: npm run sim [-- options]

A seeded random workload of concurrent edits, creates and deletes to
overlapping contacts in Postgres, the HubSpot simulator and the Pipedrive
simulator (each seed a fresh tenant connected to both), with webhooks
duplicated, reordered, delayed, dropped and lost to a webhook ban, and
429/5xx injected; then a catch-up pass (batch reconciliation of each
connection) and the properties: every record equal on all sides (under
manual review, except fields awaiting review), no duplicates, no record
resurrected after a delete that won, no one-side edit lost, each true
conflict pending once.

Options:
  --seeds <n>           how many seeds to run (default 20)
  --seed <n>            the first seed (default 1); with --seeds 1, replays one seed
  --records <n>         contacts every side holds at the start of a seed (default 6)
  --ops <n>             operations per seed (default 30)
  --strategy <name>     ${strategyNames.join(', ')} or all (default all: one per seed, in turn)
  --crms <list>         the CRMs connected, comma-separated: ${crmNames.join(', ')} (default both)
  -h, --help            this help

Logs of the simulation stack: .stack/test-<db port>/logs/`;

const args = process.argv.slice(2);
if (args.includes('-h') || args.includes('--help')) {
  console.log(usage);
  process.exit(0);
}
const options = { seeds: 20, seed: 1, records: 6, ops: 30, strategy: 'all', crms: crmNames };
const fail = (message) => {
  console.error(`${message}\n\n${usage}`);
  process.exit(2);
};
for (let i = 0; i < args.length; i++) {
  const name = args[i].startsWith('--') ? args[i].slice(2) : '';
  const value = args[++i];
  if (name === 'strategy') {
    if (![...strategyNames, 'all'].includes(value)) fail(`--strategy takes ${strategyNames.join(', ')} or all (got "${value ?? ''}")`);
    options.strategy = value;
  } else if (name === 'crms') {
    const crms = String(value ?? '').split(',').map((c) => c.trim()).filter(Boolean);
    if (crms.length === 0 || crms.some((c) => !crmNames.includes(c))) fail(`--crms takes a list of ${crmNames.join(', ')} (got "${value ?? ''}")`);
    options.crms = crmNames.filter((c) => crms.includes(c));
  } else if (['seeds', 'seed', 'records', 'ops'].includes(name)) {
    const n = Number(value);
    const min = name === 'records' ? 0 : 1;
    if (!Number.isInteger(n) || n < min) fail(`--${name} takes a whole number ≥ ${min} (got "${value ?? ''}")`);
    options[name] = n;
  } else {
    fail(`unknown option "${args[i - 1]}"`);
  }
}

process.env.CRM_SYNC_TEST_API_PORT = process.env.CRM_SYNC_SIM_API_PORT ?? '54381';
process.env.CRM_SYNC_TEST_DB_PORT = process.env.CRM_SYNC_SIM_DB_PORT ?? '54382';

ensureDependencies();
const { runSimulation } = await import('./sim/runner.mjs');
process.exit(await runSimulation({ ...options, strategies: options.strategy === 'all' ? strategyNames : [options.strategy] }));
