/**
 * Pipedrive's time formats. Records keep whole seconds; API v2 writes
 * RFC 3339 in UTC without fractions (`2025-01-01T10:20:00Z`), API v1 writes
 * `2025-01-01 10:20:00` (UTC), dates are `YYYY-MM-DD` and times `HH:MM:SS`.
 */

export const floorToSecond = (ms: number): number => Math.floor(ms / 1000) * 1000;

export const rfc3339 = (ms: number): string => new Date(floorToSecond(ms)).toISOString().replace(/\.\d{3}Z$/, 'Z');

export const v1Time = (ms: number): string => new Date(floorToSecond(ms)).toISOString().slice(0, 19).replace('T', ' ');

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const V1_TIME = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/;
export const DATE = /^\d{4}-\d{2}-\d{2}$/;
export const TIME = /^\d{2}:\d{2}(:\d{2})?$/;

/** Milliseconds of an RFC 3339 timestamp, or undefined when it is not one. */
export function parseRfc3339(value: string): number | undefined {
  if (!RFC3339.test(value)) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

/** Milliseconds of a v1 `YYYY-MM-DD HH:MM:SS` (UTC) timestamp, or undefined. */
export function parseV1Time(value: string): number | undefined {
  if (!V1_TIME.test(value)) return undefined;
  const ms = Date.parse(`${value.replace(' ', 'T')}Z`);
  return Number.isNaN(ms) ? undefined : ms;
}

export function isDate(value: string): boolean {
  return DATE.test(value) && !Number.isNaN(Date.parse(`${value}T00:00:00Z`));
}

/** `9:5` or `09:05` → `09:05:00`, the form Pipedrive answers with. */
export function normalizeTime(value: string): string {
  const [hours, minutes, seconds = '00'] = value.split(':');
  return `${hours.padStart(2, '0')}:${minutes.padStart(2, '0')}:${seconds.padStart(2, '0')}`;
}
