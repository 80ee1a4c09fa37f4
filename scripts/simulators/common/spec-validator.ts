/**
 * A validator for the subset of JSON Schema that OpenAPI 3 specs use in
 * responses: type, properties, required, additionalProperties, items,
 * enum, format (date-time, date, uuid, int32, int64), local $ref, and the
 * OpenAPI 3.0 `nullable`, `allOf`, `anyOf`, `oneOf`, `minItems`/`maxItems`
 * that Pipedrive's specs use (HubSpot's use none of these). Any other
 * keyword is reported, so a spec that grows new constructs fails loudly
 * instead of passing unchecked.
 */

type Schema = Record<string, unknown>;

const ANNOTATIONS = new Set(['description', 'example', 'title', 'default']);
const KEYWORDS = new Set([
  'type',
  'properties',
  'required',
  'additionalProperties',
  'items',
  'enum',
  'format',
  '$ref',
  'nullable',
  'allOf',
  'anyOf',
  'oneOf',
  'minItems',
  'maxItems',
]);

const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface ValidationOptions {
  /** Accept null where the schema says string, for value paths this returns true for. */
  allowNull?: (path: string) => boolean;
  /**
   * Replaces the schema met at a value path before it is applied: how a test
   * states a known defect of a spec explicitly (say, a field the spec types
   * wrongly) without loosening the validator for everything else.
   */
  override?: (path: string, schema: Schema, value: unknown) => Schema;
}

export function resolveRef(document: unknown, ref: string): Schema {
  if (!ref.startsWith('#/')) throw new Error(`Only local $ref is supported: ${ref}`);
  let node: unknown = document;
  for (const part of ref.slice(2).split('/')) node = (node as Record<string, unknown>)?.[part];
  if (!node || typeof node !== 'object') throw new Error(`Unresolvable $ref ${ref}`);
  return node as Schema;
}

export function validateSchema(
  document: unknown,
  schema: Schema,
  value: unknown,
  options: ValidationOptions = {},
  path = '$',
): string[] {
  if (options.override) schema = options.override(path, schema, value);
  const errors: string[] = [];
  for (const keyword of Object.keys(schema)) {
    if (!KEYWORDS.has(keyword) && !ANNOTATIONS.has(keyword)) {
      errors.push(`${path}: unsupported schema keyword "${keyword}"`);
    }
  }
  if (typeof schema.$ref === 'string') {
    return [...errors, ...validateSchema(document, resolveRef(document, schema.$ref), value, options, path)];
  }
  if (value === null && schema.type === 'string' && options.allowNull?.(path)) return errors;
  if (value === null && schema.nullable === true) return errors;
  if (Array.isArray(schema.allOf)) {
    for (const part of schema.allOf as Schema[]) errors.push(...validateSchema(document, part, value, options, path));
  }
  for (const keyword of ['anyOf', 'oneOf'] as const) {
    if (!Array.isArray(schema[keyword])) continue;
    const results = (schema[keyword] as Schema[]).map((part) => validateSchema(document, part, value, options, path));
    const matching = results.filter((result) => result.length === 0).length;
    if (keyword === 'anyOf' && matching === 0) {
      errors.push(`${path}: matches none of anyOf (${results.map((result) => result[0]).join('; ')})`);
    }
    if (keyword === 'oneOf' && matching !== 1) {
      errors.push(`${path}: matches ${matching} of oneOf, expected exactly 1`);
    }
  }

  switch (schema.type) {
    case 'object': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        return [...errors, `${path}: expected object`];
      }
      const record = value as Record<string, unknown>;
      for (const name of (schema.required as string[] | undefined) ?? []) {
        if (record[name] === undefined) errors.push(`${path}: missing required "${name}"`);
      }
      const properties = (schema.properties as Record<string, Schema> | undefined) ?? {};
      for (const [name, child] of Object.entries(record)) {
        const childPath = `${path}.${name}`;
        if (properties[name]) errors.push(...validateSchema(document, properties[name], child, options, childPath));
        else if (schema.additionalProperties === false) errors.push(`${childPath}: not allowed`);
        else if (typeof schema.additionalProperties === 'object') {
          errors.push(...validateSchema(document, schema.additionalProperties as Schema, child, options, childPath));
        }
      }
      break;
    }
    case 'array':
      if (!Array.isArray(value)) return [...errors, `${path}: expected array`];
      if (typeof schema.minItems === 'number' && value.length < schema.minItems) {
        errors.push(`${path}: fewer than ${schema.minItems} items`);
      }
      if (typeof schema.maxItems === 'number' && value.length > schema.maxItems) {
        errors.push(`${path}: more than ${schema.maxItems} items`);
      }
      if (schema.items) {
        value.forEach((item, index) =>
          errors.push(...validateSchema(document, schema.items as Schema, item, options, `${path}[${index}]`))
        );
      }
      break;
    case 'string':
      if (typeof value !== 'string') return [...errors, `${path}: expected string, got ${JSON.stringify(value)}`];
      if (schema.format === 'date-time' && !DATE_TIME.test(value)) errors.push(`${path}: not a date-time: ${value}`);
      if (schema.format === 'date' && !DATE.test(value)) errors.push(`${path}: not a date: ${value}`);
      if (schema.format === 'uuid' && !UUID.test(value)) errors.push(`${path}: not a uuid: ${value}`);
      break;
    case 'integer':
      if (!Number.isInteger(value)) return [...errors, `${path}: expected integer, got ${JSON.stringify(value)}`];
      if (schema.format === 'int32' && ((value as number) < -(2 ** 31) || (value as number) >= 2 ** 31)) {
        errors.push(`${path}: outside int32`);
      }
      break;
    case 'number':
      if (typeof value !== 'number') errors.push(`${path}: expected number`);
      break;
    case 'boolean':
      if (typeof value !== 'boolean') errors.push(`${path}: expected boolean`);
      break;
    case undefined:
      break;
    default:
      errors.push(`${path}: unsupported type ${String(schema.type)}`);
  }
  if (Array.isArray(schema.enum) && !schema.enum.includes(value)) {
    errors.push(`${path}: ${JSON.stringify(value)} is not one of ${JSON.stringify(schema.enum)}`);
  }
  return errors;
}
