/** Properties v3: property definitions and property groups per object type. */

import { HubSpotApiError, notFound, standardError } from '../errors.ts';
import type { RouteDefinition } from './route.ts';
import { groupJson, propertyJson } from '../property-registry.ts';
import {
  groupCreateBody,
  groupUpdateBody,
  parseBody,
  propertyBatchCreateBody,
  propertyBatchNamesBody,
  propertyCreateBody,
  propertyUpdateBody,
} from '../schemas.ts';
import { batchResponse, inputError } from './batch-response.ts';
import { booleanParam, checkBatchSize, objectTypeParam } from './params.ts';

const PROPERTY_BATCH_LIMIT = 100;

const list: RouteDefinition = {
  method: 'GET',
  pattern: '/crm/v3/properties/{objectType}',
  rateLimit: 'standard',
  handler(request, state) {
    const type = objectTypeParam(request.params.objectType);
    const archived = booleanParam(request.query, 'archived', false);
    return { status: 200, body: { results: state.registry.list(type, archived).map(propertyJson) } };
  },
};

const create: RouteDefinition = {
  method: 'POST',
  pattern: '/crm/v3/properties/{objectType}',
  rateLimit: 'standard',
  handler(request, state) {
    const type = objectTypeParam(request.params.objectType);
    const input = parseBody(propertyCreateBody, request.body);
    const definition = state.registry.create(type, input);
    return {
      status: 201,
      body: propertyJson(definition),
      headers: { Location: `${state.baseUrl}/crm/v3/properties/${type}/${definition.name}` },
    };
  },
};

const batchRead: RouteDefinition = {
  method: 'POST',
  pattern: '/crm/v3/properties/{objectType}/batch/read',
  rateLimit: 'standard',
  handler(request, state) {
    const startedAt = new Date();
    const type = objectTypeParam(request.params.objectType);
    const input = parseBody(propertyBatchNamesBody, request.body);
    checkBatchSize(input.inputs.length, PROPERTY_BATCH_LIMIT);
    const results = [];
    const missing: string[] = [];
    for (const { name } of input.inputs) {
      const definition = state.registry.get(type, name);
      if (definition) results.push(propertyJson(definition));
      else missing.push(name);
    }
    const errors = missing.length
      ? [standardError('OBJECT_NOT_FOUND', `Some properties do not exist: ${missing.join(', ')}`, { names: missing })]
      : [];
    return batchResponse(results, errors, startedAt);
  },
};

const batchCreate: RouteDefinition = {
  method: 'POST',
  pattern: '/crm/v3/properties/{objectType}/batch/create',
  rateLimit: 'standard',
  handler(request, state) {
    const startedAt = new Date();
    const type = objectTypeParam(request.params.objectType);
    const input = parseBody(propertyBatchCreateBody, request.body);
    checkBatchSize(input.inputs.length, PROPERTY_BATCH_LIMIT);
    const results = [];
    const errors = [];
    for (const item of input.inputs) {
      try {
        results.push(propertyJson(state.registry.create(type, item)));
      } catch (error) {
        errors.push(inputError(error, { name: [item.name] }));
      }
    }
    return batchResponse(results, errors, startedAt, 201);
  },
};

const batchArchive: RouteDefinition = {
  method: 'POST',
  pattern: '/crm/v3/properties/{objectType}/batch/archive',
  rateLimit: 'standard',
  handler(request, state) {
    const type = objectTypeParam(request.params.objectType);
    const input = parseBody(propertyBatchNamesBody, request.body);
    checkBatchSize(input.inputs.length, PROPERTY_BATCH_LIMIT);
    for (const { name } of input.inputs) {
      try {
        state.registry.archive(type, name);
      } catch (error) {
        if (!(error instanceof HubSpotApiError) || error.status !== 404) throw error;
      }
    }
    return { status: 204 };
  },
};

const listGroups: RouteDefinition = {
  method: 'GET',
  pattern: '/crm/v3/properties/{objectType}/groups',
  rateLimit: 'standard',
  handler(request, state) {
    const type = objectTypeParam(request.params.objectType);
    return { status: 200, body: { results: state.registry.listGroups(type).map(groupJson) } };
  },
};

const createGroup: RouteDefinition = {
  method: 'POST',
  pattern: '/crm/v3/properties/{objectType}/groups',
  rateLimit: 'standard',
  handler(request, state) {
    const type = objectTypeParam(request.params.objectType);
    const group = state.registry.createGroup(type, parseBody(groupCreateBody, request.body));
    return {
      status: 201,
      body: groupJson(group),
      headers: { Location: `${state.baseUrl}/crm/v3/properties/${type}/groups/${group.name}` },
    };
  },
};

const readGroup: RouteDefinition = {
  method: 'GET',
  pattern: '/crm/v3/properties/{objectType}/groups/{groupName}',
  rateLimit: 'standard',
  handler(request, state) {
    const group = state.registry.getGroup(objectTypeParam(request.params.objectType), request.params.groupName);
    if (!group) throw notFound(`Property group ${request.params.groupName} does not exist`);
    return { status: 200, body: groupJson(group) };
  },
};

const updateGroup: RouteDefinition = {
  method: 'PATCH',
  pattern: '/crm/v3/properties/{objectType}/groups/{groupName}',
  rateLimit: 'standard',
  handler(request, state) {
    const type = objectTypeParam(request.params.objectType);
    const group = state.registry.updateGroup(type, request.params.groupName, parseBody(groupUpdateBody, request.body));
    return { status: 200, body: groupJson(group) };
  },
};

const archiveGroup: RouteDefinition = {
  method: 'DELETE',
  pattern: '/crm/v3/properties/{objectType}/groups/{groupName}',
  rateLimit: 'standard',
  handler(request, state) {
    state.registry.archiveGroup(objectTypeParam(request.params.objectType), request.params.groupName);
    return { status: 204 };
  },
};

const read: RouteDefinition = {
  method: 'GET',
  pattern: '/crm/v3/properties/{objectType}/{propertyName}',
  rateLimit: 'standard',
  handler(request, state) {
    const type = objectTypeParam(request.params.objectType);
    const archived = booleanParam(request.query, 'archived', false);
    const definition = archived
      ? state.registry.list(type, true).find((candidate) => candidate.name === request.params.propertyName)
      : state.registry.get(type, request.params.propertyName);
    if (!definition) throw notFound(`Property ${request.params.propertyName} does not exist`);
    return { status: 200, body: propertyJson(definition) };
  },
};

const update: RouteDefinition = {
  method: 'PATCH',
  pattern: '/crm/v3/properties/{objectType}/{propertyName}',
  rateLimit: 'standard',
  handler(request, state) {
    const type = objectTypeParam(request.params.objectType);
    const definition = state.registry.update(
      type,
      request.params.propertyName,
      parseBody(propertyUpdateBody, request.body),
    );
    return { status: 200, body: propertyJson(definition) };
  },
};

const archive: RouteDefinition = {
  method: 'DELETE',
  pattern: '/crm/v3/properties/{objectType}/{propertyName}',
  rateLimit: 'standard',
  handler(request, state) {
    state.registry.archive(objectTypeParam(request.params.objectType), request.params.propertyName);
    return { status: 204 };
  },
};

/** Group routes come before `{propertyName}` so `groups` is not read as a property name. */
export const propertyRoutes: RouteDefinition[] = [
  list,
  create,
  batchRead,
  batchCreate,
  batchArchive,
  listGroups,
  createGroup,
  readGroup,
  updateGroup,
  archiveGroup,
  read,
  update,
  archive,
];
