/**
 * A small router over path patterns like `/crm/v3/objects/{objectType}/{objectId}`,
 * and the request/response shapes the simulators' handlers share.
 */

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

/** What the router needs of a route; each simulator adds its own fields. */
export interface RoutePattern {
  method: HttpMethod;
  pattern: string;
}

export interface RouteMatch<R extends RoutePattern = RoutePattern> {
  route: R;
  params: Record<string, string>;
}

interface CompiledRoute<R extends RoutePattern> {
  route: R;
  segments: string[];
}

export class Router<R extends RoutePattern = RoutePattern> {
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
