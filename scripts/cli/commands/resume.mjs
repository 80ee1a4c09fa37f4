// crm-sync resume <job-id>: continue a paused or failed job from its checkpoint.
import { uuidArgument } from '../args.mjs';
import { finishFollowed, followJob, progressLine } from '../job-progress.mjs';

/** @type {import('../args.mjs').CommandSpec} */
export default {
  name: 'resume',
  summary: 'continue a paused or failed sync job from its checkpoint',
  usage: 'resume <job-id> [--detach] [--json]',
  positionals: [{ name: 'job-id', description: 'the job', required: true }],
  options: {
    detach: { type: 'boolean', description: 'resume it and return without following it' },
  },
  async run({ values, positionals, out, functions }) {
    const jobId = uuidArgument(positionals[0], '<job-id>', 'crm-sync jobs lists the job ids');
    const client = await functions();
    const { job } = await client.invoke(`sync-jobs/${jobId}/resume`, { method: 'POST', body: {} });
    if (values.detach) {
      out.result({ job }, progressLine(job));
      return;
    }
    finishFollowed(await followJob(client, jobId, out), out);
  },
};
