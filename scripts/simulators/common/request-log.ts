/**
 * A bounded log of API requests and counters per endpoint and outcome. Each
 * simulator passes the 429 buckets of its own rate-limit policies.
 */

export type RequestOutcome = 'ok' | 'error' | 'unauthorized' | 'rate_limited' | 'fault';

export interface RequestLogEntry {
  seq: number;
  at: string;
  method: string;
  path: string;
  query: string;
  /** `METHOD /path/with/{params}` with the object type spelled out. */
  endpoint: string;
  status: number;
  durationMs: number;
  outcome: RequestOutcome;
  /** Rate-limit policy of a 429. */
  policy?: string;
  /** Tokens the request took from a daily budget (Pipedrive). */
  tokenCost?: number;
}

export interface RequestCounters<Bucket extends string> {
  requests: number;
  byEndpoint: Record<string, number>;
  byStatus: Record<string, number>;
  /** 429s by the limit that sent them. */
  rateLimited: Record<Bucket, number>;
  faultsInjected: number;
  unauthorized: number;
}

/** How 429s are counted: the buckets and which one an entry falls into. */
export interface RateLimitBuckets<Bucket extends string> {
  names: readonly Bucket[];
  classify(entry: Omit<RequestLogEntry, 'seq'>): Bucket;
}

export class RequestLog<Bucket extends string> {
  private entries: RequestLogEntry[] = [];
  private seq = 0;
  counters: RequestCounters<Bucket>;

  constructor(private readonly capacity: number, private readonly buckets: RateLimitBuckets<Bucket>) {
    this.counters = this.emptyCounters();
  }

  private emptyCounters(): RequestCounters<Bucket> {
    return {
      requests: 0,
      byEndpoint: {},
      byStatus: {},
      rateLimited: Object.fromEntries(this.buckets.names.map((name) => [name, 0])) as Record<Bucket, number>,
      faultsInjected: 0,
      unauthorized: 0,
    };
  }

  record(entry: Omit<RequestLogEntry, 'seq'>): RequestLogEntry {
    const full = { seq: ++this.seq, ...entry };
    this.entries.push(full);
    // Trim in bulk so a busy benchmark does not shift the array on every request.
    if (this.entries.length > this.capacity * 2) this.entries = this.entries.slice(-this.capacity);
    const counters = this.counters;
    counters.requests++;
    counters.byEndpoint[entry.endpoint] = (counters.byEndpoint[entry.endpoint] ?? 0) + 1;
    counters.byStatus[String(entry.status)] = (counters.byStatus[String(entry.status)] ?? 0) + 1;
    if (entry.outcome === 'unauthorized') counters.unauthorized++;
    if (entry.outcome === 'fault') counters.faultsInjected++;
    if (entry.status === 429) counters.rateLimited[this.buckets.classify(entry)]++;
    return full;
  }

  recent(limit = 100): RequestLogEntry[] {
    return this.entries.slice(-Math.min(limit, this.capacity));
  }

  clear(): void {
    this.entries = [];
    this.counters = this.emptyCounters();
  }
}
