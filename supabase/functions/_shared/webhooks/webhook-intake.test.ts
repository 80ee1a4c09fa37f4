import { describe, expect, it, test } from 'vitest';
import { isJsonContentType, MAX_JSON_DEPTH, readJsonBody, unstorableJson, withDeadline } from './webhook-intake.ts';

const nested = (depth: number): unknown => {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = i % 2 ? [value] : { a: value };
  return value;
};

describe('unstorableJson', () => {
  test.each<[string, unknown, RegExp | null]>([
    ['plain values', { a: [1, 'two', null, true, { b: 'Zoë 😀' }] }, null],
    ['U+0000 in a value', { a: ['ok', 'nul\u0000'] }, /U\+0000/],
    ['U+0000 in a key', { ['k\u0000']: 1 }, /U\+0000/],
    ['a lone high surrogate', { a: 'x\ud800' }, /lone surrogate/],
    ['a lone low surrogate', ['\udc00'], /lone surrogate/],
    ['nesting at the limit', nested(MAX_JSON_DEPTH), null],
    ['nesting past the limit', nested(MAX_JSON_DEPTH + 1), /nesting deeper/],
  ])('%s', (_label, value, problem) => {
    const found = unstorableJson(value);
    if (problem === null) expect(found).toBeNull();
    else expect(found).toMatch(problem);
  });
});

describe('readJsonBody', () => {
  const read = (body: string | Uint8Array, max = 1_000) =>
    readJsonBody(new Request('http://x/', { method: 'POST', body }), max);

  it('parses UTF-8 JSON', async () => {
    expect(await read('{"a":"é"}')).toMatchObject({ ok: true, value: { a: 'é' } });
  });

  test.each<[string, string | Uint8Array, number, string]>([
    ['over the limit', `"${'x'.repeat(1_000)}"`, 413, 'payload_too_large'],
    ['not JSON', '{', 400, 'invalid_json'],
    ['not UTF-8', new Uint8Array([0x22, 0xc3, 0x22]), 400, 'invalid_json'],
    ['an escaped U+0000', '{"a":"\\u0000"}', 400, 'unstorable_json'],
    ['an escaped lone surrogate', '["\\ud83d"]', 400, 'unstorable_json'],
    ['deep nesting', `${'['.repeat(200)}${']'.repeat(200)}`, 400, 'unstorable_json'],
  ])('refuses a body %s', async (_label, body, status, code) => {
    const result = await read(body);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.outcome.response.status).toBe(status);
    expect(result.outcome.code).toBe(code);
  });
});

describe('isJsonContentType', () => {
  test.each<[string | null, boolean]>([
    ['application/json', true],
    ['application/json; charset=utf-8', true],
    [' APPLICATION/JSON ', true],
    ['application/jsonx', false],
    ['application/json-patch+json', false],
    ['text/json', false],
    ['', false],
    [null, false],
  ])('%j is %s', (value, expected) => {
    expect(isJsonContentType(value)).toBe(expected);
  });
});

describe('withDeadline', () => {
  it('passes the result through in time', async () => {
    expect(await withDeadline(Promise.resolve(7), 50)).toBe(7);
  });

  it('rejects after the deadline when the work hangs', async () => {
    const started = Date.now();
    await expect(withDeadline(new Promise(() => {}), 30)).rejects.toThrow('within 30 ms');
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});
