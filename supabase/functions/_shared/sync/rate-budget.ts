// Waits for the connection's shared request budget (sync.take_rate_budget)
// before each provider call: a burst window of requests, and where the
// provider counts them (Pipedrive), a daily budget of tokens weighted by each
// call's cost. A 429 pauses the connection for every worker. Plain calls made
// one after another (a job's listing, page after page) take spare grants
// with their grant while the window is at most half full, and spend them
// without asking the database again (20261126131000).
import type { SyncDb } from './sync-db.ts';

export interface RateBudget {
  /** Resolves when `requests` costing `tokens` in all may be sent; throws when the wait would pass the deadline. */
  take(requests?: number, tokens?: number): Promise<void>;
  /**
   * Like take, for one call whose answer is awaited: call `answered()` once
   * the answer (or the failure) is in. The grant then counts in the burst
   * window from that moment, by which the request certainly arrived, instead
   * of from the grant plus a fixed margin: no 429 however long calls take,
   * and only each call's round trip lost.
   */
  takeForCall?(tokens?: number): Promise<{ answered(): Promise<void> }>;
  /**
   * Like takeForCall for several calls at once, granted together or not at
   * all: calls that must go out back to back never hold part of the window
   * while they wait for the rest (writers doing so would fill it and wait on
   * each other). One `answered()` per call, in order.
   */
  takeForCalls?(tokens: number[]): Promise<{ answered(): Promise<void> }[]>;
  /** Pauses the whole connection (all workers) after a 429 or an outage. */
  pause(ms: number, reason: string): Promise<void>;
}

/** Spare grants asked for with a plain grant, once a budget has been asked before (a series of calls, not a single one). */
export const spareGrants = 4;
/** How long spare grants may be spent: they count from 1 s after they were granted, less the window's 250 ms margin for the request's way there. */
const spareLifetimeMs = 750;

export class BudgetExhaustedError extends Error {
  constructor(readonly waitMs: number) {
    super(`the connection's request budget frees up in ${waitMs} ms, past this invocation's deadline`);
    this.name = 'BudgetExhaustedError';
  }
}

export function createRateBudget(
  db: Pick<SyncDb, 'takeRateBudget' | 'settleRateBudget' | 'pauseConnection'>,
  connectionId: string,
  deadline: () => number,
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  now: () => number = Date.now,
): RateBudget {
  // One grant asked for at a time: the writers of a run that wait for the
  // budget queue here, and only the first asks the database, instead of all
  // of them polling it and waking together each time a slot frees up.
  let turn: Promise<unknown> = Promise.resolve();
  let asked = false;
  /** Spare plain grants in hand, and until when they may be spent. */
  const spare = { count: 0, until: 0 };
  /** Waits for the grant; resolves with its id (meaningful when taken until answered). */
  const grant = (requests: number, tokens: number, untilAnswered: boolean) => {
    const mine = turn.then(async () => {
      const plain = requests === 1 && tokens === 0 && !untilAnswered;
      if (plain && spare.count > 0 && now() < spare.until) {
        spare.count--;
        return null;
      }
      const ask = plain && asked ? spareGrants : 0;
      asked = true;
      for (;;) {
        const sentAt = now();
        const { granted, wait_ms, grant_id, spare: given } = await db.takeRateBudget(connectionId, requests, tokens, untilAnswered, ask);
        if (granted) {
          if (given) Object.assign(spare, { count: given, until: sentAt + spareLifetimeMs });
          return grant_id;
        }
        if (now() + wait_ms > deadline()) throw new BudgetExhaustedError(wait_ms);
        await sleep(wait_ms);
      }
    });
    turn = mine.catch(() => {});
    return mine;
  };
  /** Grants for calls taken together until answered, one `answered()` per call. */
  const takeForCalls = async (tokens: number[]) => {
    const grantId = await grant(tokens.length, tokens.reduce((a, b) => a + b, 0), true);
    return tokens.map(() => ({
      async answered() {
        // Unsettled, the grant counts as in flight for a while longer: slower, never unsafe.
        await db.settleRateBudget(connectionId, grantId as string, 1).catch(() => {});
      },
    }));
  };
  return {
    async take(requests = 1, tokens = 0) {
      await grant(requests, tokens, false);
    },
    async takeForCall(tokens = 0) {
      const [call] = await takeForCalls([tokens]);
      return call;
    },
    takeForCalls,
    async pause(ms, reason) {
      await db.pauseConnection(connectionId, ms, reason);
    },
  };
}
