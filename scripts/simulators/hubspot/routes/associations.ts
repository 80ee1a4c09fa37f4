/** Associations v4: batch read/create/archive, default associations, and the per-record endpoints. */

import { associationType, associationTypeBetween, defaultAssociationType } from '../association-types.ts';
import { notFound, standardError, validationError } from '../errors.ts';
import type { RouteDefinition } from './route.ts';
import { objectTypeInfo, type ObjectTypeName } from '../object-types.ts';
import {
  associationBatchArchiveBody,
  associationBatchCreateBody,
  associationBatchDefaultBody,
  associationBatchReadBody,
  associationSpec,
  parseBody,
} from '../schemas.ts';
import type { SimulatorState } from '../state.ts';
import type { AssociationEdge } from '../store.ts';
import { z } from 'zod';
import { batchResponse, inputError } from './batch-response.ts';
import { checkBatchSize, integerParam, objectTypeParam } from './params.ts';

/** Batch read accepts up to 1,000 ids (since February 2025); the write endpoints up to 2,000. */
export const ASSOCIATION_READ_LIMIT = 1_000;
export const ASSOCIATION_WRITE_LIMIT = 2_000;
const PAGE_SIZE = 500;

function typesOf(edge: AssociationEdge) {
  return edge.typeIds.map((typeId) => {
    const label = associationType(typeId)?.label;
    return { category: 'HUBSPOT_DEFINED', typeId, ...(label ? { label } : {}) };
  });
}

function labelsBetween(state: SimulatorState, from: ObjectTypeName, fromId: string, to: ObjectTypeName, toId: string) {
  const edge = state.store.associations(from, fromId, to).find((candidate) => candidate.toId === toId);
  const labels = (edge?.typeIds ?? []).map((typeId) => associationType(typeId)?.label).filter((
    label,
  ): label is string => label !== undefined);
  return {
    fromObjectTypeId: objectTypeInfo(from).objectTypeId,
    fromObjectId: fromId,
    toObjectTypeId: objectTypeInfo(to).objectTypeId,
    toObjectId: toId,
    labels,
  };
}

function resolvePair(params: Record<string, string>, fromKey: string, toKey: string) {
  return { from: objectTypeParam(params[fromKey]), to: objectTypeParam(params[toKey]) };
}

function requireDefault(from: ObjectTypeName, to: ObjectTypeName) {
  const definition = defaultAssociationType(from, to);
  if (!definition) throw validationError(`There is no default association from ${from} to ${to}`);
  return definition;
}

const batchRead: RouteDefinition = {
  method: 'POST',
  pattern: '/crm/v4/associations/{fromObjectType}/{toObjectType}/batch/read',
  rateLimit: 'exempt',
  handler(request, state) {
    const startedAt = new Date();
    const { from, to } = resolvePair(request.params, 'fromObjectType', 'toObjectType');
    const input = parseBody(associationBatchReadBody, request.body);
    checkBatchSize(input.inputs.length, ASSOCIATION_READ_LIMIT);
    const results: unknown[] = [];
    const errors = [];
    for (const { id, after } of input.inputs) {
      const record = state.store.get(from, id);
      const edges = record ? state.store.associations(from, record.id, to) : [];
      if (edges.length === 0) {
        errors.push(standardError(
          'OBJECT_NOT_FOUND',
          `No ${objectTypeInfo(to).singular} is associated with ${objectTypeInfo(from).singular} ${id}.`,
          { fromObjectId: [id] },
        ));
        continue;
      }
      const offset = after && /^\d+$/.test(after) ? Number(after) : 0;
      const page = edges.slice(offset, offset + PAGE_SIZE);
      results.push({
        from: { id },
        to: page.map((edge) => ({ toObjectId: edge.toId, associationTypes: typesOf(edge) })),
        ...(offset + PAGE_SIZE < edges.length ? { paging: { next: { after: String(offset + PAGE_SIZE) } } } : {}),
      });
    }
    return batchResponse(results, errors, startedAt);
  },
};

const batchCreate: RouteDefinition = {
  method: 'POST',
  pattern: '/crm/v4/associations/{fromObjectType}/{toObjectType}/batch/create',
  rateLimit: 'exempt',
  handler(request, state) {
    const startedAt = new Date();
    const { from, to } = resolvePair(request.params, 'fromObjectType', 'toObjectType');
    const input = parseBody(associationBatchCreateBody, request.body);
    checkBatchSize(input.inputs.length, ASSOCIATION_WRITE_LIMIT);
    const results: unknown[] = [];
    const errors = [];
    for (const item of input.inputs) {
      try {
        const typeIds = item.types.map((type) => type.associationTypeId);
        for (const typeId of typeIds) {
          if (!associationTypeBetween(from, to, typeId)) {
            throw validationError(`${typeId} is not a valid association type id from ${from} to ${to}`);
          }
        }
        state.store.associate(from, item.from.id, to, item.to.id, typeIds, state.apiSource());
        results.push(labelsBetween(state, from, item.from.id, to, item.to.id));
      } catch (error) {
        errors.push(inputError(error, { fromObjectId: [item.from.id], toObjectId: [item.to.id] }));
      }
    }
    return batchResponse(results, errors, startedAt, 201);
  },
};

const batchDefault: RouteDefinition = {
  method: 'POST',
  pattern: '/crm/v4/associations/{fromObjectType}/{toObjectType}/batch/associate/default',
  rateLimit: 'exempt',
  handler(request, state) {
    const startedAt = new Date();
    const { from, to } = resolvePair(request.params, 'fromObjectType', 'toObjectType');
    const definition = requireDefault(from, to);
    const input = parseBody(associationBatchDefaultBody, request.body);
    checkBatchSize(input.inputs.length, ASSOCIATION_WRITE_LIMIT);
    const results: unknown[] = [];
    const errors = [];
    for (const item of input.inputs) {
      try {
        state.store.associate(from, item.from.id, to, item.to.id, [definition.typeId], state.apiSource());
        results.push({
          from: { id: item.from.id },
          to: { id: item.to.id },
          associationSpec: { associationCategory: 'HUBSPOT_DEFINED', associationTypeId: definition.typeId },
        });
      } catch (error) {
        errors.push(inputError(error, { fromObjectId: [item.from.id], toObjectId: [item.to.id] }));
      }
    }
    const response = batchResponse(results, errors, startedAt);
    // The spec declares only 200 here; failures are reported inside the body.
    return { ...response, status: 200 };
  },
};

const batchArchive: RouteDefinition = {
  method: 'POST',
  pattern: '/crm/v4/associations/{fromObjectType}/{toObjectType}/batch/archive',
  rateLimit: 'exempt',
  handler(request, state) {
    const { from, to } = resolvePair(request.params, 'fromObjectType', 'toObjectType');
    const input = parseBody(associationBatchArchiveBody, request.body);
    checkBatchSize(input.inputs.length, ASSOCIATION_WRITE_LIMIT);
    for (const item of input.inputs) {
      for (const target of item.to) {
        state.store.unassociate(from, item.from.id, to, target.id, undefined, state.apiSource());
      }
    }
    return { status: 204 };
  },
};

const batchArchiveLabels: RouteDefinition = {
  method: 'POST',
  pattern: '/crm/v4/associations/{fromObjectType}/{toObjectType}/batch/labels/archive',
  rateLimit: 'exempt',
  handler(request, state) {
    const { from, to } = resolvePair(request.params, 'fromObjectType', 'toObjectType');
    const input = parseBody(associationBatchCreateBody, request.body);
    checkBatchSize(input.inputs.length, ASSOCIATION_WRITE_LIMIT);
    for (const item of input.inputs) {
      const typeIds = item.types.map((type) => type.associationTypeId);
      state.store.unassociate(from, item.from.id, to, item.to.id, typeIds, state.apiSource());
    }
    return { status: 204 };
  },
};

const listForRecord: RouteDefinition = {
  method: 'GET',
  pattern: '/crm/v4/objects/{objectType}/{objectId}/associations/{toObjectType}',
  rateLimit: 'standard',
  handler(request, state) {
    const { from, to } = resolvePair(request.params, 'objectType', 'toObjectType');
    const record = state.store.get(from, request.params.objectId);
    if (!record) throw notFound();
    const limit = integerParam(request.query, 'limit', PAGE_SIZE, { min: 1, max: PAGE_SIZE });
    const after = request.query.get('after');
    const offset = after && /^\d+$/.test(after) ? Number(after) : 0;
    const edges = state.store.associations(from, record.id, to);
    const page = edges.slice(offset, offset + limit);
    return {
      status: 200,
      body: {
        results: page.map((edge) => ({ toObjectId: edge.toId, associationTypes: typesOf(edge) })),
        ...(offset + limit < edges.length ? { paging: { next: { after: String(offset + limit) } } } : {}),
      },
    };
  },
};

const createForRecord: RouteDefinition = {
  method: 'PUT',
  pattern: '/crm/v4/objects/{objectType}/{objectId}/associations/{toObjectType}/{toObjectId}',
  rateLimit: 'standard',
  handler(request, state) {
    const { from, to } = resolvePair(request.params, 'objectType', 'toObjectType');
    const specs = parseBody(z.array(associationSpec).min(1), request.body);
    const { objectId, toObjectId } = request.params;
    state.store.associate(
      from,
      objectId,
      to,
      toObjectId,
      specs.map((spec) => spec.associationTypeId),
      state.apiSource(),
    );
    return { status: 201, body: labelsBetween(state, from, objectId, to, toObjectId) };
  },
};

const archiveForRecord: RouteDefinition = {
  method: 'DELETE',
  pattern: '/crm/v4/objects/{objectType}/{objectId}/associations/{toObjectType}/{toObjectId}',
  rateLimit: 'standard',
  handler(request, state) {
    const { from, to } = resolvePair(request.params, 'objectType', 'toObjectType');
    state.store.unassociate(from, request.params.objectId, to, request.params.toObjectId, undefined, state.apiSource());
    return { status: 204 };
  },
};

const defaultForRecord: RouteDefinition = {
  method: 'PUT',
  pattern: '/crm/v4/objects/{fromObjectType}/{fromObjectId}/associations/default/{toObjectType}/{toObjectId}',
  rateLimit: 'standard',
  handler(request, state) {
    const startedAt = new Date();
    const { from, to } = resolvePair(request.params, 'fromObjectType', 'toObjectType');
    const definition = requireDefault(from, to);
    const { fromObjectId, toObjectId } = request.params;
    state.store.associate(from, fromObjectId, to, toObjectId, [definition.typeId], state.apiSource());
    return batchResponse(
      [{
        from: { id: fromObjectId },
        to: { id: toObjectId },
        associationSpec: { associationCategory: 'HUBSPOT_DEFINED', associationTypeId: definition.typeId },
      }],
      [],
      startedAt,
    );
  },
};

export const associationRoutes: RouteDefinition[] = [
  batchRead,
  batchCreate,
  batchDefault,
  batchArchive,
  batchArchiveLabels,
  defaultForRecord,
  listForRecord,
  createForRecord,
  archiveForRecord,
];
