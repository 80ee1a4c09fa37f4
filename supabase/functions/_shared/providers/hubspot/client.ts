// Calls to HubSpot through the official client, each one paid for from the
// connection's shared rate budget, with failures sorted into what the engine
// can do about them (ProviderError kinds). The client's own retries and
// limiter stay off: the budget and the queue's backoff do that job for every
// worker at once.
import { Client } from '@hubspot/api-client';
import { ProviderError } from '../adapter.ts';
import type { RateBudget } from '../../sync/rate-budget.ts';

export interface HubSpotClientOptions {
  /** An access token (CRM calls), or for the webhooks API of a public app, its developer API key. */
  accessToken?: string;
  developerApiKey?: string;
  /** Set for a simulator or a regional endpoint; defaults to https://api.hubapi.com. */
  basePath?: string;
  budget: RateBudget;
}

export interface HubSpotCaller {
  readonly client: Client;
  /** Runs one API request within the budget; HubSpot errors become ProviderErrors (or are returned for 400s). */
  call<T>(request: (client: Client) => Promise<T>): Promise<T>;
  /**
   * The same for an endpoint outside the ten-secondly limit: the v4
   * association batch endpoints (`x-hubspot-rate-limit-exemptions:
   * ten-secondly` in the official spec). Nothing is taken from the budget, so
   * reading a batch's references costs none of its record calls.
   */
  callExempt<T>(request: (client: Client) => Promise<T>): Promise<T>;
}

interface ApiExceptionLike {
  code: number;
  body: unknown;
  headers?: Record<string, string>;
}

const isApiException = (error: unknown): error is ApiExceptionLike =>
  typeof error === 'object' && error !== null && typeof (error as { code?: unknown }).code === 'number';

export function createHubSpotCaller(options: HubSpotClientOptions): HubSpotCaller {
  const client = new Client({
    ...(options.accessToken ? { accessToken: options.accessToken } : {}),
    ...(options.developerApiKey ? { developerApiKey: options.developerApiKey } : {}),
    ...(options.basePath ? { basePath: options.basePath } : {}),
    numberOfApiCallRetries: 0,
  });
  const send = async <T>(request: (client: Client) => Promise<T>): Promise<T> => {
    try {
      return await request(client);
    } catch (error) {
      throw await classify(error, options.budget);
    }
  };
  return {
    client,
    async call(request) {
      await options.budget.take(1);
      return await send(request);
    },
    callExempt: send,
  };
}

/** How long a search refused by its per-second limit waits: the limit's window. */
export const SEARCH_RETRY_MS = 1_000;

/** A search refused by the search endpoints' own per-second limit (the rest of the API is not limited by it). */
export class SearchRateLimitError extends ProviderError {
  constructor(message: string) {
    super(message, 'rate_limited', SEARCH_RETRY_MS);
    this.name = 'SearchRateLimitError';
  }
}

/** A 429 of the search endpoints' per-second limit (policy SECONDLY), not of the account's request budget. */
export function isSearchSecondlyLimit(body: unknown): boolean {
  if (!body || typeof body !== 'object') return false;
  const { policyName, message } = body as { policyName?: unknown; message?: unknown };
  return policyName === 'SECONDLY' || (typeof message === 'string' && /secondly limit/i.test(message));
}

/** Error body text for messages, without echoing anything long. */
function describe(body: unknown): string {
  if (body && typeof body === 'object' && 'message' in body) return String((body as { message: unknown }).message).slice(0, 300);
  return String(body ?? '').slice(0, 300);
}

async function classify(error: unknown, budget: RateBudget): Promise<Error> {
  if (!isApiException(error)) {
    // Network failure or timeout: the request may or may not have happened.
    return new ProviderError(`HubSpot unreachable: ${error instanceof Error ? error.message : String(error)}`, 'unavailable');
  }
  const { code, body, headers = {} } = error;
  if (code === 429 && isSearchSecondlyLimit(body)) {
    // Search's own 5 a second: the other endpoints are not limited, so the connection goes on; the search waits a second.
    return new SearchRateLimitError(`HubSpot search rate limit: ${describe(body)}`);
  }
  if (code === 429) {
    const header = (name: string) => headers[name] ?? headers[name.toLowerCase()];
    const retryAfterSeconds = Number(header('Retry-After'));
    const intervalMs = Number(header('X-HubSpot-RateLimit-Interval-Milliseconds'));
    const waitMs = Number.isFinite(retryAfterSeconds) && retryAfterSeconds > 0
      ? retryAfterSeconds * 1000
      : Number.isFinite(intervalMs) && intervalMs > 0 ? intervalMs : 10_000;
    await budget.pause(waitMs, `HubSpot 429: ${describe(body)}`);
    return new ProviderError(`HubSpot rate limit: ${describe(body)}`, 'rate_limited', waitMs);
  }
  if (code === 401 || code === 403) return new ProviderError(`HubSpot refused the credentials (${code}): ${describe(body)}`, 'unauthorized');
  if (code === 423) return new ProviderError(`HubSpot record locked (423): ${describe(body)}`, 'rate_limited', 2_000);
  if (code >= 500 || code === 408) return new ProviderError(`HubSpot ${code}: ${describe(body)}`, 'unavailable');
  return new ProviderError(`HubSpot ${code}: ${describe(body)}`, 'invalid');
}
