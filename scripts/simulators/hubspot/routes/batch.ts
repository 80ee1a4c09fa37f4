/** CRM objects v3 batch endpoints: read, create, update, upsert, archive (100 inputs each). */

import { standardError } from '../errors.ts';
import type { RouteDefinition } from './route.ts';
import { objectTypeInfo } from '../object-types.ts';
import {
  batchArchiveBody,
  batchCreateBody,
  batchReadBody,
  batchUpdateBody,
  batchUpsertBody,
  parseBody,
} from '../schemas.ts';
import { batchResponse, inputError, traceContext } from './batch-response.ts';
import { objectJson } from './object-json.ts';
import { findRecord, flattenAssociations, requireUniqueProperty } from './objects.ts';
import { booleanParam, checkBatchSize, checkDuplicateIds, objectTypeParam } from './params.ts';

export const BATCH_LIMIT = 100;

const notFoundError = (label: string, ids: string[]) =>
  standardError(
    'OBJECT_NOT_FOUND',
    `Could not get some ${label} objects, they may be deleted or not exist. Check that ids are valid.`,
    { ids },
  );

const read: RouteDefinition = {
  method: 'POST',
  pattern: '/crm/v3/objects/{objectType}/batch/read',
  rateLimit: 'standard',
  handler(request, state) {
    const startedAt = new Date();
    const type = objectTypeParam(request.params.objectType);
    const input = parseBody(batchReadBody, request.body);
    checkBatchSize(input.inputs.length, BATCH_LIMIT);
    if (input.idProperty) requireUniqueProperty(state, type, input.idProperty);
    const archived = booleanParam(request.query, 'archived', false);
    const seen = new Set<string>();
    const results: unknown[] = [];
    const missing: string[] = [];
    for (const { id } of input.inputs) {
      const record = findRecord(state, type, id, input.idProperty, archived);
      if (!record) {
        missing.push(id);
        continue;
      }
      if (seen.has(record.id)) continue;
      seen.add(record.id);
      results.push(objectJson(state, record, {
        properties: input.properties ?? undefined,
        propertiesWithHistory: input.propertiesWithHistory ?? undefined,
      }));
    }
    const errors = missing.length ? [notFoundError(objectTypeInfo(type).label, missing)] : [];
    return batchResponse(results, errors, startedAt);
  },
};

const create: RouteDefinition = {
  method: 'POST',
  pattern: '/crm/v3/objects/{objectType}/batch/create',
  rateLimit: 'standard',
  handler(request, state) {
    const startedAt = new Date();
    const type = objectTypeParam(request.params.objectType);
    const input = parseBody(batchCreateBody, request.body);
    checkBatchSize(input.inputs.length, BATCH_LIMIT);
    const at = state.clock.now();
    const results: unknown[] = [];
    const errors = [];
    for (const item of input.inputs) {
      try {
        const record = state.store.create(type, item.properties, state.apiSource(), {
          associations: flattenAssociations(item.associations),
          at,
        });
        results.push(objectJson(state, record, {
          alsoInclude: Object.keys(item.properties),
          objectWriteTraceId: item.objectWriteTraceId,
        }));
      } catch (error) {
        errors.push(inputError(error, traceContext(item.objectWriteTraceId)));
      }
    }
    return batchResponse(results, errors, startedAt, 201);
  },
};

const update: RouteDefinition = {
  method: 'POST',
  pattern: '/crm/v3/objects/{objectType}/batch/update',
  rateLimit: 'standard',
  handler(request, state) {
    const startedAt = new Date();
    const type = objectTypeParam(request.params.objectType);
    const input = parseBody(batchUpdateBody, request.body);
    checkBatchSize(input.inputs.length, BATCH_LIMIT);
    checkDuplicateIds(input.inputs.map((item) => item.id));
    const at = state.clock.now();
    const results: unknown[] = [];
    const errors = [];
    const missing: string[] = [];
    for (const item of input.inputs) {
      try {
        const record = findRecord(state, type, item.id, item.idProperty);
        if (!record) {
          missing.push(item.id);
          continue;
        }
        const { record: updated } = state.store.update(type, record.id, item.properties, state.apiSource(), { at });
        results.push(objectJson(state, updated, {
          alsoInclude: Object.keys(item.properties),
          objectWriteTraceId: item.objectWriteTraceId,
        }));
      } catch (error) {
        errors.push(inputError(error, { ...traceContext(item.objectWriteTraceId), ids: [item.id] }));
      }
    }
    if (missing.length) errors.unshift(notFoundError(objectTypeInfo(type).label, missing));
    return batchResponse(results, errors, startedAt);
  },
};

const upsert: RouteDefinition = {
  method: 'POST',
  pattern: '/crm/v3/objects/{objectType}/batch/upsert',
  rateLimit: 'standard',
  handler(request, state) {
    const startedAt = new Date();
    const type = objectTypeParam(request.params.objectType);
    const input = parseBody(batchUpsertBody, request.body);
    checkBatchSize(input.inputs.length, BATCH_LIMIT);
    checkDuplicateIds(input.inputs.map((item) => `${item.idProperty ?? 'hs_object_id'}:${item.id.toLowerCase()}`));
    for (const item of input.inputs) if (item.idProperty) requireUniqueProperty(state, type, item.idProperty);
    const at = state.clock.now();
    const results: unknown[] = [];
    const errors = [];
    for (const item of input.inputs) {
      const idProperty = item.idProperty && item.idProperty !== 'hs_object_id' ? item.idProperty : undefined;
      try {
        const existing = findRecord(state, type, item.id, idProperty);
        const options = { alsoInclude: Object.keys(item.properties), objectWriteTraceId: item.objectWriteTraceId };
        if (existing) {
          const { record } = state.store.update(type, existing.id, item.properties, state.apiSource(), { at });
          results.push({ ...objectJson(state, record, options), new: false });
        } else if (idProperty) {
          const record = state.store.create(type, { ...item.properties, [idProperty]: item.id }, state.apiSource(), {
            at,
          });
          results.push({
            ...objectJson(state, record, { ...options, alsoInclude: [...options.alsoInclude, idProperty] }),
            new: true,
          });
        } else {
          errors.push(notFoundError(objectTypeInfo(type).label, [item.id]));
        }
      } catch (error) {
        errors.push(inputError(error, { ...traceContext(item.objectWriteTraceId), ids: [item.id] }));
      }
    }
    return batchResponse(results, errors, startedAt);
  },
};

const archive: RouteDefinition = {
  method: 'POST',
  pattern: '/crm/v3/objects/{objectType}/batch/archive',
  rateLimit: 'standard',
  handler(request, state) {
    const type = objectTypeParam(request.params.objectType);
    const input = parseBody(batchArchiveBody, request.body);
    checkBatchSize(input.inputs.length, BATCH_LIMIT);
    const at = state.clock.now();
    for (const { id } of input.inputs) state.store.archive(type, id, state.apiSource(), at);
    return { status: 204 };
  },
};

export const batchRoutes: RouteDefinition[] = [read, create, update, upsert, archive];
