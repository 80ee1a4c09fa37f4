/**
 * Pipedrive's limits as configurable token buckets:
 *
 * - burst: a rolling 2-second window per token (default 20 requests, an API
 *   token on Lite; OAuth tokens get `oauthMultiplier` times that), and a
 *   separate 10-per-window limit for search endpoints;
 * - a daily token budget per company (30,000 × plan multiplier × seats; the
 *   default is Lite with 3 seats), each call spending its `x-token-cost`.
 *   The day follows the simulator clock (UTC), so a test can move to the
 *   next day; burst windows follow real time.
 *
 * Every response carries `x-ratelimit-limit`, `-remaining` and `-reset` (seconds
 * until the oldest request leaves the window).
 */

import { SlidingWindow } from '../common/sliding-window.ts';
import type { RateLimitPolicy } from './errors.ts';

export interface RateLimitSettings {
  /** Requests per burst window for an API token. */
  burstLimit: number;
  /** OAuth tokens get this many times the API token limit (Pipedrive: 4). */
  oauthMultiplier: number;
  burstWindowMs: number;
  /** Search requests per burst window, for every kind of token. */
  searchBurstLimit: number;
  /** Tokens per company per day. */
  dailyBudget: number;
}

export const DEFAULT_RATE_LIMIT: RateLimitSettings = {
  burstLimit: 20,
  oauthMultiplier: 4,
  burstWindowMs: 2_000,
  searchBurstLimit: 10,
  dailyBudget: 30_000 * 1 * 3,
};

export type RateLimitClass = 'standard' | 'search';
export type TokenKind = 'api_token' | 'oauth';

export interface RateLimitRequest {
  token: string;
  tokenKind: TokenKind;
  kind: RateLimitClass;
  /** Tokens the call spends from the daily budget. */
  cost: number;
  /** Real time, for the burst windows. */
  now: number;
  /** Simulator time, for the budget's day. */
  clockNow: number;
}

export type RateLimitDecision =
  | { allowed: true; headers: Record<string, string> }
  | { allowed: false; policy: RateLimitPolicy; headers: Record<string, string> };

function definedOnly<T extends object>(settings: Partial<T>): Partial<T> {
  return Object.fromEntries(Object.entries(settings).filter(([, value]) => value !== undefined)) as Partial<T>;
}

const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);

export class RateLimiter {
  settings: RateLimitSettings;
  private windows = new Map<string, SlidingWindow>();
  private searchWindows = new Map<string, SlidingWindow>();
  private budget = { day: '', spent: 0 };
  /** Tokens spent since the last reset, over all days. */
  spentTotal = 0;

  constructor(settings: Partial<RateLimitSettings> = {}) {
    this.settings = { ...DEFAULT_RATE_LIMIT, ...definedOnly(settings) };
  }

  configure(settings: Partial<RateLimitSettings>): RateLimitSettings {
    this.settings = { ...this.settings, ...definedOnly(settings) };
    return this.settings;
  }

  /** Forgets burst windows and the day's spending. */
  reset(): void {
    this.windows.clear();
    this.searchWindows.clear();
    this.budget = { day: '', spent: 0 };
    this.spentTotal = 0;
  }

  /** Tokens spent on the simulator clock's current day. */
  spentToday(clockNow: number): number {
    return this.budget.day === dayOf(clockNow) ? this.budget.spent : 0;
  }

  burstLimitFor(tokenKind: TokenKind): number {
    return tokenKind === 'oauth' ? this.settings.burstLimit * this.settings.oauthMultiplier : this.settings.burstLimit;
  }

  check(request: RateLimitRequest): RateLimitDecision {
    const { burstWindowMs, searchBurstLimit, dailyBudget } = this.settings;
    const search = request.kind === 'search';
    const limit = search ? searchBurstLimit : this.burstLimitFor(request.tokenKind);
    const window = this.window(search ? this.searchWindows : this.windows, request.token);
    const general = search ? this.window(this.windows, request.token) : window;
    const used = window.count(request.now, burstWindowMs);
    const headers = (remaining: number): Record<string, string> => {
      const oldest = window.oldest(request.now, burstWindowMs);
      const resetMs = oldest === undefined ? burstWindowMs : oldest + burstWindowMs - request.now;
      return {
        'x-ratelimit-limit': String(limit),
        'x-ratelimit-remaining': String(Math.max(0, remaining)),
        'x-ratelimit-reset': String(Math.max(1, Math.ceil(resetMs / 1000))),
      };
    };

    const day = dayOf(request.clockNow);
    if (this.budget.day !== day) this.budget = { day, spent: 0 };
    if (this.budget.spent + request.cost > dailyBudget) {
      return { allowed: false, policy: 'DAILY', headers: headers(limit - used) };
    }
    if (used >= limit) return { allowed: false, policy: search ? 'SEARCH_BURST' : 'BURST', headers: headers(0) };
    if (search && general.count(request.now, burstWindowMs) >= this.burstLimitFor(request.tokenKind)) {
      return { allowed: false, policy: 'BURST', headers: headers(0) };
    }
    window.add(request.now);
    if (search) general.add(request.now);
    this.budget.spent += request.cost;
    this.spentTotal += request.cost;
    return { allowed: true, headers: headers(limit - used - 1) };
  }

  private window(windows: Map<string, SlidingWindow>, token: string): SlidingWindow {
    let window = windows.get(token);
    if (!window) {
      window = new SlidingWindow();
      windows.set(token, window);
    }
    return window;
  }
}
