import { describe, expect, it } from 'vitest';
import { signHubSpotV3 } from '../../supabase/functions/_shared/providers/hubspot/webhook-signature.ts';
import { signHubSpotV3Node } from './hubspot-signature.mjs';

describe('signHubSpotV3Node', () => {
  it.each([
    ['a plain batch', 'http://127.0.0.1:54371/functions/v1/hubspot-webhook', '[{"eventId":1,"portalId":7}]'],
    ['a query string and non-ASCII text', 'https://x.example/functions/v1/hubspot-webhook?a=1', '[{"propertyValue":"Zoë"}]'],
  ])('signs %s exactly as the function verifies it', async (_name, uri, rawBody) => {
    const input = { method: 'POST', uri, rawBody, timestamp: '1767225600000', clientSecret: 'bench-client-secret' };
    expect(signHubSpotV3Node(input)).toBe(await signHubSpotV3(input));
  });
});
