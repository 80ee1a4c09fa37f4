// crm-sync status <job-id>: a job's progress, rate and ETA (--watch follows it).
import { uuidArgument } from '../args.mjs';
import { describeJob, finishFollowed, followJob } from '../job-progress.mjs';

/** @type {import('../args.mjs').CommandSpec} */
export default {
  name: 'status',
  summary: 'show a sync job\'s progress (done, total, rate, ETA)',
  usage: 'status <job-id> [--watch] [--json]',
  positionals: [{ name: 'job-id', description: 'the job (crm-sync jobs lists them)', required: true }],
  options: {
    watch: { type: 'boolean', description: 'follow the job with live progress until it ends' },
  },
  examples: ['crm-sync status 7c9e6679-7425-40de-944b-e07fc1f90ae7 --watch'],
  async run({ values, positionals, out, functions }) {
    const jobId = uuidArgument(positionals[0], '<job-id>', 'crm-sync jobs lists the job ids');
    const client = await functions();
    if (values.watch) {
      finishFollowed(await followJob(client, jobId, out), out);
      return;
    }
    const { job } = await client.invoke(`sync-jobs/${jobId}`, { method: 'GET' });
    out.result({ job }, describeJob(job));
  },
};
