// Pipedrive protects webhooks with HTTP Basic auth only (no signature): the
// subscription's http_auth_user and http_auth_password come back in the
// Authorization header of every delivery. A connection stores them in Vault
// as `webhook_secret: "<user>:<password>"`, exactly the text Basic encodes.
import { secretsEqual } from '../../webhooks/constant-time.ts';

/** Credentials longer than this are not ones we issued; rejected before decoding. */
const MAX_AUTHORIZATION_LENGTH = 1_024;

export type BasicCredentialsFailure = 'missing_credentials' | 'malformed_credentials';

/**
 * The `user:password` bytes of an `Authorization: Basic <base64>` header, or
 * why there are none. Strict standard Base64; the bytes are compared as they
 * are, so no text decoding can make two different credentials equal.
 */
export function parseBasicAuthorization(
  header: string | null,
): { ok: true; credentials: Uint8Array } | { ok: false; reason: BasicCredentialsFailure } {
  if (!header || !header.trim()) return { ok: false, reason: 'missing_credentials' };
  if (header.length > MAX_AUTHORIZATION_LENGTH) return { ok: false, reason: 'malformed_credentials' };
  const match = /^Basic +([A-Za-z0-9+/]+={0,2})$/i.exec(header.trim());
  if (!match || match[1].length % 4 !== 0) return { ok: false, reason: 'malformed_credentials' };
  let binary: string;
  try {
    binary = atob(match[1]);
  } catch {
    return { ok: false, reason: 'malformed_credentials' };
  }
  const credentials = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) credentials[i] = binary.charCodeAt(i);
  if (!credentials.includes(0x3a)) return { ok: false, reason: 'malformed_credentials' }; // no ':'
  return { ok: true, credentials };
}

/** Whether the presented `user:password` bytes are the connection's webhook secret; constant time. */
export function credentialsMatch(presented: Uint8Array, webhookSecret: string | null): Promise<boolean> {
  if (!webhookSecret) return Promise.resolve(false);
  return secretsEqual(presented, webhookSecret);
}

/** The header Pipedrive sends for these credentials (tests and simulators). */
export function basicAuthorization(user: string, password: string): string {
  const bytes = new TextEncoder().encode(`${user}:${password}`);
  return `Basic ${btoa(String.fromCharCode(...bytes))}`;
}
