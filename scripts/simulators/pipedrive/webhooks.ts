/**
 * Webhooks v2: the subscriptions made through `/v1/webhooks` and the
 * delivery of `{meta, data, previous}` events to them, one event per POST,
 * with HTTP Basic auth when the subscription has credentials.
 *
 * Pipedrive's delivery policy, with every duration multiplied by
 * `timeScale` so tests can run it in milliseconds:
 * - a non-2xx answer, a connection error or no answer within
 *   `requestTimeoutMs` (10 s, not scaled) is a failure; attempts 2-4 follow
 *   after 3, 30 and 150 s;
 * - 10 failed first attempts in a row ban the webhook for 30 minutes;
 *   events (and retries) that meet a ban are LOST, and counted;
 * - a webhook without a successful delivery for 3 days is deleted.
 *
 * Seeded fault switches drop, duplicate, reorder and delay deliveries.
 */

import { Buffer } from 'node:buffer';
import { randomUUID } from 'node:crypto';
import { IdleWaiters } from '../common/idle-waiters.ts';
import { createPrng, type Prng } from '../common/prng.ts';
import {
  deliveryDelayMs,
  NO_WEBHOOK_FAULTS,
  queueWithFaults,
  type WebhookFaultSettings,
} from '../common/webhook-faults.ts';
import type { StoreChange } from './store.ts';
import {
  type SubscriptionInput,
  subscriptionMatches,
  validateSubscription,
  type WebhookSubscription,
} from './webhook-subscriptions.ts';

export interface WebhookSettings {
  /** Multiplies retry delays, the ban and the deletion age (not the request timeout). */
  timeScale: number;
  requestTimeoutMs: number;
  /** Waits before attempts 2, 3 and 4. */
  retryDelaysMs: number[];
  /** Failed first attempts in a row that ban a webhook. */
  banAfterFailures: number;
  banDurationMs: number;
  /** A webhook without a successful delivery for this long is deleted. */
  deleteAfterMs: number;
  maxConcurrentRequests: number;
  faults: WebhookFaultSettings;
}

export type WebhookSettingsPatch = Partial<Omit<WebhookSettings, 'faults'>> & {
  faults?: Partial<WebhookFaultSettings>;
};

export const DEFAULT_WEBHOOK_SETTINGS: WebhookSettings = {
  timeScale: 1,
  requestTimeoutMs: 10_000,
  retryDelaysMs: [3_000, 30_000, 150_000],
  banAfterFailures: 10,
  banDurationMs: 30 * 60_000,
  deleteAfterMs: 3 * 86_400_000,
  maxConcurrentRequests: 10,
  faults: { ...NO_WEBHOOK_FAULTS },
};

export interface WebhookEvent {
  meta: Record<string, unknown> & { id: string; attempt: number; webhook_id: string };
  data: Record<string, unknown> | null;
  previous: Record<string, unknown> | null;
}

export interface DeliveryAttempt {
  eventId: string;
  webhookId: number;
  action: string;
  entity: string;
  entityId: string;
  attempt: number;
  status: number | null;
  error?: string;
  durationMs: number;
  at: string;
}

/** What a webhook's delivery history has done to it. */
export interface WebhookHealth {
  consecutiveFirstFailures: number;
  bannedUntil: string | null;
  failingSince: string | null;
  delivered: number;
  failedRequests: number;
  lost: number;
  bans: number;
}

export interface WebhookStats {
  eventsCreated: number;
  eventsDropped: number;
  eventsDuplicated: number;
  /** Events (or their retries) that met a banned or removed webhook. */
  eventsLost: number;
  /** Events whose fourth attempt failed. */
  eventsAbandoned: number;
  requests: number;
  retries: number;
  delivered: number;
  failedRequests: number;
  bans: number;
  webhooksDeleted: number;
  queued: number;
  inFlight: number;
  waitingRetries: number;
}

interface Delivery {
  event: WebhookEvent;
  subscriptionId: number;
  attempt: number;
}

interface HealthState {
  consecutiveFirstFailures: number;
  bannedUntil: number | null;
  failingSince: number | null;
  delivered: number;
  failedRequests: number;
  lost: number;
  bans: number;
}

const emptyStats = (): Omit<WebhookStats, 'queued' | 'inFlight' | 'waitingRetries'> => ({
  eventsCreated: 0,
  eventsDropped: 0,
  eventsDuplicated: 0,
  eventsLost: 0,
  eventsAbandoned: 0,
  requests: 0,
  retries: 0,
  delivered: 0,
  failedRequests: 0,
  bans: 0,
  webhooksDeleted: 0,
});

const emptyHealth = (): HealthState => ({
  consecutiveFirstFailures: 0,
  bannedUntil: null,
  failingSince: null,
  delivered: 0,
  failedRequests: 0,
  lost: 0,
  bans: 0,
});

export interface DispatcherInit {
  companyId: number;
  companyDomain: string;
  /** Simulator clock, for `meta.timestamp` and subscription times. */
  clockNow: () => number;
  settings?: WebhookSettingsPatch;
}

export class WebhookDispatcher {
  settings: WebhookSettings;
  private subscriptions = new Map<number, WebhookSubscription>();
  private health = new Map<number, HealthState>();
  /** Webhooks the policy deleted, with when and why. */
  private removed: Array<{ id: number; at: string; reason: string }> = [];
  private nextId = 1;
  private prng: Prng;
  private pending: Delivery[] = [];
  private inFlight = 0;
  private waitingRetries = 0;
  private pumpTimer: ReturnType<typeof setTimeout> | undefined;
  private timers = new Set<ReturnType<typeof setTimeout>>();
  private readonly idleWaiters = new IdleWaiters(() => this.isIdle());
  private epoch = 0;
  private attempts: DeliveryAttempt[] = [];
  private recentEvents: WebhookEvent[] = [];
  private counters = emptyStats();

  constructor(private readonly init: DispatcherInit) {
    this.settings = structuredClone(DEFAULT_WEBHOOK_SETTINGS);
    if (init.settings) this.configure(init.settings);
    this.prng = createPrng(this.settings.faults.seed);
  }

  configure(patch: WebhookSettingsPatch): WebhookSettings {
    const { faults, ...rest } = patch;
    Object.assign(this.settings, Object.fromEntries(Object.entries(rest).filter(([, value]) => value !== undefined)));
    if (faults) {
      this.settings.faults = { ...this.settings.faults, ...faults };
      this.prng = createPrng(this.settings.faults.seed);
    }
    return this.settings;
  }

  // ------------------------------------------------------ subscriptions

  subscribe(input: SubscriptionInput, defaults: { userId: number }): WebhookSubscription {
    const valid = validateSubscription(input, defaults);
    const subscription: WebhookSubscription = {
      ...valid,
      id: this.nextId++,
      addTime: this.init.clockNow(),
      lastDeliveryTime: null,
      lastHttpStatus: null,
    };
    this.subscriptions.set(subscription.id, subscription);
    this.health.set(subscription.id, emptyHealth());
    return subscription;
  }

  list(): WebhookSubscription[] {
    return [...this.subscriptions.values()];
  }

  get(id: number): WebhookSubscription | undefined {
    return this.subscriptions.get(id);
  }

  unsubscribe(id: number): boolean {
    return this.subscriptions.delete(id);
  }

  /** Delivery health per webhook, and the webhooks the policy deleted. */
  healthReport(): {
    webhooks: Record<string, WebhookHealth>;
    removed: Array<{ id: number; at: string; reason: string }>;
  } {
    const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
    const webhooks: Record<string, WebhookHealth> = {};
    for (const [id, state] of this.health) {
      webhooks[id] = { ...state, bannedUntil: iso(state.bannedUntil), failingSince: iso(state.failingSince) };
    }
    return { webhooks, removed: [...this.removed] };
  }

  // ------------------------------------------------------------- events

  /** Turns a store change into one event per matching subscription. */
  handleChange(change: StoreChange): void {
    const now = Date.now();
    for (const subscription of this.subscriptions.values()) {
      if (!subscriptionMatches(subscription, change.action, change.entity)) continue;
      const event = this.buildEvent(change, subscription);
      this.counters.eventsCreated++;
      this.recentEvents.push(event);
      if (this.recentEvents.length > 4_000) this.recentEvents = this.recentEvents.slice(-2_000);
      if (this.isBanned(subscription.id, now)) {
        this.lose(subscription.id);
        this.expireIfStale(subscription.id, now);
        continue;
      }
      const delivery = () => ({ event, subscriptionId: subscription.id, attempt: 1 });
      queueWithFaults(this.prng, this.settings.faults, this.counters, this.pending, delivery(), delivery);
    }
    this.schedulePump();
  }

  private buildEvent(change: StoreChange, subscription: WebhookSubscription): WebhookEvent {
    const meta: WebhookEvent['meta'] = {
      action: change.action,
      change_source: change.actor.source,
      company_id: String(this.init.companyId),
      correlation_id: change.actor.correlationId,
      entity_id: String(change.id),
      entity: change.entity,
      id: randomUUID(),
      is_bulk_edit: change.actor.isBulkEdit ?? false,
      timestamp: new Date(change.at).toISOString(),
      type: 'general',
      user_id: String(change.actor.userId),
      version: '2.0',
      webhook_id: String(subscription.id),
      webhook_owner_id: String(subscription.userId),
      host: `${this.init.companyDomain}.pipedrive.com`,
      attempt: 1,
      ...change.meta,
    };
    return { meta, data: structuredClone(change.data), previous: structuredClone(change.previous) };
  }

  // ----------------------------------------------------------- delivery

  /** Sends what is queued and resolves once nothing is queued, in flight or waiting to retry. */
  async flush(timeoutMs = 10_000): Promise<{ idle: boolean; stats: WebhookStats }> {
    if (this.pumpTimer) {
      clearTimeout(this.pumpTimer);
      this.pumpTimer = undefined;
    }
    this.pump();
    await this.idleWaiters.wait(timeoutMs);
    return { idle: this.isIdle(), stats: this.stats() };
  }

  stats(): WebhookStats {
    return {
      ...this.counters,
      queued: this.pending.length,
      inFlight: this.inFlight,
      waitingRetries: this.waitingRetries,
    };
  }

  deliveries(limit = 100): DeliveryAttempt[] {
    return this.attempts.slice(-Math.min(limit, 2_000));
  }

  events(limit = 100): WebhookEvent[] {
    return this.recentEvents.slice(-Math.min(limit, 2_000));
  }

  /** Drops subscriptions, queued and in-flight work and the counters; keeps the settings. */
  reset(): void {
    this.stopTimers();
    this.epoch++;
    this.subscriptions.clear();
    this.health.clear();
    this.removed = [];
    this.nextId = 1;
    this.pending = [];
    this.inFlight = 0;
    this.waitingRetries = 0;
    this.attempts = [];
    this.recentEvents = [];
    this.counters = emptyStats();
    this.prng = createPrng(this.settings.faults.seed);
    this.idleWaiters.releaseIfIdle();
  }

  close(): void {
    this.reset();
  }

  private scaled(ms: number): number {
    return Math.max(0, Math.round(ms * this.settings.timeScale));
  }

  private isBanned(subscriptionId: number, now: number): boolean {
    const bannedUntil = this.health.get(subscriptionId)?.bannedUntil;
    return bannedUntil !== null && bannedUntil !== undefined && now < bannedUntil;
  }

  private lose(subscriptionId: number): void {
    this.counters.eventsLost++;
    const health = this.health.get(subscriptionId);
    if (health) health.lost++;
  }

  /** Deletes a webhook that has gone `deleteAfterMs` without a successful delivery. */
  private expireIfStale(subscriptionId: number, now: number): void {
    const health = this.health.get(subscriptionId);
    if (!health || health.failingSince === null || !this.subscriptions.has(subscriptionId)) return;
    if (now - health.failingSince < this.scaled(this.settings.deleteAfterMs)) return;
    this.subscriptions.delete(subscriptionId);
    this.counters.webhooksDeleted++;
    this.removed.push({
      id: subscriptionId,
      at: new Date(now).toISOString(),
      reason: 'no successful delivery within the deletion period',
    });
  }

  private schedulePump(): void {
    if (this.pumpTimer) return;
    this.pumpTimer = setTimeout(() => {
      this.pumpTimer = undefined;
      this.pump();
    }, 1);
  }

  private pump(): void {
    const epoch = this.epoch;
    if (this.settings.faults.reorder && this.pending.length > 1) this.prng.shuffle(this.pending);
    while (this.inFlight < this.settings.maxConcurrentRequests && this.pending.length) {
      const delivery = this.pending.shift()!;
      this.inFlight++;
      void this.send(delivery, epoch);
    }
    this.idleWaiters.releaseIfIdle();
  }

  private async send(delivery: Delivery, epoch: number): Promise<void> {
    const delay = deliveryDelayMs(this.prng, this.settings.faults);
    if (delay > 0) await this.sleep(delay);
    if (epoch !== this.epoch) return;

    const subscription = this.subscriptions.get(delivery.subscriptionId);
    if (!subscription || this.isBanned(delivery.subscriptionId, Date.now())) {
      this.inFlight--;
      this.lose(delivery.subscriptionId);
      this.pump();
      return;
    }

    const body = JSON.stringify({ ...delivery.event, meta: { ...delivery.event.meta, attempt: delivery.attempt } });
    const headers: Record<string, string> = { 'Content-Type': 'application/json', 'User-Agent': 'Pipedrive Webhooks' };
    if (subscription.httpAuthUser !== null) {
      const credentials = `${subscription.httpAuthUser}:${subscription.httpAuthPassword ?? ''}`;
      headers.Authorization = `Basic ${Buffer.from(credentials).toString('base64')}`;
    }
    const started = Date.now();
    let status: number | null = null;
    let error: string | undefined;
    try {
      const response = await fetch(subscription.subscriptionUrl, {
        method: 'POST',
        headers,
        body,
        signal: AbortSignal.timeout(this.settings.requestTimeoutMs),
      });
      status = response.status;
      await response.arrayBuffer().catch(() => undefined);
    } catch (caught) {
      const name = (caught as Error)?.name;
      error = name === 'TimeoutError' || name === 'AbortError'
        ? 'timeout'
        : String((caught as Error)?.message ?? caught);
    }
    if (epoch !== this.epoch) return;
    const now = Date.now();
    this.inFlight--;
    this.counters.requests++;
    if (delivery.attempt > 1) this.counters.retries++;
    const meta = delivery.event.meta;
    this.attempts.push({
      eventId: meta.id,
      webhookId: subscription.id,
      action: String(meta.action),
      entity: String(meta.entity),
      entityId: String(meta.entity_id),
      attempt: delivery.attempt,
      status,
      ...(error ? { error } : {}),
      durationMs: now - started,
      at: new Date(started).toISOString(),
    });
    if (this.attempts.length > 4_000) this.attempts = this.attempts.slice(-2_000);

    const health = this.health.get(subscription.id) ?? emptyHealth();
    subscription.lastDeliveryTime = now;
    subscription.lastHttpStatus = status;
    if (status !== null && status >= 200 && status < 300) {
      this.counters.delivered++;
      health.delivered++;
      health.consecutiveFirstFailures = 0;
      health.failingSince = null;
    } else {
      this.counters.failedRequests++;
      health.failedRequests++;
      health.failingSince ??= now;
      if (delivery.attempt === 1 && ++health.consecutiveFirstFailures >= this.settings.banAfterFailures) {
        health.consecutiveFirstFailures = 0;
        health.bannedUntil = now + this.scaled(this.settings.banDurationMs);
        health.bans++;
        this.counters.bans++;
      }
      this.expireIfStale(subscription.id, now);
      const wait = this.settings.retryDelaysMs[delivery.attempt - 1];
      if (wait === undefined) {
        this.counters.eventsAbandoned++;
      } else if (this.subscriptions.has(subscription.id)) {
        this.waitingRetries++;
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          if (epoch !== this.epoch) return;
          this.waitingRetries--;
          this.pending.push({ ...delivery, attempt: delivery.attempt + 1 });
          this.pump();
        }, this.scaled(wait));
        this.timers.add(timer);
      } else {
        this.lose(subscription.id);
      }
    }
    this.pump();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, ms);
      this.timers.add(timer);
    });
  }

  private isIdle(): boolean {
    return !this.pumpTimer && this.pending.length === 0 && this.inFlight === 0 && this.waitingRetries === 0;
  }

  private stopTimers(): void {
    if (this.pumpTimer) clearTimeout(this.pumpTimer);
    this.pumpTimer = undefined;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}
