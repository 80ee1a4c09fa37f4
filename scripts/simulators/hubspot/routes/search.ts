/** `POST /crm/v3/objects/{objectType}/search`. */

import { validationError } from '../errors.ts';
import type { RouteDefinition } from './route.ts';
import { parseBody, searchBody } from '../schemas.ts';
import { runSearch } from '../search.ts';
import { objectJson } from './object-json.ts';
import { objectTypeParam } from './params.ts';

const search: RouteDefinition = {
  method: 'POST',
  pattern: '/crm/v3/objects/{objectType}/search',
  rateLimit: 'search',
  handler(request, state) {
    const type = objectTypeParam(request.params.objectType);
    const input = parseBody(searchBody, request.body);
    const after = input.after === undefined || input.after === null || input.after === '' ? 0 : Number(input.after);
    if (!Number.isInteger(after) || after < 0) throw validationError(`Invalid paging cursor after=${input.after}`);
    const result = runSearch(state.store, state.registry, type, {
      filterGroups: input.filterGroups ?? [],
      sorts: input.sorts ?? [],
      query: input.query ?? undefined,
      limit: input.limit ?? 10,
      after,
    });
    const properties = input.properties ?? undefined;
    const body: Record<string, unknown> = {
      total: result.total,
      results: result.results.map((view) => objectJson(state, view.record, { properties, values: view.properties })),
    };
    if (result.nextAfter !== undefined) body.paging = { next: { after: String(result.nextAfter) } };
    return { status: 200, body };
  },
};

export const searchRoutes: RouteDefinition[] = [search];
