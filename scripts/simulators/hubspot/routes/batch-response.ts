/** The envelope of batch responses: 200/201 when all inputs succeeded, 207 with `errors` otherwise. */

import type { ApiResponse } from '../../common/router.ts';
import { HubSpotApiError, type StandardError, standardError } from '../errors.ts';

export function batchResponse(
  results: unknown[],
  errors: StandardError[],
  startedAt: Date,
  successStatus: 200 | 201 = 200,
): ApiResponse {
  const body: Record<string, unknown> = {
    status: 'COMPLETE',
    results,
    startedAt: startedAt.toISOString(),
    completedAt: new Date().toISOString(),
  };
  if (errors.length > 0) {
    body.numErrors = errors.length;
    body.errors = errors;
  }
  return { status: errors.length > 0 ? 207 : successStatus, body };
}

/** Converts a per-input failure into a StandardError, or rethrows anything else. */
export function inputError(error: unknown, context: Record<string, string[]> = {}): StandardError {
  if (!(error instanceof HubSpotApiError)) throw error;
  return standardError(error.category, error.message, { ...error.details.context, ...context }, error.details.errors);
}

export function traceContext(objectWriteTraceId: string | null | undefined): Record<string, string[]> {
  return objectWriteTraceId ? { objectWriteTraceId: [objectWriteTraceId] } : {};
}
