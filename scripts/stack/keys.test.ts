import { describe, expect, it } from 'vitest';
import { localKeys, signJwt, verifyJwt } from './keys.mjs';

const secret = 'a-test-secret-that-is-at-least-32-characters';

describe('local JWT keys', () => {
  it('verifies a token it signed and returns the claims', () => {
    const token = signJwt({ role: 'authenticated', sub: 'u1', exp: 2_000_000_000 }, secret);
    expect(verifyJwt(token, secret)).toMatchObject({ role: 'authenticated', sub: 'u1' });
  });

  it('rejects another secret, a tampered payload, an expired token and alg none', () => {
    const token = signJwt({ role: 'anon', exp: 2_000_000_000 }, secret);
    expect(verifyJwt(token, `${secret}x`)).toBeNull();
    const [head, , sig] = token.split('.');
    const forged = Buffer.from(JSON.stringify({ role: 'service_role', exp: 2_000_000_000 })).toString('base64url');
    expect(verifyJwt(`${head}.${forged}.${sig}`, secret)).toBeNull();
    expect(verifyJwt(signJwt({ role: 'anon', exp: 100 }, secret), secret, 200)).toBeNull();
    const none = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    expect(verifyJwt(`${none}.${token.split('.')[1]}.`, secret)).toBeNull();
    expect(verifyJwt('not-a-jwt', secret)).toBeNull();
  });

  it('makes anon and service_role keys with those roles', () => {
    const keys = localKeys(secret);
    expect(verifyJwt(keys.anonKey, secret)?.role).toBe('anon');
    expect(verifyJwt(keys.serviceRoleKey, secret)?.role).toBe('service_role');
  });
});
