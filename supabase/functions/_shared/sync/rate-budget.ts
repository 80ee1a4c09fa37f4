// Waits for the connection's shared request budget (sync.take_rate_budget)
// before each provider call: a burst window of requests, and where the
// provider counts them (Pipedrive), a daily budget of tokens weighted by each
// call's cost. A 429 pauses the connection for every worker.
import type { SyncDb } from './sync-db.ts';

export interface RateBudget {
  /** Resolves when `requests` costing `tokens` in all may be sent; throws when the wait would pass the deadline. */
  take(requests?: number, tokens?: number): Promise<void>;
  /** Pauses the whole connection (all workers) after a 429 or an outage. */
  pause(ms: number, reason: string): Promise<void>;
}

export class BudgetExhaustedError extends Error {
  constructor(readonly waitMs: number) {
    super(`the connection's request budget frees up in ${waitMs} ms, past this invocation's deadline`);
    this.name = 'BudgetExhaustedError';
  }
}

export function createRateBudget(
  db: Pick<SyncDb, 'takeRateBudget' | 'pauseConnection'>,
  connectionId: string,
  deadline: () => number,
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  now: () => number = Date.now,
): RateBudget {
  return {
    async take(requests = 1, tokens = 0) {
      for (;;) {
        const { granted, wait_ms } = await db.takeRateBudget(connectionId, requests, tokens);
        if (granted) return;
        if (now() + wait_ms > deadline()) throw new BudgetExhaustedError(wait_ms);
        await sleep(wait_ms);
      }
    },
    async pause(ms, reason) {
      await db.pauseConnection(connectionId, ms, reason);
    },
  };
}
