import { describe, expect, it } from 'vitest';
import { createConnectionCache, type WebhookConnection } from './connection-cache.ts';

const connection = (accountId: string): WebhookConnection => ({
  connectionId: `conn-${accountId}`,
  accountId,
  enabled: true,
  webhookSecret: 's',
});

function setup(options: { maxEntries?: number; known?: string[] } = {}) {
  const clock = { ms: 0 };
  const lookups: string[][] = [];
  let failing = false;
  const find = createConnectionCache(async (ids) => {
    lookups.push(ids);
    if (failing) throw new Error('down');
    return ids.filter((id) => (options.known ?? ids).includes(id)).map(connection);
  }, { ttlMs: 30_000, maxEntries: options.maxEntries ?? 100, now: () => clock.ms });
  return {
    find,
    clock,
    lookups,
    fail: (value: boolean) => {
      failing = value;
    },
  };
}

describe('createConnectionCache', () => {
  it('asks only for the accounts it does not hold', async () => {
    const c = setup({ known: ['1', '2'] });
    expect([...(await c.find(['1'])).keys()]).toEqual(['1']);
    expect([...(await c.find(['1', '2', '3', '2'])).keys()]).toEqual(['1', '2']);
    expect(c.lookups).toEqual([['1'], ['2', '3']]);
  });

  it('forgets entries after the TTL', async () => {
    const c = setup();
    await c.find(['1']);
    c.clock.ms = 30_000;
    await c.find(['1']);
    expect(c.lookups).toEqual([['1'], ['1']]);
  });

  it('drops the oldest accounts beyond maxEntries', async () => {
    const c = setup({ maxEntries: 2 });
    await c.find(['1']);
    await c.find(['2']);
    await c.find(['3']);
    await c.find(['2', '3']);
    await c.find(['1']);
    expect(c.lookups).toEqual([['1'], ['2'], ['3'], ['1']]);
  });

  it('remembers unknown accounts apart, so they never push known ones out', async () => {
    const c = setup({ maxEntries: 2, known: ['1', '2'] });
    await c.find(['1', '2']);
    for (let i = 100; i < 110; i++) expect((await c.find([String(i)])).size).toBe(0);
    await c.find(['1', '2']);
    await c.find(['109', '108']);
    await c.find(['100']);
    expect(c.lookups).toEqual([['1', '2'], ...Array.from({ length: 10 }, (_, i) => [String(100 + i)]), ['100']]);
  });

  it('forgets unknown accounts after the TTL', async () => {
    const c = setup({ known: [] });
    await c.find(['7']);
    c.clock.ms = 29_999;
    await c.find(['7']);
    c.clock.ms = 30_000;
    await c.find(['7']);
    expect(c.lookups).toEqual([['7'], ['7']]);
  });

  it('does not remember a failed lookup', async () => {
    const c = setup();
    c.fail(true);
    await expect(c.find(['1'])).rejects.toThrow('down');
    c.fail(false);
    expect((await c.find(['1'])).get('1')).toEqual(connection('1'));
    expect(c.lookups).toHaveLength(2);
  });

  it('forgets an account on demand, known or unknown, if held at least the minimum age', async () => {
    const c = setup({ known: ['1'] });
    await c.find(['1', '2']);
    c.clock.ms = 999;
    c.find.forget(['1', '2'], 1_000);
    await c.find(['1', '2']);
    c.clock.ms = 1_000;
    c.find.forget(['1', '2'], 1_000);
    await c.find(['1', '2']);
    c.find.forget(['1']);
    await c.find(['1', '2']);
    expect(c.lookups).toEqual([['1', '2'], ['1', '2'], ['1']]);
  });
});
