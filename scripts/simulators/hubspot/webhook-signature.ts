/**
 * Request signatures HubSpot puts on webhook deliveries.
 * v3: Base64(HMAC-SHA256(clientSecret, method + uri + body + timestamp)),
 * where uri is the called URL with a fixed set of percent-encodings decoded.
 * v1: hex SHA-256 of clientSecret + body.
 * Written independently of the engine's verifier
 * (supabase/functions/_shared/providers/hubspot/webhook-signature.ts) on
 * purpose: a test signed and checked by the same code could not catch a
 * mistake in it.
 */

import { createHash, createHmac } from 'node:crypto';

const DECODED_IN_SIGNATURE: Record<string, string> = {
  '%3A': ':',
  '%2F': '/',
  '%3F': '?',
  '%40': '@',
  '%21': '!',
  '%24': '$',
  '%27': "'",
  '%28': '(',
  '%29': ')',
  '%2A': '*',
  '%2C': ',',
  '%3B': ';',
};

/** The URI as it enters the v3 signature. */
export function signatureUri(url: string): string {
  return url.replace(/%(3A|2F|3F|40|21|24|27|28|29|2A|2C|3B)/gi, (match) => DECODED_IN_SIGNATURE[match.toUpperCase()]);
}

export function signV3(secret: string, method: string, url: string, body: string, timestamp: string): string {
  return createHmac('sha256', secret).update(`${method}${signatureUri(url)}${body}${timestamp}`).digest('base64');
}

export function signV1(secret: string, body: string): string {
  return createHash('sha256').update(`${secret}${body}`).digest('hex');
}
