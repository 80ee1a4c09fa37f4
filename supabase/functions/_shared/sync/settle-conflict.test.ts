import { describe, expect, it } from 'vitest';
import { ConflictPolicy, conflictStrategySchema, type FieldRule } from './conflict-policy.ts';
import { type ConflictSide, settleConflict } from './settle-conflict.ts';

const CONN_A = 'aaaaaaaa-0000-4000-8000-000000000001';
const CONN_B = 'bbbbbbbb-0000-4000-8000-000000000001';
const local = (value: unknown, changedAt: string | null = '2026-03-01T10:00:00Z'): ConflictSide =>
  ({ source: 'supabase', id: 'supabase', value, changedAt });
const remote = (value: unknown, changedAt: string | null = '2026-03-01T10:00:00Z', source: ConflictSide['source'] = 'hubspot', id = CONN_A):
  ConflictSide => ({ source, id, value, changedAt });
const rule = (row: Record<string, unknown>, entity: 'contact' | 'deal' = 'deal', field = 'name'): FieldRule =>
  new ConflictPolicy([row]).ruleFor(entity, field);

describe('timestamp', () => {
  const timestamp = rule({ strategy: 'timestamp' });
  it('the later change wins', () => {
    expect(settleConflict(timestamp, local('L', '2026-03-01T10:00:00Z'), remote('R', '2026-03-01T10:00:01Z')).winner).toBe('remote');
    expect(settleConflict(timestamp, local('L', '2026-03-01T10:00:02Z'), remote('R', '2026-03-01T10:00:01Z')).winner).toBe('local');
  });
  it('a tie goes to the source listed first (the database by default)', () => {
    expect(settleConflict(timestamp, local('L'), remote('R'))).toMatchObject({ winner: 'local', value: 'L' });
    expect(settleConflict(rule({ strategy: 'timestamp', source_priority: ['hubspot', 'supabase'] }), local('L'), remote('R')).winner).toBe('remote');
  });
  it('two CRMs of one rank tie-break by the smaller id, the same in either order', () => {
    const tied = rule({ strategy: 'timestamp', source_priority: ['supabase'] });
    const a = remote('A', '2026-03-01T10:00:00Z', 'hubspot', CONN_A);
    const b = remote('B', '2026-03-01T10:00:00Z', 'pipedrive', CONN_B);
    // Seen as "local" and "remote" in both directions: the same side wins.
    expect(settleConflict(tied, { ...a, source: 'hubspot' }, b).value).toBe('A');
    expect(settleConflict(tied, { ...b, source: 'pipedrive' }, a).value).toBe('A');
  });
  it('a side without a change time loses to one with a time', () => {
    expect(settleConflict(timestamp, local('L', null), remote('R')).winner).toBe('remote');
  });
});

describe('source priority', () => {
  it('the first source listed wins whatever the times', () => {
    const hubspotFirst = rule({ strategy: 'source_priority', source_priority: ['hubspot', 'supabase', 'pipedrive'] });
    expect(settleConflict(hubspotFirst, local('L', '2026-03-02T00:00:00Z'), remote('R')).winner).toBe('remote');
    expect(settleConflict(hubspotFirst, local('L'), remote('R', '2026-03-02T00:00:00Z', 'pipedrive', CONN_B)).winner).toBe('local');
  });
  it('an unlisted source ranks last', () => {
    expect(settleConflict(rule({ strategy: 'source_priority', source_priority: ['supabase'] }), local('L'), remote('R')).winner).toBe('local');
    expect(settleConflict(rule({ strategy: 'source_priority', source_priority: ['pipedrive', 'hubspot'] }), local('L'), remote('R')).winner).toBe('remote');
  });
});

describe('field-level merge', () => {
  const merge = (merge_rule: string, extra: Record<string, unknown> = {}, field = 'name') =>
    rule({ strategy: 'field_merge', merge_rule, entity_type: 'deal', field, ...extra }, 'deal', field);

  it.each([
    ['remote_if_present', 'L', 'R', 'remote', 'R'],
    ['remote_if_present', 'L', '', 'local', 'L'],
    ['local_if_present', 'L', 'R', 'local', 'L'],
    ['local_if_present', null, 'R', 'remote', 'R'],
  ])('%s: local %j, remote %j → %s', (mergeRule, l, r, winner, value) => {
    expect(settleConflict(merge(mergeRule), local(l), remote(r))).toMatchObject({ winner, value });
  });

  it.each([
    ['max', 100, '250.5', 'remote', '250.5'],
    ['max', '300', 250, 'local', '300'],
    ['min', 100, 250, 'local', 100],
    ['min', null, 250, 'remote', 250],
  ])('%s of %j and %j → %s', (mergeRule, l, r, winner, value) => {
    expect(settleConflict(merge(mergeRule, {}, 'amount'), local(l), remote(r))).toMatchObject({ winner, value });
  });

  it('append joins both sides once, and merging the merged value again adds nothing', () => {
    const append = merge('append', { separator: ' | ' });
    const first = settleConflict(append, local('a | b'), remote('b | c'));
    expect(first).toMatchObject({ winner: 'merged', value: 'a | b | c' });
    expect(settleConflict(append, local(first.value), remote('a | b | c'))).toMatchObject({ winner: 'local', value: 'a | b | c' });
    expect(settleConflict(append, local('a'), remote('a | c'))).toMatchObject({ winner: 'remote', value: 'a | c' });
    expect(settleConflict(append, local(null), remote('c'))).toMatchObject({ winner: 'remote' });
  });

  it('append falls back to the later change for values that are not text', () => {
    expect(settleConflict(merge('append'), local(5, '2026-03-01T09:00:00Z'), remote(7)).winner).toBe('remote');
  });

  it('newest is the later change, with the same tie-break', () => {
    expect(settleConflict(merge('newest'), local('L', '2026-03-01T11:00:00Z'), remote('R')).winner).toBe('local');
    expect(settleConflict(merge('newest'), local('L'), remote('R')).winner).toBe('local');
  });
});

describe('manual review', () => {
  it('holds the conflict and keeps the local value', () => {
    expect(settleConflict(rule({ strategy: 'manual_review' }), local('L'), remote('R'))).toMatchObject({ winner: 'pending', value: 'L' });
  });
});

describe('strategy rows (the API and the table agree)', () => {
  it.each([
    [{ strategy: 'timestamp' }],
    [{ entity_type: 'deal', strategy: 'source_priority', source_priority: ['pipedrive', 'hubspot', 'supabase'] }],
    [{ entity_type: 'deal', field: 'amount', strategy: 'field_merge', merge_rule: 'max' }],
    [{ entity_type: 'contact', field: 'lead_source', strategy: 'field_merge', merge_rule: 'append', separator: ', ' }],
  ])('accepts %j', (row) => {
    expect(conflictStrategySchema.safeParse(row).success).toBe(true);
  });

  it.each([
    [{ strategy: 'coin_flip' }, 'strategy'],
    [{ field: 'amount', strategy: 'timestamp' }, 'entity_type'],
    [{ entity_type: 'deal', field: 'colour', strategy: 'timestamp' }, 'field'],
    [{ strategy: 'source_priority' }, 'source_priority'],
    [{ strategy: 'source_priority', source_priority: ['hubspot', 'hubspot'] }, 'source_priority'],
    [{ strategy: 'source_priority', source_priority: ['salesforce'] }, 'source_priority'],
    [{ strategy: 'field_merge' }, 'merge_rule'],
    [{ strategy: 'timestamp', merge_rule: 'append' }, 'merge_rule'],
    [{ entity_type: 'deal', field: 'name', strategy: 'field_merge', merge_rule: 'max' }, 'merge_rule'],
    [{ entity_type: 'deal', field: 'name', strategy: 'field_merge', merge_rule: 'newest', separator: ',' }, 'separator'],
    [{ strategy: 'manual_review', source_priority: ['hubspot'] }, 'source_priority'],
  ])('rejects %j (at %s)', (row, path) => {
    const result = conflictStrategySchema.safeParse(row);
    expect(result.success).toBe(false);
    expect(result.error!.issues.map((i) => i.path[0])).toContain(path);
  });
});
