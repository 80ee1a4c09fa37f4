/** zod schemas for the API's request bodies; tolerant of fields HubSpot ignores. */

import { z } from 'zod';
import { validationError } from './errors.ts';
import { FILTER_OPERATORS } from './search.ts';
import { FIELD_TYPES, PROPERTY_TYPES } from './property-registry.ts';

const propertyValue = z.union([z.string(), z.number(), z.boolean(), z.null()]);
export const propertyValues = z.record(z.string(), propertyValue);

const objectId = z.union([z.string(), z.number()]).transform(String);
const publicObjectId = z.object({ id: objectId });

export const associationSpec = z.object({
  associationCategory: z.enum(['HUBSPOT_DEFINED', 'USER_DEFINED', 'INTEGRATOR_DEFINED', 'WORK']),
  associationTypeId: z.number().int(),
});

const associationsForCreate = z.array(z.object({ to: publicObjectId, types: z.array(associationSpec).min(1) }));

export const objectCreateBody = z.object({
  properties: propertyValues,
  associations: associationsForCreate.optional().nullable(),
});

export const objectUpdateBody = z.object({ properties: propertyValues });

export const batchCreateBody = z.object({
  inputs: z.array(z.object({
    properties: propertyValues,
    associations: associationsForCreate.optional().nullable(),
    objectWriteTraceId: z.string().optional().nullable(),
  })),
});

export const batchReadBody = z.object({
  inputs: z.array(publicObjectId),
  properties: z.array(z.string()).optional().nullable(),
  propertiesWithHistory: z.array(z.string()).optional().nullable(),
  idProperty: z.string().optional().nullable(),
});

export const batchUpdateBody = z.object({
  inputs: z.array(z.object({
    id: objectId,
    properties: propertyValues,
    idProperty: z.string().optional().nullable(),
    objectWriteTraceId: z.string().optional().nullable(),
  })),
});

export const batchUpsertBody = batchUpdateBody;

export const batchArchiveBody = z.object({ inputs: z.array(publicObjectId) });

const filterValue = z.union([z.string(), z.number(), z.boolean()]).transform(String);

export const searchBody = z.object({
  filterGroups: z.array(z.object({
    filters: z.array(z.object({
      propertyName: z.string(),
      operator: z.enum(FILTER_OPERATORS),
      value: filterValue.optional().nullable().transform((value) => value ?? undefined),
      highValue: filterValue.optional().nullable().transform((value) => value ?? undefined),
      values: z.array(filterValue).optional().nullable().transform((value) => value ?? undefined),
    })),
  })).optional().nullable(),
  sorts: z.array(z.union([
    z.string().transform((propertyName) => ({ propertyName, direction: 'ASCENDING' as const })),
    z.object({ propertyName: z.string(), direction: z.enum(['ASCENDING', 'DESCENDING']).default('ASCENDING') }),
  ])).optional().nullable(),
  query: z.string().optional().nullable(),
  properties: z.array(z.string()).optional().nullable(),
  limit: z.number().int().optional().nullable(),
  after: z.union([z.string(), z.number()]).optional().nullable(),
});

export const mergeBody = z.object({ primaryObjectId: objectId, objectIdToMerge: objectId });

export const gdprDeleteBody = z.object({ objectId: objectId, idProperty: z.string().optional().nullable() });

export const associationBatchCreateBody = z.object({
  inputs: z.array(z.object({ from: publicObjectId, to: publicObjectId, types: z.array(associationSpec) })),
});

export const associationBatchDefaultBody = z.object({
  inputs: z.array(z.object({ from: publicObjectId, to: publicObjectId })),
});

export const associationBatchReadBody = z.object({
  inputs: z.array(z.object({ id: objectId, after: z.string().optional().nullable() })),
});

export const associationBatchArchiveBody = z.object({
  inputs: z.array(z.object({ from: publicObjectId, to: z.array(publicObjectId) })),
});

const optionInput = z.object({
  label: z.string(),
  value: z.string(),
  displayOrder: z.number().int().optional(),
  hidden: z.boolean().optional(),
});

export const propertyCreateBody = z.object({
  name: z.string().min(1),
  label: z.string().min(1),
  type: z.enum(PROPERTY_TYPES),
  fieldType: z.enum(FIELD_TYPES),
  groupName: z.string().min(1),
  description: z.string().optional(),
  options: z.array(optionInput).optional(),
  displayOrder: z.number().int().optional(),
  hasUniqueValue: z.boolean().optional(),
  hidden: z.boolean().optional(),
  formField: z.boolean().optional(),
});

export const propertyUpdateBody = propertyCreateBody.omit({ name: true, hasUniqueValue: true }).partial();

export const propertyBatchCreateBody = z.object({ inputs: z.array(propertyCreateBody) });
export const propertyBatchNamesBody = z.object({ inputs: z.array(z.object({ name: z.string() })) });

export const groupCreateBody = z.object({
  name: z.string().min(1),
  label: z.string().min(1),
  displayOrder: z.number().int().optional(),
});

export const groupUpdateBody = z.object({ label: z.string().optional(), displayOrder: z.number().int().optional() });

/** Parses a body or throws HubSpot's 400 for malformed input. */
export function parseBody<T extends z.ZodType>(schema: T, body: unknown): z.output<T> {
  const result = schema.safeParse(body ?? {});
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`);
  throw validationError(`Invalid input JSON: ${issues.join('; ')}`, issues.map((message) => ({ message })));
}
