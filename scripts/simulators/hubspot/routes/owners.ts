/** Owners v3: the portal's users. */

import { notFound, validationError } from '../errors.ts';
import type { RouteDefinition } from './route.ts';
import { ownerJson } from '../owners.ts';
import { booleanParam, integerParam } from './params.ts';

const list: RouteDefinition = {
  method: 'GET',
  pattern: '/crm/v3/owners',
  rateLimit: 'standard',
  handler(request, state) {
    const limit = integerParam(request.query, 'limit', 100, { min: 1, max: 500 });
    const archived = booleanParam(request.query, 'archived', false);
    const email = request.query.get('email');
    const after = request.query.get('after');
    let owners = state.owners.list(archived);
    if (email) owners = owners.filter((owner) => owner.email.toLowerCase() === email.toLowerCase());
    const start = after ? owners.findIndex((owner) => Number(owner.id) >= Number(after)) : 0;
    const page = start < 0 ? [] : owners.slice(start, start + limit);
    const next = start < 0 ? undefined : owners[start + limit];
    return {
      status: 200,
      body: { results: page.map(ownerJson), ...(next ? { paging: { next: { after: next.id } } } : {}) },
    };
  },
};

const read: RouteDefinition = {
  method: 'GET',
  pattern: '/crm/v3/owners/{ownerId}',
  rateLimit: 'standard',
  handler(request, state) {
    const idProperty = request.query.get('idProperty') ?? 'id';
    if (idProperty !== 'id' && idProperty !== 'userId') throw validationError(`idProperty must be id or userId`);
    const archived = booleanParam(request.query, 'archived', false);
    const owner = state.owners.list(archived).find((candidate) =>
      idProperty === 'id'
        ? candidate.id === request.params.ownerId
        : String(candidate.userId) === request.params.ownerId
    );
    if (!owner) throw notFound();
    return { status: 200, body: ownerJson(owner) };
  },
};

export const ownerRoutes: RouteDefinition[] = [list, read];
