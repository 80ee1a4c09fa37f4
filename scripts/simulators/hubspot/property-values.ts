/**
 * Checks and normalises property values the way HubSpot does on write:
 * every value is a string, an empty string clears, datetimes accept epoch
 * milliseconds or ISO 8601 and come back as ISO 8601, enumerations must be
 * one of the options, owner ids must name an owner.
 */

import type { PropertyDefinition } from './property-registry.ts';

export interface PropertyIssue {
  name: string;
  /** HubSpot's error code (`PROPERTY_DOESNT_EXIST`, `INVALID_OPTION`, ...). */
  error: string;
  message: string;
}

export type RawPropertyValue = string | number | boolean | null | undefined;

export type ValueCheck = { ok: true; value: string } | { ok: false; issue: PropertyIssue };

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const EPOCH_MS = /^-?\d{1,16}$/;
const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Parses a date/datetime filter or property value to epoch milliseconds. */
export function parseTimestamp(value: string): number | undefined {
  const trimmed = value.trim();
  if (EPOCH_MS.test(trimmed)) return Number(trimmed);
  if (DATE_ONLY.test(trimmed)) return Date.parse(`${trimmed}T00:00:00.000Z`);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(trimmed)) return undefined;
  const parsed = Date.parse(trimmed);
  return Number.isNaN(parsed) ? undefined : parsed;
}

export function toStringValue(raw: RawPropertyValue): string {
  if (raw === null || raw === undefined) return '';
  return typeof raw === 'string' ? raw : String(raw);
}

export function checkPropertyValue(
  definition: PropertyDefinition,
  raw: RawPropertyValue,
  ownerExists: (ownerId: string) => boolean,
): ValueCheck {
  const value = toStringValue(raw);
  const name = definition.name;
  const fail = (error: string, message: string): ValueCheck => ({ ok: false, issue: { name, error, message } });
  if (value === '') return { ok: true, value: '' };

  switch (definition.type) {
    case 'number':
      return NUMBER.test(value.trim())
        ? { ok: true, value: value.trim() }
        : fail('INVALID_INTEGER', `${JSON.stringify(value)} is not a valid number for property "${name}"`);
    case 'datetime': {
      const ms = parseTimestamp(value);
      return ms === undefined
        ? fail('INVALID_DATE', `${JSON.stringify(value)} is not a valid datetime for property "${name}"`)
        : { ok: true, value: new Date(ms).toISOString() };
    }
    case 'date': {
      const ms = parseTimestamp(value);
      if (ms === undefined) {
        return fail('INVALID_DATE', `${JSON.stringify(value)} is not a valid date for property "${name}"`);
      }
      if (ms % 86_400_000 !== 0) {
        return fail(
          'INVALID_DATE',
          `${JSON.stringify(value)} is not midnight UTC, as date property "${name}" requires`,
        );
      }
      return { ok: true, value: new Date(ms).toISOString().slice(0, 10) };
    }
    case 'bool': {
      const lower = value.toLowerCase();
      return lower === 'true' || lower === 'false'
        ? { ok: true, value: lower }
        : fail('INVALID_BOOLEAN', `${JSON.stringify(value)} is not a valid boolean for property "${name}"`);
    }
    case 'enumeration': {
      if (definition.referencedObjectType === 'OWNER') {
        return ownerExists(value)
          ? { ok: true, value }
          : fail('INVALID_OWNER_ID', `${JSON.stringify(value)} is not a valid owner id`);
      }
      if (definition.externalOptions || definition.fieldType === 'booleancheckbox') return { ok: true, value };
      const allowed = definition.options.map((option) => option.value);
      const values = definition.fieldType === 'checkbox' ? value.split(';') : [value];
      const invalid = values.find((candidate) => !allowed.includes(candidate));
      return invalid === undefined ? { ok: true, value } : fail(
        'INVALID_OPTION',
        `${JSON.stringify(invalid)} was not one of the allowed options: [${allowed.join(', ')}]`,
      );
    }
    default:
      return { ok: true, value };
  }
}

/** HubSpot's "Property values were not valid: [...]" message text. */
export function invalidPropertiesMessage(issues: PropertyIssue[]): string {
  const entries = issues.map((issue) => ({
    isValid: false,
    message: issue.message,
    error: issue.error,
    name: issue.name,
    localizedErrorMessage: issue.message,
  }));
  return `Property values were not valid: ${JSON.stringify(entries)}`;
}
