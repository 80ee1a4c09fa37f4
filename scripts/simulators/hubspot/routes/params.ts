/** Parsing of path and query parameters, with HubSpot's 400s for bad values. */

import { validationError } from '../errors.ts';
import { type ObjectTypeName, resolveObjectType } from '../object-types.ts';

export function objectTypeParam(segment: string): ObjectTypeName {
  const type = resolveObjectType(segment);
  if (!type) throw validationError(`Unable to infer object type from: ${segment}`);
  return type;
}

/** `properties=a,b&properties=c` → ["a", "b", "c"]; undefined when absent. */
export function listParam(query: URLSearchParams, name: string): string[] | undefined {
  const values = query.getAll(name);
  if (values.length === 0) return undefined;
  return values.flatMap((value) => value.split(',')).map((value) => value.trim()).filter(Boolean);
}

export function booleanParam(query: URLSearchParams, name: string, fallback: boolean): boolean {
  const value = query.get(name);
  if (value === null || value === '') return fallback;
  if (value === 'true' || value === 'false') return value === 'true';
  throw validationError(`${name} must be true or false, got ${JSON.stringify(value)}`);
}

export function integerParam(
  query: URLSearchParams,
  name: string,
  fallback: number,
  range: { min: number; max: number },
): number {
  const value = query.get(name);
  if (value === null || value === '') return fallback;
  if (!/^-?\d+$/.test(value)) throw validationError(`${name} must be an integer, got ${JSON.stringify(value)}`);
  const parsed = Number(value);
  if (parsed < range.min || parsed > range.max) {
    throw validationError(`${name} must be between ${range.min} and ${range.max}, got ${parsed}`);
  }
  return parsed;
}

export function afterParam(query: URLSearchParams): string | undefined {
  const value = query.get('after');
  if (value === null || value === '') return undefined;
  if (!/^\d+$/.test(value)) throw validationError(`Invalid paging cursor after=${JSON.stringify(value)}`);
  return value;
}

/** Rejects batches over the endpoint's input limit. */
export function checkBatchSize(count: number, max: number): void {
  if (count > max) {
    throw validationError(`Batch input limit exceeded: ${count} inputs were sent, the limit is ${max}.`, [
      { message: `inputs: size must be between 1 and ${max}`, in: 'inputs' },
    ]);
  }
}

/** Rejects batches naming the same id twice, as HubSpot does for update and upsert. */
export function checkDuplicateIds(ids: string[]): void {
  const seen = new Set<string>();
  const duplicates = new Set<string>();
  for (const id of ids) (seen.has(id) ? duplicates : seen).add(id);
  if (duplicates.size > 0) {
    throw validationError(`Duplicate IDs found in batch input: [${[...duplicates].join(', ')}]. IDs must be unique`);
  }
}
