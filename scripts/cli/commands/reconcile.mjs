// crm-sync reconcile <connection-id>: compare Postgres with the CRM now (pg_cron runs one daily).
import { jobStartOptions, startAndFollow } from '../job-start.mjs';

/** @type {import('../args.mjs').CommandSpec} */
export default {
  name: 'reconcile',
  summary: 'compare every record with the CRM, store the drift and repair it',
  usage: 'reconcile <connection-id> [--entities <types>] [--detach] [--json]',
  description: [
    'Compares a checksum of the mapped fields of every CRM record with Postgres. Each',
    'difference is stored (sync.reconcile_drift: the field, both values, which side won and',
    'how it was resolved) and repaired through the conflict strategy; what cannot be',
    'settled is alerted. pg_cron runs one every day.',
  ].join('\n'),
  positionals: [{ name: 'connection-id', description: 'the connection', required: true }],
  options: jobStartOptions,
  examples: ['crm-sync reconcile 2e21d8ab-0c8e-4d59-9f59-3b0c5e0a1f10 --json'],
  async run(context) {
    await startAndFollow(context, 'reconcile');
  },
};
