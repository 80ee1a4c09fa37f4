/**
 * HubSpot's error bodies: the top-level `Error` shape
 * (`{status, message, correlationId, category, errors?, context?}`), the
 * per-input `StandardError` of batch 207 responses, and the rate-limit body.
 */

export type ErrorCategory =
  | 'VALIDATION_ERROR'
  | 'OBJECT_NOT_FOUND'
  | 'OBJECT_ALREADY_EXISTS'
  | 'CONFLICT'
  | 'INVALID_AUTHENTICATION'
  | 'EXPIRED_AUTHENTICATION'
  | 'INTERNAL_ERROR'
  | 'BAD_GATEWAY'
  | 'SERVICE_UNAVAILABLE'
  | 'GATEWAY_TIMEOUT'
  | 'READ_ONLY_VALUE';

export interface ErrorDetail {
  message: string;
  code?: string;
  in?: string;
  context?: Record<string, string[]>;
}

/** A StandardError as found in `errors[]` of batch responses. */
export interface StandardError {
  status: 'error';
  category: string;
  message: string;
  context: Record<string, string[]>;
  errors: ErrorDetail[];
  links: Record<string, string>;
}

/** Thrown by handlers and the store; the server turns it into a response. */
export class HubSpotApiError extends Error {
  constructor(
    readonly status: number,
    readonly category: ErrorCategory,
    message: string,
    readonly details: { errors?: ErrorDetail[]; context?: Record<string, string[]>; subCategory?: string } = {},
  ) {
    super(message);
    this.name = 'HubSpotApiError';
  }
}

export function errorBody(error: HubSpotApiError, correlationId: string): Record<string, unknown> {
  return {
    status: 'error',
    message: error.message,
    correlationId,
    category: error.category,
    ...(error.details.subCategory ? { subCategory: error.details.subCategory } : {}),
    ...(error.details.errors ? { errors: error.details.errors } : {}),
    ...(error.details.context ? { context: error.details.context } : {}),
  };
}

export function standardError(
  category: string,
  message: string,
  context: Record<string, string[]> = {},
  errors: ErrorDetail[] = [],
): StandardError {
  return { status: 'error', category, message, context, errors, links: {} };
}

export type RateLimitPolicy = 'TEN_SECONDLY_ROLLING' | 'SECONDLY' | 'DAILY';

const rateLimitMessages: Record<RateLimitPolicy, string> = {
  TEN_SECONDLY_ROLLING: 'You have reached your ten_secondly_rolling limit.',
  // The official client retries search 429s by matching this exact text.
  SECONDLY: 'You have reached your secondly limit.',
  DAILY: 'You have reached your daily limit.',
};

/** The body HubSpot sends with a 429 (note: no `category`). */
export function rateLimitBody(policy: RateLimitPolicy, correlationId: string): Record<string, unknown> {
  return {
    status: 'error',
    message: rateLimitMessages[policy],
    errorType: 'RATE_LIMIT',
    correlationId,
    policyName: policy,
  };
}

export const notFound = (message = 'resource not found') => new HubSpotApiError(404, 'OBJECT_NOT_FOUND', message);

export const validationError = (message: string, errors?: ErrorDetail[], context?: Record<string, string[]>) =>
  new HubSpotApiError(400, 'VALIDATION_ERROR', message, { errors, context });
