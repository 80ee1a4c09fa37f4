// Calls to Pipedrive through the official client (v1 and v2 namespaces),
// each one paid for from the connection's shared rate budget with its token
// cost, with failures sorted into what the engine can do about them
// (ProviderError kinds).
//
// The client rejects with the response body only: status and headers are
// lost. So its HTTP goes through our own axios adapter over fetch (set with
// the configurations' baseOptions), which charges the budget before the
// request and turns a non-2xx answer into a PipedriveHttpError that keeps
// status, headers and body. The client's error interceptor passes that error
// on untouched (it only unwraps errors carrying `response.data`).
import { v1, v2 } from 'pipedrive';
import { ProviderError } from '../adapter.ts';
import { BudgetExhaustedError, type RateBudget } from '../../sync/rate-budget.ts';

export const PIPEDRIVE_API_BASE = 'https://api.pipedrive.com';

export interface PipedriveClientOptions {
  apiToken: string;
  /** The company's API host, or a simulator (http://127.0.0.1:PORT); API paths are added to it. */
  basePath?: string;
  budget: RateBudget;
  fetch?: typeof fetch;
  /** Per request; Pipedrive answers well within it or not at all. */
  timeoutMs?: number;
}

/** A non-2xx answer, with what the client would have thrown away. */
export class PipedriveHttpError extends Error {
  constructor(readonly status: number, readonly headers: Headers, readonly body: unknown) {
    super(`Pipedrive ${status}: ${describe(body)}`);
    this.name = 'PipedriveHttpError';
  }
}

/**
 * Token cost of a call (the v2 spec's x-token-cost; v1 costs twice as much):
 * get one 1, list 10, search 20, create or update 5, delete 3.
 */
export function tokenCost(method: string, url: string): number {
  const path = new URL(url, 'http://x').pathname;
  const isV1 = !path.includes('/api/v2/');
  const m = method.toUpperCase();
  let cost: number;
  if (m === 'GET') {
    if (/\/search$/.test(path)) cost = 20;
    else cost = /\/\d+$/.test(path) || /\/me$/.test(path) ? 1 : 10;
  } else if (m === 'DELETE') cost = 3;
  else cost = 5;
  return isV1 ? cost * 2 : cost;
}

interface AxiosLikeConfig {
  url?: string;
  method?: string;
  headers?: { toJSON?: () => Record<string, unknown> } & Record<string, unknown>;
  data?: unknown;
}

function headersOf(config: AxiosLikeConfig): Record<string, string> {
  const raw = typeof config.headers?.toJSON === 'function' ? config.headers.toJSON() : (config.headers ?? {});
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (value !== undefined && value !== null && typeof value !== 'object' && typeof value !== 'function') out[name] = String(value);
  }
  return out;
}

type Grant = { answered(): Promise<void> } | void;
interface Prepaid {
  grant: Grant;
}

/**
 * Grants taken ahead for calls that must go out back to back, by method and
 * path ("PATCH /api/v2/persons/7"): the request that matches uses one instead
 * of waiting for the budget (PipedriveCaller.prepay).
 */
export class PrepaidGrants {
  private readonly byKey = new Map<string, Prepaid[]>();
  static key(method: string, url: string): string {
    return `${method.toUpperCase()} ${new URL(url, 'http://x').pathname}`;
  }
  add(key: string, entry: Prepaid) {
    this.byKey.set(key, [...(this.byKey.get(key) ?? []), entry]);
  }
  /** A grant for this request, if one was taken ahead. */
  take(key: string): Prepaid | undefined {
    const list = this.byKey.get(key);
    const entry = list?.shift();
    if (list?.length === 0) this.byKey.delete(key);
    return entry;
  }
  /** Takes back this entry if no request used it; says whether it did. */
  remove(key: string, entry: Prepaid): boolean {
    const list = this.byKey.get(key) ?? [];
    const at = list.indexOf(entry);
    if (at < 0) return false;
    list.splice(at, 1);
    if (list.length === 0) this.byKey.delete(key);
    return true;
  }
}

/** The axios adapter every configuration uses: budget first, then fetch; non-2xx becomes a PipedriveHttpError. */
export function budgetedFetchAdapter(budget: RateBudget, fetchImpl: typeof fetch, timeoutMs: number, prepaid = new PrepaidGrants()) {
  return async (config: AxiosLikeConfig) => {
    const url = String(config.url);
    const method = (config.method ?? 'get').toUpperCase();
    const cost = tokenCost(method, url);
    // Counted in the burst window from its answer where the budget can (see RateBudget.takeForCall).
    const prepaidEntry = prepaid.take(PrepaidGrants.key(method, url));
    const grant = prepaidEntry ? prepaidEntry.grant : budget.takeForCall ? await budget.takeForCall(cost) : await budget.take(1, cost);
    let response: Response;
    let text: string;
    try {
      response = await fetchImpl(url, {
        method,
        headers: headersOf(config),
        body: method === 'GET' || method === 'HEAD' || config.data === undefined ? undefined : (config.data as BodyInit),
        signal: AbortSignal.timeout(timeoutMs),
      });
      text = await response.text();
    } finally {
      await grant?.answered();
    }
    if (!response.ok) {
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch { /* an HTML error page stays text */ }
      throw new PipedriveHttpError(response.status, response.headers, body);
    }
    return {
      data: text,
      status: response.status,
      statusText: response.statusText,
      headers: Object.fromEntries(response.headers.entries()),
      config,
      request: {},
    };
  };
}

export interface PipedriveApis {
  persons: v2.PersonsApi;
  organizations: v2.OrganizationsApi;
  deals: v2.DealsApi;
  activities: v2.ActivitiesApi;
  stages: v2.StagesApi;
  notes: v1.NotesApi;
  personFields: v1.PersonFieldsApi;
  organizationFields: v1.OrganizationFieldsApi;
  dealFields: v1.DealFieldsApi;
  users: v1.UsersApi;
  webhooks: v1.WebhooksApi;
  personsV1: v1.PersonsApi;
  organizationsV1: v1.OrganizationsApi;
  dealsV1: v1.DealsApi;
}

export interface PipedriveCaller {
  readonly api: PipedriveApis;
  /** Runs one client call (charged by the adapter); Pipedrive errors become ProviderErrors. */
  call<T>(request: (api: PipedriveApis) => Promise<T>): Promise<T>;
  /**
   * Takes the budget for these requests (method, path) now, so that made one
   * after the other they wait for nothing in between: a read and the write
   * made from it. `release` gives back grants no request used.
   */
  prepay(requests: { method: string; path: string }[]): Promise<{ release(): Promise<void> }>;
}

export function createPipedriveCaller(options: PipedriveClientOptions): PipedriveCaller {
  const base = (options.basePath ?? PIPEDRIVE_API_BASE).replace(/\/+$/, '');
  const prepaid = new PrepaidGrants();
  const baseOptions = { adapter: budgetedFetchAdapter(options.budget, options.fetch ?? fetch, options.timeoutMs ?? 30_000, prepaid) };
  const v2Config = new v2.Configuration({ apiKey: options.apiToken, basePath: `${base}/api/v2` });
  const v1Config = new v1.Configuration({ apiKey: options.apiToken, basePath: `${base}/api/v1` });
  v2Config.baseOptions = baseOptions;
  v1Config.baseOptions = baseOptions;
  const api: PipedriveApis = {
    persons: new v2.PersonsApi(v2Config),
    organizations: new v2.OrganizationsApi(v2Config),
    deals: new v2.DealsApi(v2Config),
    activities: new v2.ActivitiesApi(v2Config),
    stages: new v2.StagesApi(v2Config),
    notes: new v1.NotesApi(v1Config),
    personFields: new v1.PersonFieldsApi(v1Config),
    organizationFields: new v1.OrganizationFieldsApi(v1Config),
    dealFields: new v1.DealFieldsApi(v1Config),
    users: new v1.UsersApi(v1Config),
    webhooks: new v1.WebhooksApi(v1Config),
    personsV1: new v1.PersonsApi(v1Config),
    organizationsV1: new v1.OrganizationsApi(v1Config),
    dealsV1: new v1.DealsApi(v1Config),
  };
  return {
    api,
    async call(request) {
      try {
        return await request(api);
      } catch (error) {
        throw await classifyPipedriveError(error, options.budget);
      }
    },
    async prepay(requests) {
      const { budget } = options;
      const urls = requests.map(({ method, path }) => ({ method, url: `${base}/api/v2${path}` }));
      const costs = urls.map(({ method, url }) => tokenCost(method, url));
      let grants: Grant[];
      try {
        // All at once: writers holding part of the window while waiting for the rest would fill it and stall.
        grants = budget.takeForCalls
          ? await budget.takeForCalls(costs)
          : (await budget.take(costs.length, costs.reduce((a, b) => a + b, 0)), costs.map(() => undefined));
      } catch (error) {
        throw await classifyPipedriveError(error, budget);
      }
      const taken = urls.map(({ method, url }, i) => ({ key: PrepaidGrants.key(method, url), entry: { grant: grants[i] } as Prepaid }));
      for (const { key, entry } of taken) prepaid.add(key, entry);
      return {
        async release() {
          for (const { key, entry } of taken) if (prepaid.remove(key, entry)) await entry.grant?.answered();
        },
      };
    },
  };
}

/** Error body text for messages, without echoing anything long. */
function describe(body: unknown): string {
  if (body && typeof body === 'object') {
    const b = body as { error?: unknown; error_info?: unknown; errors?: unknown; message?: unknown };
    const text = b.error ?? b.message ?? (b.errors ? JSON.stringify(b.errors) : undefined);
    if (text !== undefined) return String(text).slice(0, 300);
    return JSON.stringify(body).slice(0, 300);
  }
  return String(body ?? '').replace(/\s+/g, ' ').slice(0, 300);
}

/** Milliseconds from `now` to the next UTC midnight, when Pipedrive's daily budget refills. */
export function msToNextUtcDay(now = Date.now()): number {
  const next = new Date(now);
  next.setUTCHours(24, 0, 0, 0);
  return next.getTime() - now;
}

export async function classifyPipedriveError(error: unknown, budget: Pick<RateBudget, 'pause'>): Promise<Error> {
  if (error instanceof ProviderError) return error;
  if (!(error instanceof PipedriveHttpError)) {
    if (error instanceof BudgetExhaustedError) return error;
    // Network failure or timeout: the request may or may not have happened.
    return new ProviderError(`Pipedrive unreachable: ${error instanceof Error ? error.message : String(error)}`, 'unavailable');
  }
  const { status, headers, body } = error;
  if (status === 429) {
    const daily = /daily/i.test(describe(body));
    const resetSeconds = Number(headers.get('x-ratelimit-reset'));
    const waitMs = daily ? msToNextUtcDay() : Number.isFinite(resetSeconds) && resetSeconds > 0 ? resetSeconds * 1000 : 2_000;
    await budget.pause(waitMs, `Pipedrive 429: ${describe(body)}`);
    return new ProviderError(`Pipedrive rate limit: ${describe(body)}`, 'rate_limited', waitMs);
  }
  if (status === 403 && typeof body === 'string' && /<html/i.test(body)) {
    // Pipedrive's answer to persistent abuse: back off for a while.
    await budget.pause(60_000, 'Pipedrive 403 (abuse protection)');
    return new ProviderError('Pipedrive blocked the requests (403 abuse protection)', 'rate_limited', 60_000);
  }
  if (status === 401 || status === 403) return new ProviderError(`Pipedrive refused the credentials (${status}): ${describe(body)}`, 'unauthorized');
  if (status >= 500 || status === 408) return new ProviderError(`Pipedrive ${status}: ${describe(body)}`, 'unavailable');
  if (status === 404) return new PipedriveNotFoundError(`Pipedrive 404: ${describe(body)}`);
  return new ProviderError(`Pipedrive ${status}: ${describe(body)}`, 'invalid');
}

/** A record (or route) Pipedrive does not have: for reads, the record is gone. */
export class PipedriveNotFoundError extends ProviderError {
  constructor(message: string) {
    super(message, 'invalid');
    this.name = 'PipedriveNotFoundError';
  }
}
