// HubSpot's v3 webhook signature in plain Node (node:crypto), for load
// generators that run outside Deno and vitest: Base64(HMAC-SHA256(secret,
// method + uri + body + timestamp)). Mirrors signHubSpotV3 in
// supabase/functions/_shared/providers/hubspot/webhook-signature.ts; the
// test beside this file checks that both agree. The URIs a benchmark signs
// carry none of the percent-encodings HubSpot decodes, so none are decoded.
import { createHmac } from 'node:crypto';

/** @param {{ method: string, uri: string, rawBody: string, timestamp: string, clientSecret: string }} input */
export function signHubSpotV3Node({ method, uri, rawBody, timestamp, clientSecret }) {
  return createHmac('sha256', clientSecret).update(method + uri + rawBody + timestamp).digest('base64');
}

/** The headers of a signed delivery of rawBody to uri, timestamped now. */
export function signedDeliveryHeaders({ uri, rawBody, clientSecret, now = Date.now() }) {
  const timestamp = String(now);
  return {
    'content-type': 'application/json',
    'x-hubspot-request-timestamp': timestamp,
    'x-hubspot-signature-v3': signHubSpotV3Node({ method: 'POST', uri, rawBody, timestamp, clientSecret }),
  };
}
