/** The shape of a Pipedrive API route, and helpers shared by the route modules. */

import type { ApiRequest, ApiResponse, HttpMethod } from '../../common/router.ts';
import type { RateLimitClass } from '../rate-limit.ts';
import type { SimulatorState } from '../state.ts';

export interface PipedriveRequest extends ApiRequest {
  /** One per request; every change it causes carries it as `meta.correlation_id`. */
  correlationId: string;
}

export interface PipedriveRoute {
  method: HttpMethod;
  /** The full path, `/api/v2/persons/{id}` or `/v1/notes/{id}`. */
  pattern: string;
  api: 'v1' | 'v2';
  rateLimit: RateLimitClass;
  /** Tokens the call spends from the daily budget (v2: the spec's `x-token-cost`). */
  cost: number;
  handler: (request: PipedriveRequest, state: SimulatorState) => ApiResponse | Promise<ApiResponse>;
}

/**
 * v1 costs, from Pipedrive's rate-limiting guide (the v1 spec carries none):
 * get one 2, list 20, create or update 10, delete 6.
 */
export function v1Cost(method: HttpMethod, single: boolean): number {
  if (method === 'GET') return single ? 2 : 20;
  if (method === 'DELETE') return 6;
  return 10;
}

export const ok = (data: unknown, extra: Record<string, unknown> = {}, status = 200): ApiResponse => ({
  status,
  body: { success: true, data, ...extra },
});
