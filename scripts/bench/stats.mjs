// Summaries of benchmark samples: percentiles (linear interpolation between
// the closest ranks), median and spread, and per-second throughput buckets.

/** The p-th percentile (0-100) of numbers; NaN for no samples. */
export function percentile(values, p) {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const lower = Math.floor(rank);
  const upper = Math.ceil(rank);
  return sorted[lower] + (sorted[upper] - sorted[lower]) * (rank - lower);
}

/** n, min, p50, p90, p95, p99, max and mean of a sample. */
export function summarize(values) {
  if (values.length === 0) return { n: 0 };
  const sum = values.reduce((a, b) => a + b, 0);
  return {
    n: values.length,
    min: Math.min(...values),
    p50: percentile(values, 50),
    p90: percentile(values, 90),
    p95: percentile(values, 95),
    p99: percentile(values, 99),
    max: Math.max(...values),
    mean: sum / values.length,
  };
}

/** Median with the range of a few repeated runs: { median, min, max, runs }. */
export function medianOf(values) {
  return { median: percentile(values, 50), min: Math.min(...values), max: Math.max(...values), runs: values.length };
}

/**
 * Counts per whole second since `startMs` (events with `at` in ms and a
 * `count`), for the seconds in [0, durationMs). Partial last seconds are left
 * out so the rate is not understated.
 */
export function perSecond(events, startMs, durationMs) {
  const seconds = Math.floor(durationMs / 1000);
  const buckets = new Array(seconds).fill(0);
  for (const { at, count } of events) {
    const index = Math.floor((at - startMs) / 1000);
    if (index >= 0 && index < seconds) buckets[index] += count;
  }
  return buckets;
}
