// crm-sync jobs: sync jobs, newest first, of a connection or a tenant.
import { integerOption, tenantHint, uuidArgument } from '../args.mjs';
import { UsageError } from '../errors.mjs';
import { columns } from '../output.mjs';

const statuses = ['queued', 'running', 'paused', 'done', 'failed', 'cancelled'];

/** @type {import('../args.mjs').CommandSpec} */
export default {
  name: 'jobs',
  summary: 'list sync jobs (backfill, export, incremental, reconcile), newest first',
  usage: 'jobs [--connection <uuid> | --tenant <uuid>] [--status <status>] [--limit <n>] [--json]',
  options: {
    connection: { type: 'string', value: '<uuid>', description: 'only this connection\'s jobs' },
    tenant: { type: 'string', value: '<uuid>', description: 'only this tenant\'s jobs' },
    status: { type: 'string', value: '<status>', description: `only jobs in this status (${statuses.join(', ')})` },
    limit: { type: 'string', value: '<n>', description: 'at most this many, 1 to 500 (default 50)' },
  },
  examples: ['crm-sync jobs --tenant 00000000-0000-4000-8000-00000000a001 --status running'],
  async run({ values, out, functions }) {
    const query = {};
    if (values.connection !== undefined) query.connection_id = uuidArgument(String(values.connection), '--connection');
    if (values.tenant !== undefined) query.tenant_id = uuidArgument(String(values.tenant), '--tenant', tenantHint);
    if (values.status !== undefined) {
      if (!statuses.includes(String(values.status))) throw new UsageError(`--status must be one of ${statuses.join(', ')}, not "${values.status}"`);
      query.status = String(values.status);
    }
    const limit = integerOption(values.limit, '--limit', 1, 500);
    if (limit) query.limit = String(limit);
    const result = await (await functions()).invoke('sync-jobs', { method: 'GET', query });
    out.result(result, describeJobs(result.jobs ?? []));
  },
};

/** @param {any[]} jobs */
export function describeJobs(jobs) {
  if (jobs.length === 0) return ['no sync jobs (crm-sync backfill --help starts one)'];
  return columns([
    ['ID', 'KIND', 'STATUS', 'DONE', 'TOTAL', 'ENTITY TYPES', 'CREATED'],
    ...jobs.map((j) => [j.id, j.kind, j.status, String(j.done), j.total === null ? '-' : String(j.total), j.entity_types.join(','),
      String(j.created_at).slice(0, 19).replace('T', ' ')]),
  ]);
}
