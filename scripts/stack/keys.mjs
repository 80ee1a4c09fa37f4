// The local JWT secret and the anon/service_role keys signed with it (HS256),
// as the Supabase CLI prints them, plus verification for the gateway.
import { createHmac, timingSafeEqual } from 'node:crypto';

const b64url = (input) => Buffer.from(input).toString('base64url');

/** Signs a JWT payload with HS256. */
export function signJwt(payload, secret) {
  const head = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const body = b64url(JSON.stringify(payload));
  const signature = createHmac('sha256', secret).update(`${head}.${body}`).digest('base64url');
  return `${head}.${body}.${signature}`;
}

/**
 * Verifies an HS256 JWT; returns its claims, or null when the signature,
 * algorithm or expiry is wrong.
 */
export function verifyJwt(token, secret, nowSeconds = Math.floor(Date.now() / 1000)) {
  const parts = typeof token === 'string' ? token.split('.') : [];
  if (parts.length !== 3) return null;
  const [head, body, signature] = parts;
  let header;
  let claims;
  try {
    header = JSON.parse(Buffer.from(head, 'base64url').toString('utf8'));
    claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  if (header?.alg !== 'HS256' || typeof claims !== 'object' || claims === null) return null;
  const expected = createHmac('sha256', secret).update(`${head}.${body}`).digest();
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  if (typeof claims.exp === 'number' && claims.exp < nowSeconds) return null;
  return claims;
}

/** Long-lived local keys (exp in 2033), like the CLI's demo keys. */
export function localKeys(secret) {
  const issued = 1_700_000_000;
  const expires = 2_000_000_000;
  return {
    anonKey: signJwt({ iss: 'supabase-demo', role: 'anon', iat: issued, exp: expires }, secret),
    serviceRoleKey: signJwt({ iss: 'supabase-demo', role: 'service_role', iat: issued, exp: expires }, secret),
  };
}
