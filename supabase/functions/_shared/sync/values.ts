// Comparing field values across the database's JSON (to_jsonb of a row) and
// the unified model: numbers may arrive as strings, timestamps in different
// ISO spellings, objects with keys in any order.

/** Canonical form of a field value for equality. */
export function canonical(value: unknown): string {
  if (value === undefined || value === null || value === '') return 'null';
  if (typeof value === 'number') return `n:${value}`;
  if (typeof value === 'string') {
    if (/^-?\d+(\.\d+)?$/.test(value)) return `n:${Number(value)}`;
    if (/^\d{4}-\d{2}-\d{2}T/.test(value)) {
      const ms = Date.parse(value);
      if (!Number.isNaN(ms)) return `t:${ms}`;
    }
    return `s:${value}`;
  }
  if (typeof value === 'object') return `j:${stableStringify(value)}`;
  return `s:${String(value)}`;
}

export function sameValue(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}

function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableStringify(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Epoch ms of a timestamp as the database client returns it (Date) or as JSON carries it (ISO string). */
export function toMillis(value: unknown): number {
  if (value instanceof Date) return value.getTime();
  if (typeof value === 'string' || typeof value === 'number') return new Date(value).getTime();
  return Number.NaN;
}
