/**
 * A small router over path patterns like `/crm/v3/objects/{objectType}/{objectId}`.
 * Provider-neutral: the Pipedrive simulator routes its own route type with it.
 */

import type { ObjectTypeName } from './object-types.ts';
import type { RateLimitClass } from './rate-limit.ts';
import type { SimulatorState } from './state.ts';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface ApiRequest {
  method: HttpMethod;
  path: string;
  query: URLSearchParams;
  params: Record<string, string>;
  /** Parsed JSON body; undefined when the request had none. */
  body: unknown;
  token: string;
}

export interface ApiResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export type RouteHandler = (request: ApiRequest, state: SimulatorState) => ApiResponse | Promise<ApiResponse>;

export interface RouteDefinition {
  method: HttpMethod;
  pattern: string;
  rateLimit: RateLimitClass;
  /** When set, `{objectType}` must be one of these; other types get a 404 as on HubSpot. */
  objectTypes?: readonly ObjectTypeName[];
  /** Developer-platform routes (webhook settings) take the app's developer API key (`hapikey`), not a token. */
  auth?: 'developer';
  handler: RouteHandler;
}

/** What the router needs of a route; other simulators add their own fields. */
export interface RoutePattern {
  method: HttpMethod;
  pattern: string;
}

export interface RouteMatch<R extends RoutePattern = RouteDefinition> {
  route: R;
  params: Record<string, string>;
}

interface CompiledRoute<R extends RoutePattern> {
  route: R;
  segments: string[];
}

export class Router<R extends RoutePattern = RouteDefinition> {
  private readonly compiled: CompiledRoute<R>[];

  constructor(readonly routes: R[]) {
    this.compiled = routes.map((route) => ({ route, segments: splitPath(route.pattern) }));
  }

  /** The matching route, or the methods the path allows when only the method is wrong. */
  match(method: string, path: string): RouteMatch<R> | { allowed: string[] } | undefined {
    const segments = splitPath(path);
    const allowed: string[] = [];
    for (const { route, segments: pattern } of this.compiled) {
      const params = matchSegments(pattern, segments);
      if (!params) continue;
      if (route.method === method) return { route, params };
      allowed.push(route.method);
    }
    return allowed.length ? { allowed } : undefined;
  }
}

function splitPath(path: string): string[] {
  return path.split('/').filter((segment) => segment.length > 0);
}

function matchSegments(pattern: string[], segments: string[]): Record<string, string> | undefined {
  if (pattern.length !== segments.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const part = pattern[i];
    if (part.startsWith('{') && part.endsWith('}')) {
      try {
        params[part.slice(1, -1)] = decodeURIComponent(segments[i]);
      } catch {
        return undefined;
      }
    } else if (part !== segments[i]) {
      return undefined;
    }
  }
  return params;
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
