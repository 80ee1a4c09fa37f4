import { parseFunctionEnv, publicFunctionsUrl } from '../_shared/env.ts';
import { createHubSpotWebhookHandler, DEFAULT_MAX_BODY_BYTES } from '../_shared/webhooks/hubspot-intake.ts';
import { createWebhookStore } from '../_shared/webhooks/webhook-store.ts';

const env = parseFunctionEnv(Deno.env.toObject());
const store = createWebhookStore(env.SUPABASE_DB_URL, 'hubspot');

Deno.serve(createHubSpotWebhookHandler({
  findConnections: store.findConnections,
  receiveEvents: store.receiveEvents,
  publicFunctionsUrl: publicFunctionsUrl(env),
  maxBodyBytes: DEFAULT_MAX_BODY_BYTES,
  now: Date.now,
  log: (entry) => console.log(JSON.stringify(entry)),
}));
