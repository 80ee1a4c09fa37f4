// crm-sync cancel <job-id>: stop a sync job (what it applied stays).
import { uuidArgument } from '../args.mjs';
import { describeJob } from '../job-progress.mjs';

/** @type {import('../args.mjs').CommandSpec} */
export default {
  name: 'cancel',
  summary: 'cancel a sync job (pages already applied stay applied)',
  usage: 'cancel <job-id> [--json]',
  positionals: [{ name: 'job-id', description: 'the job', required: true }],
  options: {},
  async run({ positionals, out, functions }) {
    const jobId = uuidArgument(positionals[0], '<job-id>', 'crm-sync jobs lists the job ids');
    const { job } = await (await functions()).invoke(`sync-jobs/${jobId}/cancel`, { method: 'POST', body: {} });
    out.result({ job }, describeJob(job));
  },
};
