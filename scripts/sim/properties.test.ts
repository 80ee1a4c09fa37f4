import { describe, expect, it } from 'vitest';
import { checkProperties } from './properties.mjs';
import { createPrng, Oracle, pickOperation } from './workload.mjs';

const fields = ['email', 'first_name'];
const L1 = '11111111-0000-4000-8000-000000000001';
const app = (first_name: string | null, deleted = false) => ({ id: L1, email: 'a@x.io', deleted, fields: { email: 'a@x.io', first_name } });
const crm = (first_name: string | null, archived = false) =>
  [{ crm: 'hubspot', records: [{ remoteId: '7', email: 'a@x.io', archived, fields: { email: 'a@x.io', first_name } }] }];

function oracleWith(build: (o: Oracle) => void) {
  const oracle = new Oracle();
  oracle.add('a@x.io', 'seed', -1, { email: 'a@x.io', first_name: 'Seed' });
  build(oracle);
  return oracle;
}

const clean = { divergent: [], duplicates: [], resurrected: [], lostEdits: [], conflictErrors: [] };

describe('the seeded workload', () => {
  it('plans the same operations for the same seed', () => {
    const plan = (seed: number) => { const prng = createPrng(seed); return Array.from({ length: 20 }, () => pickOperation(prng)); };
    expect(plan(42)).toEqual(plan(42));
    expect(plan(42)).not.toEqual(plan(43));
  });
});

describe('checkProperties', () => {
  it('passes when every side agrees and one-side edits survived', () => {
    const oracle = oracleWith((o) => o.edit('a@x.io', 'remote', 'first_name', 'R', 0));
    expect(checkProperties({ strategy: 'timestamp', oracle, fields, local: [app('R')], crms: crm('R'), pending: [] })).toEqual(clean);
  });

  it('reports a field that differs, and a one-side edit that was lost', () => {
    const oracle = oracleWith((o) => o.edit('a@x.io', 'local', 'first_name', 'L', 0));
    const found = checkProperties({ strategy: 'timestamp', oracle, fields, local: [app('L')], crms: crm('Seed'), pending: [] });
    expect(found.divergent).toHaveLength(1);
    expect(found.lostEdits).toHaveLength(1);
  });

  it('reports a record live on one side only, a duplicate, and a resurrection', () => {
    const deleted = oracleWith((o) => o.remove('a@x.io', 'local', 0));
    expect(checkProperties({ strategy: 'timestamp', oracle: deleted, fields, local: [app('Seed', true)], crms: crm('Seed'), pending: [] })
      .divergent).toHaveLength(1);
    expect(checkProperties({ strategy: 'timestamp', oracle: deleted, fields, local: [app('Seed')], crms: crm('Seed'), pending: [] })
      .resurrected).toHaveLength(1);
    const twice = checkProperties({ strategy: 'timestamp', oracle: oracleWith(() => {}), fields, local: [app('Seed'), { ...app('Seed'), id: 'x' }],
      crms: crm('Seed'), pending: [] });
    expect(twice.duplicates).toHaveLength(1);
  });

  it('under manual review, excuses a field held for review that both sides wrote, and nothing else', () => {
    const both = oracleWith((o) => { o.edit('a@x.io', 'local', 'first_name', 'L', 0); o.edit('a@x.io', 'remote', 'first_name', 'R', 0); });
    const pending = [{ local_id: L1, field: 'first_name' }];
    expect(checkProperties({ strategy: 'manual_review', oracle: both, fields, local: [app('L')], crms: crm('R'), pending })).toEqual(clean);
    const oneSide = oracleWith((o) => o.edit('a@x.io', 'local', 'first_name', 'L', 0));
    expect(checkProperties({ strategy: 'manual_review', oracle: oneSide, fields, local: [app('L')], crms: crm('Seed'), pending }).conflictErrors)
      .toHaveLength(1);
    expect(checkProperties({ strategy: 'manual_review', oracle: both, fields, local: [app('L')], crms: crm('R'), pending: [...pending, ...pending] })
      .conflictErrors).toHaveLength(1);
    expect(checkProperties({ strategy: 'timestamp', oracle: both, fields, local: [app('L')], crms: crm('R'), pending }).conflictErrors)
      .not.toEqual([]);
  });
});
