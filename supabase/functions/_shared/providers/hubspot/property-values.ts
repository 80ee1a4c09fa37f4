// Conversions between HubSpot property values (always strings; "" means
// empty) and unified scalars. Parsers return undefined for a value they
// cannot read, so the caller can report it instead of losing it.

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const EPOCH_MS = /^-?\d{1,16}$/;
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/i;

/** HubSpot's way of saying "no value": null, or the empty string it uses to clear a property. */
export function isCleared(value: string | null): value is '' | null {
  return value === null || value === '';
}

/** A HubSpot number (`"12500"`, `"0.2"`, `"1.5e3"`); undefined when it is not one. */
export function parseNumber(value: string): number | undefined {
  const trimmed = value.trim();
  if (!NUMBER.test(trimmed)) return undefined;
  const parsed = Number(trimmed);
  return Number.isFinite(parsed) ? parsed : undefined;
}

/** A number as HubSpot expects it in a property: plain decimal notation where JavaScript would print an exponent. */
export function formatNumber(value: number): string {
  const text = String(value);
  if (!/e/i.test(text)) return text;
  return Math.abs(value) >= 1 ? BigInt(Math.round(value)).toString() : value.toFixed(20).replace(/0+$/, '');
}

/**
 * Epoch milliseconds of a HubSpot date or datetime value: epoch ms as a
 * string (`"1719705600000"`), ISO 8601 with an offset, or a plain date
 * (midnight UTC). Undefined when it is none of these.
 */
export function parseTimestamp(value: string): number | undefined {
  const trimmed = value.trim();
  if (EPOCH_MS.test(trimmed)) return Number(trimmed);
  if (DATE_ONLY.test(trimmed)) return validDate(trimmed) ? Date.parse(`${trimmed}T00:00:00.000Z`) : undefined;
  if (!DATETIME.test(trimmed)) return undefined;
  const parsed = Date.parse(trimmed);
  return Number.isNaN(parsed) ? undefined : parsed;
}

/** ISO 8601 in UTC (`2024-05-01T09:30:00.000Z`); undefined when the value is no date. */
export function toIsoDateTime(value: string): string | undefined {
  const ms = parseTimestamp(value);
  if (ms === undefined) return undefined;
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

/** The calendar date (UTC) of a HubSpot date or datetime value, as `YYYY-MM-DD`. */
export function toIsoDate(value: string): string | undefined {
  const trimmed = value.trim();
  if (DATE_ONLY.test(trimmed)) return validDate(trimmed) ? trimmed : undefined;
  return toIsoDateTime(trimmed)?.slice(0, 10);
}

/** A local date as the midnight-UTC datetime HubSpot stores for a date-valued datetime property. */
export function dateToHubSpotDateTime(date: string): string {
  return `${date}T00:00:00.000Z`;
}

/** JSON text with object keys sorted at every level, so equal values always give the same text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.keys(value).sort().map((key) => [key, sortKeys((value as Record<string, unknown>)[key])]),
  );
}

function validDate(date: string): boolean {
  const parsed = new Date(`${date}T00:00:00.000Z`);
  return !Number.isNaN(parsed.getTime()) && parsed.toISOString().slice(0, 10) === date;
}
