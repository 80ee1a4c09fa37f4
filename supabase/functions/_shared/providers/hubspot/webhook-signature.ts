// HubSpot's v3 request signature on webhook deliveries:
// Base64(HMAC-SHA256(clientSecret, method + uri + rawBody + timestamp)), where
// uri is the URL HubSpot called with a fixed set of percent-encodings decoded
// and timestamp is the X-HubSpot-Request-Timestamp header (epoch ms). Requests
// older (or further in the future) than five minutes are rejected.
// Web Crypto only, so Deno and Node load it alike.
import { timingSafeEqual } from '../../webhooks/constant-time.ts';

export const HUBSPOT_SIGNATURE_HEADER = 'x-hubspot-signature-v3';
export const HUBSPOT_TIMESTAMP_HEADER = 'x-hubspot-request-timestamp';

/** How far a request timestamp may be from now, either way. */
export const HUBSPOT_SIGNATURE_MAX_AGE_MS = 5 * 60 * 1000;

export type SignatureFailure =
  | 'missing_signature'
  | 'missing_timestamp'
  | 'invalid_timestamp'
  | 'timestamp_expired'
  | 'timestamp_in_future'
  | 'missing_secret'
  | 'signature_mismatch';

export type SignatureVerdict = { ok: true } | { ok: false; reason: SignatureFailure };

export interface HubSpotSignatureInput {
  method: string;
  /** The full URL HubSpot called (scheme, host, path and query). */
  uri: string;
  /** The request body exactly as received. */
  rawBody: string | Uint8Array;
  /** X-HubSpot-Request-Timestamp as sent (epoch ms). */
  timestamp: string;
  clientSecret: string;
}

export interface HubSpotVerifyInput extends Omit<HubSpotSignatureInput, 'timestamp' | 'clientSecret'> {
  timestamp: string | null | undefined;
  /** X-HubSpot-Signature-v3 as sent. */
  signature: string | null | undefined;
  clientSecret: string | null | undefined;
  nowMs: number;
}

const decodedInSignature: Record<string, string> = {
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
const decodedInSignaturePattern = /%(3A|2F|3F|40|21|24|27|28|29|2A|2C|3B)/gi;

/** The URI as it enters the signature: only HubSpot's twelve encodings are decoded, nothing else. */
export function hubSpotSignatureUri(uri: string): string {
  return uri.replace(decodedInSignaturePattern, (match) => decodedInSignature[match.toUpperCase()]);
}

/** Checks the timestamp header alone: well-formed and within five minutes of nowMs. */
export function checkHubSpotTimestamp(timestamp: string | null | undefined, nowMs: number): SignatureVerdict {
  if (!timestamp) return { ok: false, reason: 'missing_timestamp' };
  if (!/^\d{1,16}$/.test(timestamp)) return { ok: false, reason: 'invalid_timestamp' };
  const sentMs = Number(timestamp);
  if (nowMs - sentMs > HUBSPOT_SIGNATURE_MAX_AGE_MS) return { ok: false, reason: 'timestamp_expired' };
  if (sentMs - nowMs > HUBSPOT_SIGNATURE_MAX_AGE_MS) return { ok: false, reason: 'timestamp_in_future' };
  return { ok: true };
}

const encoder = new TextEncoder();

async function hmacSha256(secret: string, input: Omit<HubSpotSignatureInput, 'clientSecret'>): Promise<Uint8Array> {
  const head = encoder.encode(input.method + hubSpotSignatureUri(input.uri));
  const body = typeof input.rawBody === 'string' ? encoder.encode(input.rawBody) : input.rawBody;
  const tail = encoder.encode(input.timestamp);
  const message = new Uint8Array(head.length + body.length + tail.length);
  message.set(head, 0);
  message.set(body, head.length);
  message.set(tail, head.length + body.length);
  const key = await crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, [
    'sign',
  ]);
  return new Uint8Array(await crypto.subtle.sign('HMAC', key, message));
}

function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** Decodes standard Base64; null when the text is not Base64. */
function fromBase64(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) return null;
  try {
    const binary = atob(text);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes;
  } catch {
    return null;
  }
}

/** The X-HubSpot-Signature-v3 value HubSpot would send (simulators and tests). */
export async function signHubSpotV3(input: HubSpotSignatureInput): Promise<string> {
  return toBase64(await hmacSha256(input.clientSecret, input));
}

/**
 * Verifies a delivery: timestamp within five minutes of nowMs, then the HMAC
 * over method + decoded uri + raw body + timestamp, compared in constant time.
 */
export async function verifyHubSpotSignatureV3(input: HubSpotVerifyInput): Promise<SignatureVerdict> {
  if (!input.signature) return { ok: false, reason: 'missing_signature' };
  const timestampVerdict = checkHubSpotTimestamp(input.timestamp, input.nowMs);
  if (!timestampVerdict.ok) return timestampVerdict;
  if (!input.clientSecret) return { ok: false, reason: 'missing_secret' };
  const expected = await hmacSha256(input.clientSecret, { ...input, timestamp: input.timestamp as string });
  const received = fromBase64(input.signature.trim());
  if (!received || !timingSafeEqual(expected, received)) return { ok: false, reason: 'signature_mismatch' };
  return { ok: true };
}
