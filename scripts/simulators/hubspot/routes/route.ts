/** The shape of a HubSpot API route, and the endpoint key the request log counts by. */

import type { ApiRequest, ApiResponse, HttpMethod } from '../../common/router.ts';
import type { ObjectTypeName } from '../object-types.ts';
import type { RateLimitClass } from '../rate-limit.ts';
import type { SimulatorState } from '../state.ts';

export type RouteHandler = (request: ApiRequest, state: SimulatorState) => ApiResponse | Promise<ApiResponse>;

export interface RouteDefinition {
  method: HttpMethod;
  pattern: string;
  rateLimit: RateLimitClass;
  /** When set, `{objectType}` must be one of these; other types get a 404 as on HubSpot. */
  objectTypes?: readonly ObjectTypeName[];
  /**
   * Developer-platform routes (webhook settings) take the app's developer API key (`hapikey`), not a token;
   * the OAuth token endpoint takes none and reads its body as a form, not JSON.
   */
  auth?: 'developer' | 'oauth';
  handler: RouteHandler;
}

/** `GET /crm/v3/objects/contacts/{objectId}`: the pattern with object-type parameters filled in. */
export function endpointKey(
  route: RouteDefinition,
  params: Record<string, string>,
  resolve: (segment: string) => string | undefined,
): string {
  const path = route.pattern.replace(
    /\{(objectType|fromObjectType|toObjectType)\}/g,
    (whole, name: string) => resolve(params[name]) ?? whole,
  );
  return `${route.method} ${path}`;
}
