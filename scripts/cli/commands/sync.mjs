// crm-sync sync <connection-id>: an incremental sync now (pg_cron runs one hourly).
import { jobStartOptions, startAndFollow } from '../job-start.mjs';

/** @type {import('../args.mjs').CommandSpec} */
export default {
  name: 'sync',
  summary: 'apply what changed in the CRM since the last sync (incremental, deletions included)',
  usage: 'sync <connection-id> [--entities <types>] [--detach] [--json]',
  description: [
    'Lists the records changed since the high-water mark of the last full or incremental',
    'listing and applies them; an entity type never listed in full is listed in full.',
    'pg_cron starts one every hour for every connection; this runs one now.',
  ].join('\n'),
  positionals: [{ name: 'connection-id', description: 'the connection', required: true }],
  options: jobStartOptions,
  examples: ['crm-sync sync 2e21d8ab-0c8e-4d59-9f59-3b0c5e0a1f10'],
  async run(context) {
    await startAndFollow(context, 'incremental');
  },
};
