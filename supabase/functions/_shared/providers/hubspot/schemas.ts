// Tolerant zod schemas of what HubSpot's CRM APIs return (objects v3,
// associations v4). They accept what HubSpot actually sends, not only what
// the OpenAPI documents: ids as numbers or strings, property values that
// are numbers or booleans, fields that come and go. Unknown fields are
// dropped. The strict checks happen afterwards, in the unified schema.
import { z } from 'zod';

/** HubSpot ids are documented as strings; some responses carry numbers. */
export const hubSpotId = z.union([z.string().min(1), z.number().int().nonnegative()]).transform(String);

/** Every property value is a string or null on the way out of HubSpot; anything else is made a string. */
const propertyValue = z
  .union([z.string(), z.number(), z.boolean(), z.null()])
  .transform((value) => (value === null ? null : String(value)));

/** One associated record in a v3 `associations` block: `{ id, type: 'contact_to_company' }`. */
export const hubSpotAssociatedIdSchema = z.object({
  id: hubSpotId,
  type: z.string(),
});

const nextPageSchema = z.object({ after: z.string(), link: z.string().optional() });
const pagingSchema = z.object({ next: nextPageSchema.optional() });

/** `associations.companies` of a v3 object: the associated ids, grouped by target object type. */
export const hubSpotAssociationsBlockSchema = z.object({
  results: z.array(hubSpotAssociatedIdSchema),
  paging: pagingSchema.optional(),
});

/** A CRM object as v3 returns it (`SimplePublicObject`, `...WithAssociations`). */
export const hubSpotObjectSchema = z.object({
  id: hubSpotId,
  properties: z.record(z.string(), propertyValue),
  createdAt: z.string(),
  updatedAt: z.string(),
  archived: z.boolean().optional(),
  archivedAt: z.string().optional(),
  associations: z.record(z.string(), hubSpotAssociationsBlockSchema).optional(),
});

export type HubSpotObjectInput = z.input<typeof hubSpotObjectSchema>;
export type HubSpotObject = z.output<typeof hubSpotObjectSchema>;

const errorDetailSchema = z.object({
  message: z.string(),
  code: z.string().optional(),
  in: z.string().optional(),
  subCategory: z.string().optional(),
  context: z.record(z.string(), z.unknown()).optional(),
});

/** HubSpot's error body, and the per-input errors of a 207 batch response. */
export const hubSpotErrorSchema = z.object({
  status: z.string().optional(),
  message: z.string(),
  category: z.string().optional(),
  correlationId: z.string().optional(),
  id: z.string().optional(),
  subCategory: z.unknown().optional(),
  context: z.record(z.string(), z.unknown()).optional(),
  errors: z.array(errorDetailSchema).optional(),
});
export type HubSpotError = z.output<typeof hubSpotErrorSchema>;

const batchStatus = z.enum(['PENDING', 'PROCESSING', 'CANCELED', 'COMPLETE']);

/** Response of batch read, create and update (200/201, or 207 with `errors`). */
export const hubSpotBatchResponseSchema = z.object({
  status: batchStatus,
  results: z.array(hubSpotObjectSchema),
  errors: z.array(hubSpotErrorSchema).optional(),
  numErrors: z.number().int().optional(),
  requestedAt: z.string().optional(),
  startedAt: z.string(),
  completedAt: z.string(),
});
export type HubSpotBatchResponse = z.output<typeof hubSpotBatchResponseSchema>;

/** Response of batch upsert: each result also says whether it was created. */
export const hubSpotBatchUpsertResponseSchema = hubSpotBatchResponseSchema.extend({
  results: z.array(hubSpotObjectSchema.extend({ new: z.boolean() })),
});

/** One page of `GET /crm/v3/objects/{type}`; the next page starts at `paging.next.after`. */
export const hubSpotObjectPageSchema = z.object({
  results: z.array(hubSpotObjectSchema),
  paging: pagingSchema.optional(),
});
export type HubSpotObjectPage = z.output<typeof hubSpotObjectPageSchema>;

/** One page of `POST /crm/v3/objects/{type}/search`. */
export const hubSpotSearchPageSchema = hubSpotObjectPageSchema.extend({
  total: z.number().int().nonnegative(),
});

/** An association type on a v4 association (`{ category, typeId, label }`). */
export const hubSpotAssociationTypeSchema = z.object({
  category: z.enum(['HUBSPOT_DEFINED', 'USER_DEFINED', 'INTEGRATOR_DEFINED', 'WORK']),
  typeId: z.number().int(),
  label: z.string().nullable().optional(),
});

/** One associated record in a v4 result: its id and every association type linking it. */
export const hubSpotAssociationTargetSchema = z.object({
  toObjectId: hubSpotId,
  associationTypes: z.array(hubSpotAssociationTypeSchema),
});
export type HubSpotAssociationTarget = z.output<typeof hubSpotAssociationTargetSchema>;

/** Response of `POST /crm/v4/associations/{from}/{to}/batch/read`. */
export const hubSpotAssociationBatchReadSchema = z.object({
  status: batchStatus,
  results: z.array(z.object({
    from: z.object({ id: hubSpotId }),
    to: z.array(hubSpotAssociationTargetSchema),
    paging: pagingSchema.optional(),
  })),
  errors: z.array(hubSpotErrorSchema).optional(),
  numErrors: z.number().int().optional(),
  startedAt: z.string(),
  completedAt: z.string(),
});
export type HubSpotAssociationBatchRead = z.output<typeof hubSpotAssociationBatchReadSchema>;

/** Response of `POST /crm/v4/associations/{from}/{to}/batch/create`. */
export const hubSpotAssociationBatchCreateSchema = z.object({
  status: batchStatus,
  results: z.array(z.object({
    fromObjectTypeId: z.string(),
    fromObjectId: hubSpotId,
    toObjectTypeId: z.string(),
    toObjectId: hubSpotId,
    labels: z.array(z.string()),
  })),
  errors: z.array(hubSpotErrorSchema).optional(),
  numErrors: z.number().int().optional(),
  startedAt: z.string(),
  completedAt: z.string(),
});
