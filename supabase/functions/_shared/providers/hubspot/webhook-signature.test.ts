import { createHmac } from 'node:crypto';
import { describe, expect, it, test } from 'vitest';
import {
  HUBSPOT_SIGNATURE_MAX_AGE_MS,
  hubSpotSignatureUri,
  type HubSpotVerifyInput,
  type SignatureVerdict,
  signHubSpotV3,
  verifyHubSpotSignatureV3,
} from './webhook-signature.ts';

const now = 1_790_000_000_000;
const secret = 'hubspot-client-secret-0f6a';
const url = 'https://abc.supabase.co/functions/v1/hubspot-webhook';
const body =
  '[{"eventId":1,"portalId":62515,"objectId":101,"occurredAt":1790000000000,"subscriptionType":"contact.creation"}]';

/** HubSpot's documented recipe, computed independently with node:crypto. */
function referenceSignature(signedUri: string, rawBody: string, timestamp: string, key = secret, method = 'POST') {
  return createHmac('sha256', key).update(`${method}${signedUri}${rawBody}${timestamp}`, 'utf8').digest('base64');
}

function request(overrides: Partial<HubSpotVerifyInput> = {}): HubSpotVerifyInput {
  const timestamp = String(now);
  return {
    method: 'POST',
    uri: url,
    rawBody: body,
    timestamp,
    signature: referenceSignature(url, body, timestamp),
    clientSecret: secret,
    nowMs: now,
    ...overrides,
  };
}

/** A request signed (correctly) at another time. */
function sentAt(ms: number): HubSpotVerifyInput {
  const timestamp = String(ms);
  return request({ timestamp, signature: referenceSignature(url, body, timestamp) });
}

const encodedQuery = '?next=https%3A%2F%2Fapp.example.com%2Fa%3Fb%40c%21d%24e%27f%28g%29h%2Ai%2Cj%3Bk';
const decodedQuery = "?next=https://app.example.com/a?b@c!d$e'f(g)h*i,j;k";

describe('verifyHubSpotSignatureV3', () => {
  test.each<[string, HubSpotVerifyInput, SignatureVerdict]>([
    ['a valid signature', request(), { ok: true }],
    ['a signature made with another secret', request({ clientSecret: 'another-secret' }), {
      ok: false,
      reason: 'signature_mismatch',
    }],
    ['a tampered body', request({ rawBody: body.replace('101', '102') }), { ok: false, reason: 'signature_mismatch' }],
    ['the body as bytes', request({ rawBody: new TextEncoder().encode(body) }), { ok: true }],
    ['another method', request({ method: 'PUT' }), { ok: false, reason: 'signature_mismatch' }],
    ['another URL', request({ uri: `${url}?x=1` }), { ok: false, reason: 'signature_mismatch' }],
    ['a timestamp exactly five minutes old', sentAt(now - HUBSPOT_SIGNATURE_MAX_AGE_MS), { ok: true }],
    ['a timestamp over five minutes old', sentAt(now - HUBSPOT_SIGNATURE_MAX_AGE_MS - 1), {
      ok: false,
      reason: 'timestamp_expired',
    }],
    ['a timestamp over five minutes ahead', sentAt(now + HUBSPOT_SIGNATURE_MAX_AGE_MS + 1), {
      ok: false,
      reason: 'timestamp_in_future',
    }],
    ['a timestamp in seconds, not ms', sentAt(Math.floor(now / 1000)), { ok: false, reason: 'timestamp_expired' }],
    ['a timestamp that is not a number', request({ timestamp: '2026-01-01T00:00:00Z' }), {
      ok: false,
      reason: 'invalid_timestamp',
    }],
    ['a timestamp other than the signed one', request({ timestamp: String(now - 1) }), {
      ok: false,
      reason: 'signature_mismatch',
    }],
    ['a missing signature header', request({ signature: null }), { ok: false, reason: 'missing_signature' }],
    ['an empty signature header', request({ signature: '' }), { ok: false, reason: 'missing_signature' }],
    ['a missing timestamp header', request({ timestamp: undefined }), { ok: false, reason: 'missing_timestamp' }],
    ['an empty timestamp header', request({ timestamp: '' }), { ok: false, reason: 'missing_timestamp' }],
    ['no secret to check against', request({ clientSecret: null }), { ok: false, reason: 'missing_secret' }],
    ['a signature that is not Base64', request({ signature: 'not base64!' }), {
      ok: false,
      reason: 'signature_mismatch',
    }],
    ['a truncated signature', request({ signature: referenceSignature(url, body, String(now)).slice(0, 40) }), {
      ok: false,
      reason: 'signature_mismatch',
    }],
    [
      'a hex signature (v2 style)',
      request({
        signature: createHmac('sha256', secret).update(`POST${url}${body}${now}`).digest('hex'),
      }),
      { ok: false, reason: 'signature_mismatch' },
    ],
    [
      'percent-encodings signed in decoded form',
      request({
        uri: url + encodedQuery,
        signature: referenceSignature(url + decodedQuery, body, String(now)),
      }),
      { ok: true },
    ],
    [
      'lower-case percent-encodings signed in decoded form',
      request({
        uri: `${url}?next=https%3a%2f%2fapp.example.com`,
        signature: referenceSignature(`${url}?next=https://app.example.com`, body, String(now)),
      }),
      { ok: true },
    ],
    [
      'percent-encodings signed still encoded',
      request({
        uri: url + encodedQuery,
        signature: referenceSignature(url + encodedQuery, body, String(now)),
      }),
      { ok: false, reason: 'signature_mismatch' },
    ],
    [
      '%20 signed as is',
      request({
        uri: `${url}?name=Jane%20Doe`,
        signature: referenceSignature(`${url}?name=Jane%20Doe`, body, String(now)),
      }),
      { ok: true },
    ],
    [
      '%20 signed decoded (HubSpot does not decode it)',
      request({
        uri: `${url}?name=Jane%20Doe`,
        signature: referenceSignature(`${url}?name=Jane Doe`, body, String(now)),
      }),
      { ok: false, reason: 'signature_mismatch' },
    ],
    [
      '%253A signed decoded only once',
      request({
        uri: `${url}?v=%253A`,
        signature: referenceSignature(`${url}?v=%253A`, body, String(now)),
      }),
      { ok: true },
    ],
    [
      'a non-ASCII body',
      request({
        rawBody: '[{"propertyValue":"Zoë Ångström 🚀"}]',
        signature: referenceSignature(url, '[{"propertyValue":"Zoë Ångström 🚀"}]', String(now)),
      }),
      { ok: true },
    ],
  ])('%s', async (_label, input, expected) => {
    expect(await verifyHubSpotSignatureV3(input)).toEqual(expected);
  });
});

describe('signHubSpotV3', () => {
  it('matches the documented recipe (HMAC-SHA256 of method + decoded uri + body + timestamp, Base64)', async () => {
    const signed = await signHubSpotV3({
      method: 'POST',
      uri: url + encodedQuery,
      rawBody: body,
      timestamp: '1790000000000',
      clientSecret: secret,
    });
    expect(signed).toBe(referenceSignature(url + decodedQuery, body, '1790000000000'));
  });

  it('produces what verifyHubSpotSignatureV3 accepts', async () => {
    const timestamp = String(now);
    const signature = await signHubSpotV3({ method: 'POST', uri: url, rawBody: body, timestamp, clientSecret: secret });
    expect(await verifyHubSpotSignatureV3({ ...request(), signature })).toEqual({ ok: true });
  });
});

describe('hubSpotSignatureUri', () => {
  test.each([
    ['%3A', ':'],
    ['%2F', '/'],
    ['%3F', '?'],
    ['%40', '@'],
    ['%21', '!'],
    ['%24', '$'],
    ['%27', "'"],
    ['%28', '('],
    ['%29', ')'],
    ['%2A', '*'],
    ['%2C', ','],
    ['%3B', ';'],
    ['%3a', ':'],
    ['%2f', '/'],
    ['%2a', '*'],
    ['%3b', ';'],
  ])('decodes %s to %s', (encoded, decoded) => {
    expect(hubSpotSignatureUri(`https://h/p?q=a${encoded}b`)).toBe(`https://h/p?q=a${decoded}b`);
  });

  test.each(['%20', '%2B', '%25', '%3D', '%26', '%23', '%5B', '%7E', '%C3%A9'])('leaves %s encoded', (encoded) => {
    expect(hubSpotSignatureUri(`https://h/p?q=a${encoded}b`)).toBe(`https://h/p?q=a${encoded}b`);
  });
});
