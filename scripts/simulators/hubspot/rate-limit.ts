/**
 * HubSpot's API limits per access token: a rolling ten-second window
 * (default 100 requests, a Free/Starter private app), a daily allowance, and
 * the separate 5 requests/second limit of the search endpoints. Search
 * responses carry no rate-limit headers, as on HubSpot.
 */

import { SlidingWindow } from '../common/sliding-window.ts';
import type { RateLimitPolicy } from './errors.ts';

export interface RateLimitSettings {
  /** Requests allowed per rolling interval. */
  maxPerInterval: number;
  intervalMs: number;
  dailyLimit: number;
  searchPerSecond: number;
}

export const DEFAULT_RATE_LIMIT: RateLimitSettings = {
  maxPerInterval: 100,
  intervalMs: 10_000,
  dailyLimit: 250_000,
  searchPerSecond: 5,
};

/**
 * `standard` counts against the rolling window; `search` against the search
 * limit; `exempt` (endpoints the specs mark exempt from the ten-secondly
 * limit) only against the daily allowance.
 */
export type RateLimitClass = 'standard' | 'search' | 'exempt';

export type RateLimitDecision =
  | { allowed: true; headers: Record<string, string> }
  | { allowed: false; policy: RateLimitPolicy; headers: Record<string, string> };

function definedOnly(settings: Partial<RateLimitSettings>): Partial<RateLimitSettings> {
  return Object.fromEntries(Object.entries(settings).filter(([, value]) => value !== undefined));
}

export class RateLimiter {
  settings: RateLimitSettings;
  private windows = new Map<string, SlidingWindow>();
  private searchWindows = new Map<string, SlidingWindow>();
  private daily = new Map<string, { day: string; count: number }>();

  constructor(settings: Partial<RateLimitSettings> = {}) {
    this.settings = { ...DEFAULT_RATE_LIMIT, ...definedOnly(settings) };
  }

  configure(settings: Partial<RateLimitSettings>): RateLimitSettings {
    this.settings = { ...this.settings, ...definedOnly(settings) };
    return this.settings;
  }

  reset(): void {
    this.windows.clear();
    this.searchWindows.clear();
    this.daily.clear();
  }

  check(token: string, kind: RateLimitClass, now = Date.now()): RateLimitDecision {
    const { maxPerInterval, intervalMs, dailyLimit, searchPerSecond } = this.settings;
    const window = this.window(this.windows, token);
    const used = window.count(now, intervalMs);
    const day = new Date(now).toISOString().slice(0, 10);
    let daily = this.daily.get(token);
    if (!daily || daily.day !== day) {
      daily = { day, count: 0 };
      this.daily.set(token, daily);
    }
    const headers = (remaining: number): Record<string, string> =>
      kind === 'search' ? {} : {
        'X-HubSpot-RateLimit-Max': String(maxPerInterval),
        'X-HubSpot-RateLimit-Remaining': String(Math.max(0, remaining)),
        'X-HubSpot-RateLimit-Interval-Milliseconds': String(intervalMs),
        'X-HubSpot-RateLimit-Daily': String(dailyLimit),
        'X-HubSpot-RateLimit-Daily-Remaining': String(Math.max(0, dailyLimit - daily!.count)),
      };

    if (daily.count >= dailyLimit) return { allowed: false, policy: 'DAILY', headers: headers(maxPerInterval - used) };
    if (kind === 'standard' && used >= maxPerInterval) {
      return { allowed: false, policy: 'TEN_SECONDLY_ROLLING', headers: headers(0) };
    }
    if (kind === 'search') {
      const searchWindow = this.window(this.searchWindows, token);
      if (searchWindow.count(now, 1000) >= searchPerSecond) {
        return { allowed: false, policy: 'SECONDLY', headers: {} };
      }
      searchWindow.add(now);
    }
    daily.count++;
    if (kind === 'standard') {
      window.add(now);
      return { allowed: true, headers: headers(maxPerInterval - used - 1) };
    }
    return { allowed: true, headers: headers(maxPerInterval - used) };
  }

  /** Requests counted against the daily allowance today. */
  dailyUsed(token: string, now = Date.now()): number {
    const daily = this.daily.get(token);
    return daily && daily.day === new Date(now).toISOString().slice(0, 10) ? daily.count : 0;
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
