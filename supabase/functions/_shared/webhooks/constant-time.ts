// Comparisons of secrets whose running time does not tell an attacker how
// much of a guess was right. node:crypto, which Deno and Node both provide:
// its hash is synchronous, where Web Crypto's digest hands each call to a
// thread pool (most of a Pipedrive delivery's CPU time in the webhook
// function when it was used here).
import { createHash } from 'node:crypto';

/**
 * Compares two byte strings in time that depends only on their length, not
 * on where they first differ. Use it where the length is public (an
 * HMAC-SHA256 is 32 bytes); for secrets of any length use `secretsEqual`.
 */
export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a[i] ^ b[i];
  return difference === 0;
}

const encoder = new TextEncoder();
const bytesOf = (
  value: string | Uint8Array,
) => (typeof value === 'string' ? encoder.encode(value) : new Uint8Array(value));

/**
 * Whether a presented secret equals the stored one. Both are hashed first, so
 * the comparison always covers 32 bytes and reveals neither where they
 * differ nor the stored secret's length.
 */
export function secretsEqual(presented: string | Uint8Array, stored: string | Uint8Array): Promise<boolean> {
  const a = createHash('sha256').update(bytesOf(presented)).digest();
  const b = createHash('sha256').update(bytesOf(stored)).digest();
  return Promise.resolve(timingSafeEqual(a, b));
}
