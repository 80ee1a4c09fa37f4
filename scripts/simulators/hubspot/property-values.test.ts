import { describe, expect, it } from 'vitest';
import { checkPropertyValue, parseTimestamp } from './property-values.ts';
import { PropertyRegistry } from './property-registry.ts';

const registry = new PropertyRegistry(() => 0);
const check = (type: 'contacts' | 'deals' | 'companies', name: string, value: string | number | null) =>
  checkPropertyValue(registry.get(type, name)!, value, (id) => id === '71000001');

describe('checkPropertyValue', () => {
  it.each(
    [
      ['deals', 'closedate', '1700000000000', '2023-11-14T22:13:20.000Z'],
      ['deals', 'closedate', '2024-05-01', '2024-05-01T00:00:00.000Z'],
      ['deals', 'closedate', '2024-05-01T10:00:00+02:00', '2024-05-01T08:00:00.000Z'],
      ['deals', 'amount', 1500, '1500'],
      ['deals', 'amount', ' 12.5 ', '12.5'],
      ['contacts', 'lifecyclestage', 'lead', 'lead'],
      ['contacts', 'hubspot_owner_id', '71000001', '71000001'],
      ['contacts', 'firstname', null, ''],
    ] as const,
  )('%s.%s accepts %j as %j', (type, name, input, expected) => {
    expect(check(type, name, input)).toEqual({ ok: true, value: expected });
  });

  it.each(
    [
      ['deals', 'closedate', 'next tuesday', 'INVALID_DATE'],
      ['deals', 'amount', '12,5', 'INVALID_INTEGER'],
      ['contacts', 'lifecyclestage', 'Lead', 'INVALID_OPTION'],
      ['contacts', 'hubspot_owner_id', '123', 'INVALID_OWNER_ID'],
    ] as const,
  )('%s.%s rejects %j with %s', (type, name, input, code) => {
    const result = check(type, name, input);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.issue.error).toBe(code);
  });

  it('parses filter timestamps', () => {
    expect(parseTimestamp('0')).toBe(0);
    expect(parseTimestamp('2024-01-01')).toBe(Date.parse('2024-01-01T00:00:00Z'));
    expect(parseTimestamp('yesterday')).toBeUndefined();
  });
});
