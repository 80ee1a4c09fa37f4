import { describe, expect, test } from 'vitest';
import {
  canonicalJson,
  dateToHubSpotDateTime,
  formatNumber,
  parseNumber,
  parseTimestamp,
  toIsoDate,
  toIsoDateTime,
} from './property-values.ts';

describe('numbers', () => {
  test.each([
    ['12500', 12500],
    [' 12500.50 ', 12500.5],
    ['-3', -3],
    ['.5', 0.5],
    ['1.5e3', 1500],
    ['1,000', undefined],
    ['TBD', undefined],
    ['', undefined],
    ['Infinity', undefined],
  ])('parseNumber(%j) is %j', (raw, value) => {
    expect(parseNumber(raw)).toBe(value);
  });

  test.each([
    [48000, '48000'],
    [12500.5, '12500.5'],
    [0.555, '0.555'],
    [1e21, '1000000000000000000000'],
    [1e-7, '0.0000001'],
  ])('formatNumber(%d) is %j', (value, text) => {
    expect(formatNumber(value)).toBe(text);
    expect(Number(text)).toBe(value);
  });
});

describe('dates', () => {
  test.each([
    ['1719705600000', '2024-06-30T00:00:00.000Z'],
    ['2024-06-30T00:00:00Z', '2024-06-30T00:00:00.000Z'],
    ['2024-06-30T02:00:00+02:00', '2024-06-30T00:00:00.000Z'],
    ['2024-06-30', '2024-06-30T00:00:00.000Z'],
    ['2024-06-31', undefined],
    ['June 30', undefined],
    ['2024-06-30T00:00:00', undefined],
  ])('toIsoDateTime(%j) is %j', (raw, iso) => {
    expect(toIsoDateTime(raw)).toBe(iso);
    expect(parseTimestamp(raw) === undefined).toBe(iso === undefined);
  });

  test.each([
    ['2024-06-30T23:59:59.999Z', '2024-06-30'],
    ['1719792000000', '2024-07-01'],
    ['2024-02-29', '2024-02-29'],
    ['2023-02-29', undefined],
  ])('toIsoDate(%j) is %j', (raw, date) => {
    expect(toIsoDate(raw)).toBe(date);
  });

  test('a local date goes out as midnight UTC', () => {
    expect(dateToHubSpotDateTime('2024-06-30')).toBe('2024-06-30T00:00:00.000Z');
  });
});

describe('canonicalJson', () => {
  test('sorts keys at every level and keeps array order', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: null } })).toBe(
      '{"a":{"c":null,"d":[3,{"y":2,"z":1}]},"b":1}',
    );
  });
});
