import { describe, expect, it } from 'vitest';
import { medianOf, percentile, perSecond, summarize } from './stats.mjs';

describe('bench statistics', () => {
  it('interpolates percentiles between the closest ranks', () => {
    const values = [5, 1, 4, 2, 3];
    expect(percentile(values, 0)).toBe(1);
    expect(percentile(values, 50)).toBe(3);
    expect(percentile(values, 100)).toBe(5);
    expect(percentile([10, 20], 95)).toBeCloseTo(19.5);
    expect(percentile([], 50)).toBeNaN();
  });

  it('summarizes a sample and a few runs', () => {
    expect(summarize([1, 2, 3, 4])).toMatchObject({ n: 4, min: 1, max: 4, p50: 2.5, mean: 2.5 });
    expect(summarize([])).toEqual({ n: 0 });
    expect(medianOf([30, 10, 20])).toEqual({ median: 20, min: 10, max: 30, runs: 3 });
  });

  it('buckets counts per whole second and drops the partial last second', () => {
    const events = [{ at: 1_000, count: 100 }, { at: 1_999, count: 100 }, { at: 2_500, count: 50 }, { at: 3_100, count: 7 }];
    expect(perSecond(events, 1_000, 2_400)).toEqual([200, 50]);
  });
});
