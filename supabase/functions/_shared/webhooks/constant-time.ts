// Comparisons of secrets whose running time does not tell an attacker how
// much of a guess was right. Web Crypto only, so Deno and Node load it alike.

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
const bytesOf = (value: string | Uint8Array) => (typeof value === 'string' ? encoder.encode(value) : new Uint8Array(value));

/**
 * Whether a presented secret equals the stored one. Both are hashed first, so
 * the comparison always covers 32 bytes and reveals neither where they
 * differ nor the stored secret's length.
 */
export async function secretsEqual(presented: string | Uint8Array, stored: string | Uint8Array): Promise<boolean> {
  const [a, b] = await Promise.all([
    crypto.subtle.digest('SHA-256', bytesOf(presented)),
    crypto.subtle.digest('SHA-256', bytesOf(stored)),
  ]);
  return timingSafeEqual(new Uint8Array(a), new Uint8Array(b));
}
