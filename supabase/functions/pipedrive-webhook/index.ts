import { parseFunctionEnv } from '../_shared/env.ts';
import { createPipedriveWebhookHandler, DEFAULT_MAX_BODY_BYTES } from '../_shared/webhooks/pipedrive-intake.ts';
import { createWebhookStore } from '../_shared/webhooks/webhook-store.ts';

const env = parseFunctionEnv(Deno.env.toObject());
const store = createWebhookStore(env.SUPABASE_DB_URL, 'pipedrive');

Deno.serve(createPipedriveWebhookHandler({
  findConnections: store.findConnections,
  receiveEvents: store.receiveEventsGrouped,
  maxBodyBytes: DEFAULT_MAX_BODY_BYTES,
  now: Date.now,
  log: (entry) => console.log(JSON.stringify(entry)),
}));
