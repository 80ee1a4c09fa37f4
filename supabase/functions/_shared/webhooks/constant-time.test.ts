import { describe, expect, it, test } from 'vitest';
import { secretsEqual, timingSafeEqual } from './constant-time.ts';

describe('timingSafeEqual', () => {
  test.each([
    [[1, 2, 3], [1, 2, 3], true],
    [[1, 2, 3], [1, 2, 4], false],
    [[1, 2, 3], [9, 2, 3], false],
    [[1, 2, 3], [1, 2], false],
    [[], [], true],
  ])('%j vs %j is %s', (a, b, equal) => {
    expect(timingSafeEqual(new Uint8Array(a), new Uint8Array(b))).toBe(equal);
  });
});

describe('secretsEqual', () => {
  test.each<[string | number[], string, boolean]>([
    ['user:pass', 'user:pass', true],
    ['user:pasS', 'user:pass', false],
    ['user:pas', 'user:pass', false],
    ['user:pass ', 'user:pass', false],
    ['', '', true],
    ['', 'user:pass', false],
    ['zoë:пароль', 'zoë:пароль', true],
    [[0x7a, 0x6f, 0xc3, 0xab], 'zoë', true],
  ])('%j vs %j is %s', async (presented, stored, equal) => {
    const given = typeof presented === 'string' ? presented : new Uint8Array(presented);
    expect(await secretsEqual(given, stored)).toBe(equal);
  });

  it('does not depend on the stored length: every comparison covers two SHA-256 digests', async () => {
    expect(await secretsEqual('a'.repeat(10_000), 'a'.repeat(10_000))).toBe(true);
    expect(await secretsEqual('a'.repeat(10_000), 'a'.repeat(9_999))).toBe(false);
  });
});
