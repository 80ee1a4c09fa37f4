#!/usr/bin/env node
// The local stack: `npm start` (start), `npm run stack -- stop|status|reset`.
import { ensureDependencies } from './ensure-deps.mjs';

const usage = `Usage: npm start                      start the local stack and stay up until Ctrl-C
       npm run stack -- <command>

Commands:
  start     install what is missing, start Postgres, apply migrations and seed,
            serve the Edge Functions, print URLs and keys, connect the demo tenant
            Acme to HubSpot (the simulator unless HUBSPOT_ACCESS_TOKEN is set),
            show sync activity, stay up until Ctrl-C
  stop      stop a running stack (the one started by "start", and Postgres)
  status    show what is running, the URLs and the applied migrations
  reset     stop, delete the local database and build a clean one (migrations + seed)

Environment:
  CRM_SYNC_API_PORT (54321)  CRM_SYNC_DB_PORT (54322)  CRM_SYNC_HUBSPOT_SIM_PORT (54340)
  CRM_SYNC_FUNCTION_WALL_CLOCK_MS (150000)  CRM_SYNC_FUNCTION_MEMORY_MB (256)
  HUBSPOT_ACCESS_TOKEN, HUBSPOT_CLIENT_SECRET   connect Acme to a real HubSpot account
  CRM_SYNC_PUBLIC_FUNCTIONS_URL                 the functions URL as HubSpot reaches it (a tunnel)`;

const command = process.argv[2] ?? 'start';
if (['-h', '--help', 'help'].includes(command)) {
  console.log(usage);
  process.exit(0);
}
if (!['start', 'stop', 'status', 'reset'].includes(command)) {
  console.error(`unknown command "${command}"\n\n${usage}`);
  process.exit(2);
}

ensureDependencies();
const { runStackCommand } = await import('./stack/commands.mjs');
await runStackCommand(command);
