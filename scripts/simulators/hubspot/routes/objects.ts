/** CRM objects v3, single-record endpoints: list, read, create, update, archive, merge, GDPR delete. */

import type { ApiRequest } from '../../common/router.ts';
import { notFound, validationError } from '../errors.ts';
import type { RouteDefinition } from './route.ts';
import { OBJECT_TYPE_NAMES, objectTypeInfo, type ObjectTypeName } from '../object-types.ts';
import { gdprDeleteBody, mergeBody, objectCreateBody, objectUpdateBody, parseBody } from '../schemas.ts';
import type { SimulatorState } from '../state.ts';
import type { AssociationInput, CrmRecord } from '../store.ts';
import { objectJson } from './object-json.ts';
import { afterParam, booleanParam, integerParam, listParam, objectTypeParam } from './params.ts';

export const LIST_LIMIT_MAX = 100;

/** `associations=companies,deals` → the object types, ignoring unknown names as HubSpot does. */
export function associationsParam(request: ApiRequest): ObjectTypeName[] | undefined {
  const names = listParam(request.query, 'associations');
  if (!names) return undefined;
  return names.map((name) => {
    try {
      return objectTypeParam(name);
    } catch {
      return undefined;
    }
  }).filter((type): type is ObjectTypeName => type !== undefined);
}

/** Finds a record by id or by a unique property (`idProperty=email`). */
export function findRecord(
  state: SimulatorState,
  type: ObjectTypeName,
  id: string,
  idProperty: string | null | undefined,
  includeArchived = false,
): CrmRecord | undefined {
  if (!idProperty || idProperty === 'hs_object_id') return state.store.get(type, id, { includeArchived });
  requireUniqueProperty(state, type, idProperty);
  return state.store.findByProperty(type, idProperty, id);
}

export function requireUniqueProperty(state: SimulatorState, type: ObjectTypeName, name: string): void {
  const definition = state.registry.get(type, name);
  if (!definition) throw validationError(`Property "${name}" does not exist`);
  if (!definition.hasUniqueValue && name !== 'hs_object_id') {
    throw validationError(`Property "${name}" is not a unique identifier property and cannot be used as idProperty`);
  }
}

export function flattenAssociations(
  associations: Array<{ to: { id: string }; types: Array<{ associationTypeId: number }> }> | null | undefined,
): AssociationInput[] {
  return (associations ?? []).flatMap((association) =>
    association.types.map((type) => ({ toId: association.to.id, typeId: type.associationTypeId }))
  );
}

const list: RouteDefinition = {
  method: 'GET',
  pattern: '/crm/v3/objects/{objectType}',
  rateLimit: 'standard',
  handler(request, state) {
    const type = objectTypeParam(request.params.objectType);
    const limit = integerParam(request.query, 'limit', 10, { min: 1, max: LIST_LIMIT_MAX });
    const after = afterParam(request.query);
    const archived = booleanParam(request.query, 'archived', false);
    const page = state.store.list(type, { archived, after, limit });
    const options = {
      properties: listParam(request.query, 'properties'),
      propertiesWithHistory: listParam(request.query, 'propertiesWithHistory'),
      associations: associationsParam(request),
    };
    const body: Record<string, unknown> = { results: page.records.map((record) => objectJson(state, record, options)) };
    if (page.nextAfter) {
      const link = new URL(`${state.baseUrl}${request.path}`);
      request.query.forEach((value, name) => name !== 'after' && link.searchParams.append(name, value));
      link.searchParams.set('after', page.nextAfter);
      body.paging = { next: { after: page.nextAfter, link: link.toString() } };
    }
    return { status: 200, body };
  },
};

const read: RouteDefinition = {
  method: 'GET',
  pattern: '/crm/v3/objects/{objectType}/{objectId}',
  rateLimit: 'standard',
  handler(request, state) {
    const type = objectTypeParam(request.params.objectType);
    const archived = booleanParam(request.query, 'archived', false);
    const record = findRecord(state, type, request.params.objectId, request.query.get('idProperty'), archived);
    if (!record) throw notFound();
    return {
      status: 200,
      body: objectJson(state, record, {
        properties: listParam(request.query, 'properties'),
        propertiesWithHistory: listParam(request.query, 'propertiesWithHistory'),
        associations: associationsParam(request),
      }),
    };
  },
};

const create: RouteDefinition = {
  method: 'POST',
  pattern: '/crm/v3/objects/{objectType}',
  rateLimit: 'standard',
  handler(request, state) {
    const type = objectTypeParam(request.params.objectType);
    const input = parseBody(objectCreateBody, request.body);
    const record = state.store.create(type, input.properties, state.apiSource(), {
      associations: flattenAssociations(input.associations),
    });
    return { status: 201, body: objectJson(state, record, { alsoInclude: Object.keys(input.properties) }) };
  },
};

const update: RouteDefinition = {
  method: 'PATCH',
  pattern: '/crm/v3/objects/{objectType}/{objectId}',
  rateLimit: 'standard',
  handler(request, state) {
    const type = objectTypeParam(request.params.objectType);
    const input = parseBody(objectUpdateBody, request.body);
    const record = findRecord(state, type, request.params.objectId, request.query.get('idProperty'));
    if (!record) throw notFound();
    const { record: updated } = state.store.update(type, record.id, input.properties, state.apiSource());
    return { status: 200, body: objectJson(state, updated, { alsoInclude: Object.keys(input.properties) }) };
  },
};

const archive: RouteDefinition = {
  method: 'DELETE',
  pattern: '/crm/v3/objects/{objectType}/{objectId}',
  rateLimit: 'standard',
  handler(request, state) {
    const type = objectTypeParam(request.params.objectType);
    state.store.archive(type, request.params.objectId, state.apiSource());
    return { status: 204 };
  },
};

const merge: RouteDefinition = {
  method: 'POST',
  pattern: '/crm/v3/objects/{objectType}/merge',
  rateLimit: 'standard',
  objectTypes: OBJECT_TYPE_NAMES.filter((type) => objectTypeInfo(type).mergeable),
  handler(request, state) {
    const type = objectTypeParam(request.params.objectType);
    const input = parseBody(mergeBody, request.body);
    const record = state.store.merge(type, input.primaryObjectId, input.objectIdToMerge, state.apiSource());
    return { status: 200, body: objectJson(state, record) };
  },
};

const gdprDelete: RouteDefinition = {
  method: 'POST',
  pattern: '/crm/v3/objects/contacts/gdpr-delete',
  rateLimit: 'standard',
  handler(request, state) {
    const input = parseBody(gdprDeleteBody, request.body);
    const record = findRecord(state, 'contacts', input.objectId, input.idProperty, true);
    if (!record) throw notFound();
    state.store.purge('contacts', record.id, state.apiSource());
    return { status: 204 };
  },
};

export const objectRoutes: RouteDefinition[] = [gdprDelete, merge, list, create, read, update, archive];
