/**
 * Pipedrive's error bodies. v1 and v2 share `{success: false, error,
 * error_info, data: null, additional_data: null}` (the v2 spec's declared
 * error shape); a bad token gets `{success: false, error: "unauthorized
 * access", errorCode: 401}` as the v1 spec declares, and webhook creation
 * its own `{status: "error", success: false, errors: {field: [...]}}`.
 */

export const ERROR_INFO = 'Please check developers.pipedrive.com for more information about Pipedrive API.';

export type RateLimitPolicy = 'BURST' | 'SEARCH_BURST' | 'DAILY';

/** Thrown by handlers and the store; the server turns it into a response. */
export class PipedriveApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly details: { errorInfo?: string; code?: string; body?: Record<string, unknown> } = {},
  ) {
    super(message);
    this.name = 'PipedriveApiError';
  }
}

export function errorBody(error: PipedriveApiError): Record<string, unknown> {
  if (error.details.body) return error.details.body;
  return {
    success: false,
    error: error.message,
    error_info: error.details.errorInfo ?? ERROR_INFO,
    data: null,
    additional_data: null,
    ...(error.details.code ? { code: error.details.code } : {}),
  };
}

export const unauthorizedBody = (): Record<string, unknown> => ({
  success: false,
  error: 'unauthorized access',
  errorCode: 401,
  error_info: ERROR_INFO,
  data: null,
  additional_data: null,
});

const rateLimitMessages: Record<RateLimitPolicy, string> = {
  BURST: 'Request over limit',
  SEARCH_BURST: 'Request over limit',
  DAILY: 'Daily API token budget exceeded',
};

/** The 429 body: the documented v1 error shape (the exact texts are not documented). */
export function rateLimitBody(policy: RateLimitPolicy): Record<string, unknown> {
  return {
    success: false,
    error: rateLimitMessages[policy],
    errorCode: 429,
    error_info: ERROR_INFO,
    data: null,
    additional_data: null,
  };
}

export const notFound = (what: string) => new PipedriveApiError(404, `${what} not found`);

export const badRequest = (message: string) => new PipedriveApiError(400, message);
