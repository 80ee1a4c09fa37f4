/** Path and query parameters, with Pipedrive's 400s for bad values. */

import { badRequest } from '../errors.ts';
import { parseRfc3339 } from '../timestamps.ts';

/** A positive integer path id. */
export function idParam(value: string | undefined, name = 'id'): number {
  if (!value || !/^\d+$/.test(value) || Number(value) < 1) {
    throw badRequest(`Validation failed: ${name}: must be a positive integer, got ${JSON.stringify(value)}`);
  }
  return Number(value);
}

export function integerQuery(query: URLSearchParams, name: string): number | undefined {
  const value = query.get(name);
  if (value === null || value === '') return undefined;
  if (!/^-?\d+$/.test(value)) throw badRequest(`Validation failed: ${name}: must be an integer, got "${value}"`);
  return Number(value);
}

export function booleanQuery(query: URLSearchParams, name: string): boolean | undefined {
  const value = query.get(name);
  if (value === null || value === '') return undefined;
  if (['true', '1'].includes(value)) return true;
  if (['false', '0'].includes(value)) return false;
  throw badRequest(`Validation failed: ${name}: must be a boolean, got "${value}"`);
}

export function enumQuery<T extends string>(
  query: URLSearchParams,
  name: string,
  allowed: readonly T[],
  fallback: T,
): T;
export function enumQuery<T extends string>(
  query: URLSearchParams,
  name: string,
  allowed: readonly T[],
): T | undefined;
export function enumQuery<T extends string>(
  query: URLSearchParams,
  name: string,
  allowed: readonly T[],
  fallback?: T,
): T | undefined {
  const value = query.get(name);
  if (value === null || value === '') return fallback;
  if (!(allowed as readonly string[]).includes(value)) {
    throw badRequest(`Validation failed: ${name}: must be one of ${allowed.join(', ')}, got "${value}"`);
  }
  return value as T;
}

/** `a,b,c` → ["a", "b", "c"]; undefined when absent. */
export function listQuery(query: URLSearchParams, name: string, max: number): string[] | undefined {
  const value = query.get(name);
  if (value === null || value === '') return undefined;
  const items = value.split(',').map((item) => item.trim()).filter(Boolean);
  if (items.length > max) throw badRequest(`Validation failed: ${name}: at most ${max} values are allowed`);
  return items;
}

export function limitQuery(query: URLSearchParams, max: number, fallback = 100): number {
  const limit = integerQuery(query, 'limit') ?? fallback;
  if (limit < 1 || limit > max) throw badRequest(`Validation failed: limit: must be between 1 and ${max}`);
  return limit;
}

export function timeQuery(query: URLSearchParams, name: string): number | undefined {
  const value = query.get(name);
  if (value === null || value === '') return undefined;
  const ms = parseRfc3339(value);
  if (ms === undefined) {
    throw badRequest(`Validation failed: ${name}: must be an RFC 3339 date-time (2025-01-01T10:20:00Z)`);
  }
  return ms;
}
