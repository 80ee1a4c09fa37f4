// crm-sync worker: one bounded drain of the sync queues (the sync-worker
// function), with its report.
import { integerOption } from '../args.mjs';
import { seconds } from '../output.mjs';

/** @type {import('../args.mjs').CommandSpec} */
export default {
  name: 'worker',
  summary: 'run one sync-worker drain and print its report',
  usage: 'worker [--budget-ms <ms>] [--json]',
  description: [
    'Drains the inbound and outbound queues until they are empty or the time budget is',
    'spent. pg_net and the cron safety net run it on their own; this is for operators.',
  ].join('\n'),
  options: {
    'budget-ms': { type: 'string', value: '<ms>', description: 'time budget, 1000 to 120000 (default 25000)' },
  },
  async run({ values, out, functions }) {
    const budgetMs = integerOption(values['budget-ms'], '--budget-ms', 1_000, 120_000);
    const report = await (await functions()).invoke('sync-worker', {
      method: 'POST',
      body: { reason: 'crm-sync cli', ...(budgetMs ? { budget_ms: budgetMs } : {}) },
      timeoutMs: (budgetMs ?? 25_000) + 60_000,
    });
    out.result(report, describeWorkerReport(report));
  },
};

/** @param {Record<string, any>} counts */
const list = (counts) => Object.entries(counts ?? {}).map(([name, n]) => `${name} ${n}`).join(', ');

/**
 * @param {any} report the sync-worker's answer
 * @returns {string[]}
 */
export function describeWorkerReport(report) {
  return [
    `sync-worker ran ${seconds(report.elapsedMs ?? 0)}, ${report.batches ?? 0} batch${report.batches === 1 ? '' : 'es'}`,
    `  inbound:  ${list(report.inbound)}`,
    `  outbound: ${list(report.outbound)}`,
    `  retried ${report.retried ?? 0}, dead-lettered ${report.deadLettered ?? 0}, paused: ${report.paused?.length ? report.paused.join(', ') : 'none'}`,
    `  more work: ${report.moreWork ? 'yes (the next run is already kicked)' : 'no'}`,
  ];
}
