// crm-sync disconnect <connection-id>: stops syncing a connection; every
// synced record stays.
import { uuidArgument } from '../args.mjs';

/** @type {import('../args.mjs').CommandSpec} */
export default {
  name: 'disconnect',
  summary: 'stop syncing a connection (its synced records are kept)',
  usage: 'disconnect <connection-id> [--json]',
  description: 'The connection is disabled, not deleted: connecting the same account again resumes it.',
  positionals: [{ name: 'connection-id', description: 'the connection (crm-sync connections --tenant <uuid> lists them)', required: true }],
  options: {},
  examples: ['crm-sync disconnect 3f1c0c56-1d1e-4a43-9a55-0b7c1f1e2a10'],
  async run({ positionals, out, functions }) {
    const id = uuidArgument(positionals[0], '<connection-id>', 'crm-sync connections --tenant <uuid> lists the ids');
    const result = await (await functions()).invoke(`connections/${id}`, { method: 'DELETE' });
    out.result(result, `disconnected ${id}: sync stopped, synced records kept`);
  },
};
