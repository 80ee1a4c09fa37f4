/**
 * Command line entry point of the HubSpot simulator.
 *
 *   deno run -A scripts/simulators/hubspot/main.ts --port 54340 --verbose
 *   deno run -A scripts/simulators/hubspot/main.ts --help
 */

import process from 'node:process';
import { parseArgs } from 'node:util';
import { closeOnSignals, COMMON_CLI_OPTIONS, integer, parseSeedSpec, runMain } from '../common/cli.ts';
import { OBJECT_TYPE_NAMES, type ObjectTypeName, resolveObjectType } from './object-types.ts';
import { seedRecords } from './seed-data.ts';
import { createHubSpotSimulator } from './server.ts';

const HELP = `HubSpot API simulator (CRM v3 objects, search, associations v4, properties,
owners, pipelines, account info, webhooks) for tests, benchmarks and demos.

Usage: main.ts [options]

  --port <n>            Port to listen on (default 54340; 0 picks a free one)
  --host <addr>         Address to bind (default 127.0.0.1)
  --token <t>           Accepted access token (repeatable; default sim-token)
  --portal-id <n>       Portal (hub) id reported by the API and in webhooks
  --app-id <n>          App id used as sourceId of API writes and in webhooks
  --webhook-url <url>   Deliver webhook events to this URL
  --client-secret <s>   App client secret that signs webhook deliveries (and OAuth token requests)
  --client-id <id>      App client id for OAuth token requests (default sim-client-id)
  --token-ttl <s>       Lifetime of OAuth access tokens in seconds (default 1800)
  --rate-limit <n>      Requests per rolling 10 s per token (default 100)
  --daily-limit <n>     Requests per day per token (default 250000)
  --latency-ms <n>      Delay added to every API response
  --seed <n>            Seed for fake data and webhook faults (default 1)
  --seed-records <spec> Records to create at start, e.g. contacts=200,companies=40,deals=60
  --verbose             Log one line per API request
  --help                Show this text

Control API: http://<host>:<port>/_sim/... (see README.md beside this file).
`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      ...COMMON_CLI_OPTIONS,
      port: { type: 'string', default: '54340' },
      'portal-id': { type: 'string' },
      'app-id': { type: 'string' },
      'webhook-url': { type: 'string' },
      'client-secret': { type: 'string' },
      'client-id': { type: 'string' },
      'token-ttl': { type: 'string' },
      'rate-limit': { type: 'string' },
      'daily-limit': { type: 'string' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }

  const seedSpec = parseSeedSpec(
    values['seed-records'],
    resolveObjectType,
    `type=count pairs (${OBJECT_TYPE_NAMES.join(', ')})`,
  );
  const sim = await createHubSpotSimulator({
    port: integer(values.port, 'port'),
    host: values.host,
    tokens: values.token?.length ? values.token : undefined,
    portalId: integer(values['portal-id'], 'portal-id'),
    appId: integer(values['app-id'], 'app-id'),
    webhookUrl: values['webhook-url'] ?? null,
    clientSecret: values['client-secret'],
    clientId: values['client-id'],
    accessTokenTtlSeconds: integer(values['token-ttl'], 'token-ttl'),
    rateLimit: {
      maxPerInterval: integer(values['rate-limit'], 'rate-limit'),
      dailyLimit: integer(values['daily-limit'], 'daily-limit'),
    },
    latencyMs: integer(values['latency-ms'], 'latency-ms'),
    seed: integer(values.seed, 'seed'),
    logRequest: values.verbose ? (line: string) => console.log(line) : undefined,
  });

  // Companies first so contacts and deals can be associated with them.
  const order: ObjectTypeName[] = ['companies', 'contacts', 'deals', 'notes', 'calls', 'meetings', 'emails'];
  for (const type of order) {
    const count = seedSpec.find(([candidate]) => candidate === type)?.[1];
    if (!count) continue;
    const associateWith = type === 'companies'
      ? undefined
      : type === 'deals' || type === 'contacts'
      ? 'companies'
      : 'contacts';
    const hasTargets = associateWith !== undefined && sim.state.store.count(associateWith) > 0;
    seedRecords(sim.state, { objectType: type, count, associateWith: hasTargets ? associateWith : undefined });
  }

  const { options } = sim.state;
  console.log(
    `HubSpot simulator listening on ${sim.url} (portal ${options.portalId}, app ${options.appId}, token${
      options.tokens.length > 1 ? 's' : ''
    } ${options.tokens.join(', ')})`,
  );
  if (options.webhookUrl) console.log(`Webhooks go to ${options.webhookUrl}`);

  closeOnSignals(sim);
}

runMain(main);
