import { describe, expect, it, test } from 'vitest';
import { buildValueMaps, defaultHubSpotValueMaps, type ValueMapRow } from './value-maps.ts';

describe('defaultHubSpotValueMaps', () => {
  const defaults = defaultHubSpotValueMaps();
  const maps = buildValueMaps(defaults);

  test.each([
    ['appointmentscheduled', 'meeting_scheduled'],
    ['qualifiedtobuy', 'qualified'],
    ['presentationscheduled', 'proposal_sent'],
    ['decisionmakerboughtin', 'negotiation'],
    ['contractsent', 'contract_sent'],
    ['closedwon', 'closed_won'],
    ['closedlost', 'closed_lost'],
  ])('deal stage %s of the default pipeline is %s', (remote, local) => {
    expect(maps.toLocal('deal_stage', remote, 'default')).toBe(local);
    expect(maps.toRemote('deal_stage', local)).toEqual({ remoteValue: remote, remoteContext: 'default' });
  });

  test.each([
    ['subscriber', 'subscriber'],
    ['lead', 'lead'],
    ['marketingqualifiedlead', 'marketing_qualified_lead'],
    ['salesqualifiedlead', 'sales_qualified_lead'],
    ['opportunity', 'opportunity'],
    ['customer', 'customer'],
    ['evangelist', 'evangelist'],
    ['other', 'other'],
  ])('lifecycle stage %s is %s', (remote, local) => {
    expect(maps.toLocal('lifecycle_stage', remote)).toBe(local);
    expect(maps.toRemote('lifecycle_stage', local)).toEqual({ remoteValue: remote, remoteContext: null });
  });

  it('has 7 stages, 8 lifecycle stages and no owners', () => {
    expect(defaults.filter((row) => row.kind === 'deal_stage')).toHaveLength(7);
    expect(defaults.filter((row) => row.kind === 'lifecycle_stage')).toHaveLength(8);
    expect(defaults.filter((row) => row.kind === 'owner')).toEqual([]);
  });

  it('keeps each value unique per kind, as sync.value_maps requires', () => {
    for (const column of ['remote_value', 'local_value'] as const) {
      const keys = defaults.map((row) => `${row.kind}:${row[column]}`);
      expect(new Set(keys).size).toBe(keys.length);
    }
  });
});

describe('buildValueMaps', () => {
  const owner = '6f1d2c3b-4a5e-4f60-8a7b-9c0d1e2f3a4b';
  const rows: ValueMapRow[] = [
    { kind: 'owner', remote_value: '73650012', local_value: owner, remote_context: null },
    { kind: 'deal_stage', remote_value: '1029384756', local_value: 'renewal_due', remote_context: '875430211' },
    { kind: 'deal_stage', remote_value: 'legacy', local_value: 'legacy', remote_context: null },
  ];
  const maps = buildValueMaps(rows);

  it('translates owners both ways', () => {
    expect(maps.toLocal('owner', '73650012')).toBe(owner);
    expect(maps.toRemote('owner', owner)).toEqual({ remoteValue: '73650012', remoteContext: null });
    expect(maps.toLocal('owner', '99887766')).toBeUndefined();
  });

  it('matches a stage only in its pipeline, or in any when the deal or the row names none', () => {
    expect(maps.toLocal('deal_stage', '1029384756', '875430211')).toBe('renewal_due');
    expect(maps.toLocal('deal_stage', '1029384756', 'default')).toBeUndefined();
    expect(maps.toLocal('deal_stage', '1029384756')).toBe('renewal_due');
    expect(maps.toLocal('deal_stage', 'legacy', 'default')).toBe('legacy');
  });

  it('keeps kinds apart', () => {
    expect(maps.toLocal('lifecycle_stage', '73650012')).toBeUndefined();
  });

  it('lets later rows win, so connection rows can be laid over the defaults', () => {
    const custom = buildValueMaps([
      ...defaultHubSpotValueMaps(),
      { kind: 'deal_stage', remote_value: 'closedwon', local_value: 'won', remote_context: 'default' },
    ]);
    expect(custom.toLocal('deal_stage', 'closedwon', 'default')).toBe('won');
    expect(custom.toRemote('deal_stage', 'won')).toEqual({ remoteValue: 'closedwon', remoteContext: 'default' });
  });

  it('accepts rows without remote_context and refuses malformed rows', () => {
    expect(buildValueMaps([{ kind: 'owner', remote_value: '1', local_value: owner }]).toLocal('owner', '1')).toBe(
      owner,
    );
    expect(() => buildValueMaps([{ kind: 'pipeline', remote_value: 'x', local_value: 'y' }])).toThrow();
    expect(() => buildValueMaps([{ kind: 'owner', remote_value: '', local_value: owner }])).toThrow();
  });
});
