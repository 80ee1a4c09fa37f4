/** A bounded log of API requests and counters per endpoint and outcome. */

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
}

export interface RequestCounters {
  requests: number;
  byEndpoint: Record<string, number>;
  byStatus: Record<string, number>;
  rateLimited: { tenSecondly: number; secondly: number; daily: number; injected: number };
  faultsInjected: number;
  unauthorized: number;
}

const emptyCounters = (): RequestCounters => ({
  requests: 0,
  byEndpoint: {},
  byStatus: {},
  rateLimited: { tenSecondly: 0, secondly: 0, daily: 0, injected: 0 },
  faultsInjected: 0,
  unauthorized: 0,
});

export class RequestLog {
  private entries: RequestLogEntry[] = [];
  private seq = 0;
  counters = emptyCounters();

  constructor(private readonly capacity = 5_000) {}

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
    if (entry.status === 429) {
      if (entry.outcome === 'fault') counters.rateLimited.injected++;
      else if (entry.policy === 'SECONDLY') counters.rateLimited.secondly++;
      else if (entry.policy === 'DAILY') counters.rateLimited.daily++;
      else counters.rateLimited.tenSecondly++;
    }
    return full;
  }

  recent(limit = 100): RequestLogEntry[] {
    return this.entries.slice(-Math.min(limit, this.capacity));
  }

  clear(): void {
    this.entries = [];
    this.counters = emptyCounters();
  }
}
