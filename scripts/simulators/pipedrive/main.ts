/**
 * Command line entry point of the Pipedrive simulator.
 *
 *   deno run -A scripts/simulators/pipedrive/main.ts --port 54391 --verbose
 *   deno run -A scripts/simulators/pipedrive/main.ts --help
 */

import process from 'node:process';
import { parseArgs } from 'node:util';
import { closeOnSignals, COMMON_CLI_OPTIONS, integer, parseSeedSpec, positiveNumber, runMain } from '../common/cli.ts';
import { type EntityKind, kindOf } from './entities.ts';
import { seedRecords } from './seed-data.ts';
import { createPipedriveSimulator } from './server.ts';

const HELP = `Pipedrive API simulator (API v2 persons, organizations, deals, activities,
pipelines, stages, search; v1 notes, fields, webhooks, users, merges; webhooks v2)
for tests, benchmarks and demos.

Usage: main.ts [options]

  --port <n>             Port to listen on (default 54391; 0 picks a free one)
  --host <addr>          Address to bind (default 127.0.0.1)
  --token <t>            Accepted API token (repeatable; default sim-api-token)
  --oauth-token <t>      Accepted OAuth access token (repeatable; default sim-oauth-token)
  --company-id <n>       Company (account) id; custom field keys derive from it
  --company-domain <s>   Company subdomain (default sim-<company-id>)
  --rate-limit <n>       Burst: requests per rolling 2 s per API token (default 20; OAuth 4x)
  --search-rate-limit <n> Search requests per rolling 2 s (default 10)
  --daily-budget <n>     Daily token budget of the company (default 90000)
  --webhook-time-scale <f> Multiply webhook retry delays, bans and expiry (default 1)
  --latency-ms <n>       Delay added to every API response
  --seed <n>             Seed for fake data, field keys and webhook faults (default 1)
  --seed-records <spec>  Records to create at start, e.g.
                         organizations=20,persons=100,deals=30,activities=40,notes=20
  --verbose              Log one line per API request
  --help                 Show this text

API v2 base: http://<host>:<port>/api/v2   API v1 base: http://<host>:<port>/v1
Control API: http://<host>:<port>/_sim/... (see README.md beside this file).
`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      ...COMMON_CLI_OPTIONS,
      port: { type: 'string', default: '54391' },
      'oauth-token': { type: 'string', multiple: true },
      'company-id': { type: 'string' },
      'company-domain': { type: 'string' },
      'rate-limit': { type: 'string' },
      'search-rate-limit': { type: 'string' },
      'daily-budget': { type: 'string' },
      'webhook-time-scale': { type: 'string' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }

  const seedSpec = parseSeedSpec(
    values['seed-records'],
    kindOf,
    'entity=count pairs (organizations, persons, deals, activities, notes)',
  );
  const sim = await createPipedriveSimulator({
    port: integer(values.port, 'port'),
    host: values.host,
    tokens: values.token?.length ? values.token : undefined,
    oauthTokens: values['oauth-token']?.length ? values['oauth-token'] : undefined,
    companyId: integer(values['company-id'], 'company-id'),
    companyDomain: values['company-domain'],
    rateLimit: {
      burstLimit: integer(values['rate-limit'], 'rate-limit'),
      searchBurstLimit: integer(values['search-rate-limit'], 'search-rate-limit'),
      dailyBudget: integer(values['daily-budget'], 'daily-budget'),
    },
    webhooks: { timeScale: positiveNumber(values['webhook-time-scale'], 'webhook-time-scale') },
    latencyMs: integer(values['latency-ms'], 'latency-ms'),
    seed: integer(values.seed, 'seed'),
    logRequest: values.verbose ? (line: string) => console.log(line) : undefined,
  });

  // Organizations first so persons and deals can belong to them; notes last.
  const order: EntityKind[] = ['organization', 'person', 'deal', 'activity', 'note'];
  for (const kind of order) {
    const count = seedSpec.find(([candidate]) => candidate === kind)?.[1];
    if (count) seedRecords(sim.state, { entity: kind, count });
  }

  const { options } = sim.state;
  console.log(
    `Pipedrive simulator listening on ${sim.url} (company ${options.companyId}, ${options.companyDomain}; API token${
      options.tokens.length > 1 ? 's' : ''
    } ${options.tokens.join(', ')}; v2 at ${sim.url}/api/v2, v1 at ${sim.url}/v1)`,
  );

  closeOnSignals(sim);
}

runMain(main);
