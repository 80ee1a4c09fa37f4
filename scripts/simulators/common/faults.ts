/**
 * Faults injected into the API on request of a test: the next N matching
 * requests get a 5xx, a 429, or hang and then have their connection closed
 * (optionally after taking effect, like a write whose answer is lost), or
 * are held a while before they are handled (a slow way in: what happens in
 * the meantime lands first).
 */

export type FaultMode = 'error' | 'timeout' | 'rate-limit' | 'delay';

export interface FaultRule {
  id: number;
  mode: FaultMode;
  /** Requests still to be hit. */
  remaining: number;
  /** Only requests whose path starts with this. */
  pathPrefix?: string;
  /** Only requests with this method. */
  method?: string;
  /** Status for `error` faults (500, 502, 503, 504). */
  status: number;
  /** `error` faults: a JSON error body, or an HTML page like a gateway sends. */
  body: 'json' | 'html';
  /** `timeout` faults: how long to hang before closing the connection; `delay` faults: how long to hold the request. */
  hangMs: number;
  /** `timeout` faults: handle the request first (a write takes effect), then hang instead of answering. */
  applyFirst: boolean;
}

export type FaultInput = Partial<Omit<FaultRule, 'id' | 'remaining'>> & { mode: FaultMode; count?: number };

export class FaultInjector {
  private rules: FaultRule[] = [];
  private nextId = 1;
  injected = 0;

  add(input: FaultInput): FaultRule {
    const rule: FaultRule = {
      id: this.nextId++,
      mode: input.mode,
      remaining: input.count ?? 1,
      pathPrefix: input.pathPrefix,
      method: input.method?.toUpperCase(),
      status: input.status ?? (input.mode === 'rate-limit' ? 429 : 500),
      body: input.body ?? 'json',
      hangMs: input.hangMs ?? 3_000,
      applyFirst: input.applyFirst ?? false,
    };
    this.rules.push(rule);
    return rule;
  }

  /** The rule that applies to this request, consuming one of its hits. */
  take(method: string, path: string): FaultRule | undefined {
    const rule = this.rules.find((candidate) =>
      candidate.remaining > 0 &&
      (!candidate.pathPrefix || path.startsWith(candidate.pathPrefix)) &&
      (!candidate.method || candidate.method === method)
    );
    if (!rule) return undefined;
    rule.remaining--;
    this.injected++;
    if (rule.remaining === 0) this.rules = this.rules.filter((candidate) => candidate !== rule);
    return rule;
  }

  list(): FaultRule[] {
    return this.rules.map((rule) => ({ ...rule }));
  }

  clear(): void {
    this.rules = [];
  }

  reset(): void {
    this.clear();
    this.injected = 0;
  }
}
