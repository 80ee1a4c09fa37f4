// What backfill, sync and reconcile share: start a job of their kind on a
// connection through the sync-jobs function, then follow it to its end
// (or return at once with --detach).
import { integerOption, uuidArgument } from './args.mjs';
import { UsageError } from './errors.mjs';
import { finishFollowed, followJob, progressLine } from './job-progress.mjs';

const entityTypes = ['company', 'contact', 'deal', 'activity', 'task'];
const connectionHint = 'crm-sync connections --tenant <uuid> lists the connection ids';

/** Options every job-starting command takes. */
export const jobStartOptions = /** @type {Record<string, import('./args.mjs').OptionSpec>} */ ({
  entities: { type: 'string', value: '<types>', description: `comma-separated entity types (${entityTypes.join(', ')}); default: all the connection syncs` },
  detach: { type: 'boolean', description: 'start the job and return without following it' },
  'budget-ms': { type: 'string', value: '<ms>', description: 'wall-clock budget of each run of the job, 1000 to 140000 (default 25000)' },
  'max-records': { type: 'string', value: '<n>', description: 'records each run handles at most, 1 to 100000 (default 5000)' },
});

/** @param {string | boolean | undefined} value */
export function parseEntities(value) {
  if (value === undefined) return undefined;
  const list = String(value).split(',').map((e) => e.trim()).filter(Boolean);
  const unknown = list.filter((e) => !entityTypes.includes(e));
  if (list.length === 0 || unknown.length) {
    throw new UsageError(`--entities takes ${entityTypes.join(', ')}${unknown.length ? `; unknown: ${unknown.join(', ')}` : ''}`);
  }
  return list;
}

/**
 * Starts a job of `kind` from a command's parsed arguments and follows it unless --detach.
 * @param {import('./args.mjs').CommandContext} context
 * @param {'backfill' | 'export' | 'incremental' | 'reconcile'} kind
 */
export async function startAndFollow({ values, positionals, out, functions }, kind) {
  const connectionId = uuidArgument(positionals[0], '<connection-id>', connectionHint);
  const entities = parseEntities(values.entities);
  const budgetMs = integerOption(values['budget-ms'], '--budget-ms', 1_000, 140_000);
  const maxRecords = integerOption(values['max-records'], '--max-records', 1, 100_000);
  const client = await functions();
  const started = await client.invoke('sync-jobs', {
    method: 'POST',
    body: {
      connection_id: connectionId, kind, started_by: 'crm-sync cli',
      ...(entities ? { entity_types: entities } : {}),
      ...(budgetMs ? { budget_ms: budgetMs } : {}),
      ...(maxRecords ? { max_records: maxRecords } : {}),
    },
  });
  const job = started.job;
  out.note(started.created ? `started ${kind} job ${job.id}` : `a ${job.kind} job is already ${job.status} for these entity types: ${job.id}`);
  if (values.detach) {
    out.result(started, [progressLine(job), `  follow it: crm-sync status ${job.id} --watch`]);
    return;
  }
  finishFollowed(await followJob(client, job.id, out), out);
}
