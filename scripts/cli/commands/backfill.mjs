// crm-sync backfill <connection-id>: every record of the CRM into Postgres
// (or with --export, every local record the CRM lacks into the CRM).
import { jobStartOptions, startAndFollow } from '../job-start.mjs';

/** @type {import('../args.mjs').CommandSpec} */
export default {
  name: 'backfill',
  summary: 'import every CRM record of a connection (or --export local records the CRM lacks)',
  usage: 'backfill <connection-id> [--export] [--entities <types>] [--detach] [--json]',
  description: [
    'Lists the CRM page by page and applies each page through the same conflict resolution',
    'as webhooks (nothing is duplicated, local edits are respected). The job saves a',
    'checkpoint after every page and resumes from it after a crash or a pause. With --export',
    'it links CRM records that match local ones by email or domain first, then creates the',
    'remaining local records in the CRM in batches. Shows live progress until the job ends.',
  ].join('\n'),
  positionals: [{ name: 'connection-id', description: 'the connection (crm-sync connections --tenant <uuid>)', required: true }],
  options: {
    export: { type: 'boolean', description: 'create local records in the CRM instead (initial export)' },
    ...jobStartOptions,
  },
  examples: ['crm-sync backfill 2e21d8ab-0c8e-4d59-9f59-3b0c5e0a1f10', 'crm-sync backfill <connection-id> --entities contact,company --json'],
  async run(context) {
    await startAndFollow(context, context.values.export ? 'export' : 'backfill');
  },
};
