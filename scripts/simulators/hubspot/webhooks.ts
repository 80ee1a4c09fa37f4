/**
 * Webhook events and their delivery. Store changes become events for each
 * matching subscription; events are sent to the target URL in batches of up
 * to 100, at most 10 requests at a time, signed (v3 and v1), and retried with
 * backoff on a non-2xx answer, a connection failure or a timeout. Seeded
 * fault switches drop, duplicate, reorder and delay events reproducibly.
 */

import { IdleWaiters } from '../common/idle-waiters.ts';
import { createPrng, type Prng } from '../common/prng.ts';
import {
  deliveryDelayMs,
  NO_WEBHOOK_FAULTS,
  queueWithFaults,
  type WebhookFaultSettings,
} from '../common/webhook-faults.ts';
import { associationTypeName } from './association-types.ts';
import { OBJECT_TYPE_NAMES, objectTypeInfo } from './object-types.ts';
import type { StoreChange } from './store.ts';
import { signV1, signV3 } from './webhook-signature.ts';

export interface WebhookSubscription {
  id: number;
  /** `contact.propertyChange`, `deal.creation`, `object.creation` (with objectTypeId), ... */
  subscriptionType: string;
  /** propertyChange only: the one property this subscription watches. Omitted: every property. */
  propertyName?: string;
  /** `object.*` subscriptions: the object type id (`0-46` for notes). */
  objectTypeId?: string;
  active: boolean;
}

export interface WebhookRetrySettings {
  /** Retries after the first attempt (HubSpot: 10, spread over 24 hours). */
  maxRetries: number;
  initialDelayMs: number;
  maxDelayMs: number;
  multiplier: number;
}

export interface WebhookSettings {
  targetUrl: string | null;
  clientSecret: string;
  appId: number;
  portalId: number;
  subscriptions: WebhookSubscription[];
  maxConcurrentRequests: number;
  maxEventsPerRequest: number;
  /** How long events gather before a batch is cut. */
  batchWindowMs: number;
  /** HubSpot gives up on a request after 5 s. */
  requestTimeoutMs: number;
  retry: WebhookRetrySettings;
  faults: WebhookFaultSettings;
}

export type SubscriptionInput = Omit<WebhookSubscription, 'id' | 'active'> & { id?: number; active?: boolean };

export type WebhookSettingsPatch =
  & Partial<
    Omit<WebhookSettings, 'subscriptions' | 'retry' | 'faults' | 'portalId'>
  >
  & {
    subscriptions?: SubscriptionInput[];
    retry?: Partial<WebhookRetrySettings>;
    faults?: Partial<WebhookFaultSettings>;
  };

export type WebhookEvent = Record<string, unknown> & {
  eventId: number;
  subscriptionId: number;
  subscriptionType: string;
  attemptNumber: number;
  occurredAt: number;
};

export interface DeliveryAttempt {
  batchId: number;
  attemptNumber: number;
  eventIds: number[];
  status: number | null;
  error?: string;
  durationMs: number;
  at: string;
}

export interface WebhookStats {
  eventsCreated: number;
  eventsWithoutTarget: number;
  eventsDropped: number;
  eventsDuplicated: number;
  eventsQueued: number;
  batchesCreated: number;
  requests: number;
  retries: number;
  deliveredBatches: number;
  deliveredEvents: number;
  failedRequests: number;
  abandonedBatches: number;
  abandonedEvents: number;
  inFlight: number;
  waitingRetries: number;
}

interface Batch {
  id: number;
  events: WebhookEvent[];
  attempt: number;
}

const DEFAULT_RETRY: WebhookRetrySettings = { maxRetries: 10, initialDelayMs: 100, maxDelayMs: 5_000, multiplier: 2 };

const CHANGE_FLAGS: Partial<Record<StoreChange['kind'], string>> = {
  creation: 'NEW',
  deletion: 'DELETED',
  privacyDeletion: 'DELETED',
  restore: 'RESTORED',
  merge: 'MERGED',
};

/** Every subscription type the served objects support, as a fresh app would list them. */
export function defaultSubscriptions(): SubscriptionInput[] {
  const kinds = ['creation', 'deletion', 'propertyChange', 'associationChange', 'merge', 'restore'];
  const result: SubscriptionInput[] = [];
  for (const type of OBJECT_TYPE_NAMES) {
    const info = objectTypeInfo(type);
    if (info.legacyWebhookPrefix) {
      for (const kind of kinds) result.push({ subscriptionType: `${info.legacyWebhookPrefix}.${kind}` });
    } else {
      for (const kind of ['creation', 'deletion', 'propertyChange', 'associationChange', 'restore']) {
        result.push({ subscriptionType: `object.${kind}`, objectTypeId: info.objectTypeId });
      }
    }
  }
  result.push({ subscriptionType: 'contact.privacyDeletion' });
  return result;
}

const emptyStats = (): WebhookStats => ({
  eventsCreated: 0,
  eventsWithoutTarget: 0,
  eventsDropped: 0,
  eventsDuplicated: 0,
  eventsQueued: 0,
  batchesCreated: 0,
  requests: 0,
  retries: 0,
  deliveredBatches: 0,
  deliveredEvents: 0,
  failedRequests: 0,
  abandonedBatches: 0,
  abandonedEvents: 0,
  inFlight: 0,
  waitingRetries: 0,
});

export class WebhookDispatcher {
  settings: WebhookSettings;
  private prng: Prng;
  private nextEventId = 1;
  private nextBatchId = 1;
  private nextSubscriptionId = 1_000;
  private pending: WebhookEvent[] = [];
  private retryReady: Batch[] = [];
  private inFlight = 0;
  private waitingRetries = 0;
  private batchTimer: ReturnType<typeof setTimeout> | undefined;
  private timers = new Set<ReturnType<typeof setTimeout>>();
  private readonly idleWaiters = new IdleWaiters(() => this.isIdle());
  private epoch = 0;
  private attempts: DeliveryAttempt[] = [];
  private recentEvents: WebhookEvent[] = [];
  private counters = emptyStats();

  constructor(init: { portalId: number; appId: number; clientSecret: string; targetUrl: string | null }) {
    this.settings = {
      targetUrl: init.targetUrl,
      clientSecret: init.clientSecret,
      appId: init.appId,
      portalId: init.portalId,
      subscriptions: [],
      maxConcurrentRequests: 10,
      maxEventsPerRequest: 100,
      batchWindowMs: 25,
      requestTimeoutMs: 5_000,
      retry: { ...DEFAULT_RETRY },
      faults: { ...NO_WEBHOOK_FAULTS },
    };
    this.settings.subscriptions = this.assignIds(defaultSubscriptions());
    this.prng = createPrng(this.settings.faults.seed);
  }

  configure(patch: WebhookSettingsPatch): WebhookSettings {
    const { subscriptions, retry, faults, ...rest } = patch;
    Object.assign(this.settings, rest);
    if (retry) this.settings.retry = { ...this.settings.retry, ...retry };
    if (faults) {
      this.settings.faults = { ...this.settings.faults, ...faults };
      this.prng = createPrng(this.settings.faults.seed);
    }
    if (subscriptions) {
      this.nextSubscriptionId = 1_000;
      this.settings.subscriptions = this.assignIds(subscriptions);
    }
    return this.settings;
  }

  /** Turns a store change into events for every matching active subscription. */
  handleChange(change: StoreChange): void {
    const events = this.buildEvents(change);
    if (events.length === 0) return;
    this.counters.eventsCreated += events.length;
    this.recentEvents.push(...events);
    if (this.recentEvents.length > 4_000) this.recentEvents = this.recentEvents.slice(-2_000);
    if (!this.settings.targetUrl) {
      this.counters.eventsWithoutTarget += events.length;
      return;
    }
    for (const event of events) {
      queueWithFaults(this.prng, this.settings.faults, this.counters, this.pending, event, () => ({ ...event }));
    }
    this.scheduleBatch();
  }

  /** Sends what is queued now and resolves once nothing is queued, in flight or waiting to retry. */
  async flush(timeoutMs = 10_000): Promise<{ idle: boolean; stats: WebhookStats }> {
    if (this.batchTimer) {
      clearTimeout(this.batchTimer);
      this.batchTimer = undefined;
    }
    this.pump();
    await this.idleWaiters.wait(timeoutMs);
    return { idle: this.isIdle(), stats: this.stats() };
  }

  stats(): WebhookStats {
    return {
      ...this.counters,
      eventsQueued: this.pending.length + this.retryReady.reduce((sum, batch) => sum + batch.events.length, 0),
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

  /** Drops queued and in-flight work and the counters; keeps the settings. */
  reset(): void {
    this.stopTimers();
    this.epoch++;
    this.pending = [];
    this.retryReady = [];
    this.inFlight = 0;
    this.waitingRetries = 0;
    this.attempts = [];
    this.recentEvents = [];
    this.counters = emptyStats();
    this.nextEventId = 1;
    this.nextBatchId = 1;
    this.prng = createPrng(this.settings.faults.seed);
    this.idleWaiters.releaseIfIdle();
  }

  close(): void {
    this.reset();
  }

  // ------------------------------------------------------------- events

  private assignIds(subscriptions: SubscriptionInput[]): WebhookSubscription[] {
    return subscriptions.map((subscription) => ({
      ...subscription,
      id: subscription.id ?? this.nextSubscriptionId++,
      active: subscription.active ?? true,
    }));
  }

  private buildEvents(change: StoreChange): WebhookEvent[] {
    const info = objectTypeInfo(change.objectType);
    const matching = this.settings.subscriptions.filter((subscription) => {
      if (!subscription.active) return false;
      const [prefix, kind] = subscription.subscriptionType.split('.');
      if (kind !== change.kind) return false;
      if (prefix === 'object') {
        if (subscription.objectTypeId !== info.objectTypeId) return false;
      } else if (prefix !== info.legacyWebhookPrefix) return false;
      return !(change.kind === 'propertyChange' && subscription.propertyName &&
        subscription.propertyName !== change.propertyName);
    });
    return matching.map((subscription) => this.buildEvent(change, subscription));
  }

  private buildEvent(change: StoreChange, subscription: WebhookSubscription): WebhookEvent {
    const event: Record<string, unknown> = {};
    if (change.kind !== 'associationChange') event.objectId = Number(change.objectId);
    if (change.kind === 'propertyChange') {
      event.propertyName = change.propertyName;
      event.propertyValue = change.propertyValue;
    }
    event.changeSource = change.source.changeSource;
    Object.assign(event, {
      eventId: this.nextEventId++,
      subscriptionId: subscription.id,
      portalId: this.settings.portalId,
      appId: this.settings.appId,
      occurredAt: change.occurredAt,
      subscriptionType: subscription.subscriptionType,
      attemptNumber: 0,
    });
    if (subscription.objectTypeId) event.objectTypeId = subscription.objectTypeId;
    const changeFlag = CHANGE_FLAGS[change.kind];
    if (changeFlag) event.changeFlag = changeFlag;
    event.sourceId = change.source.sourceId;
    if (change.kind === 'merge') {
      Object.assign(event, {
        primaryObjectId: Number(change.primaryObjectId),
        mergedObjectIds: change.mergedObjectIds.map(Number),
        newObjectId: Number(change.newObjectId),
        numberOfPropertiesMoved: change.numberOfPropertiesMoved,
      });
    }
    if (change.kind === 'associationChange') {
      Object.assign(event, {
        associationType: associationTypeName(change.objectType, change.toObjectType),
        fromObjectId: Number(change.objectId),
        toObjectId: Number(change.toObjectId),
        associationRemoved: change.associationRemoved,
        isPrimaryAssociation: change.isPrimaryAssociation,
      });
    }
    return event as WebhookEvent;
  }

  // ----------------------------------------------------------- delivery

  private scheduleBatch(): void {
    if (this.batchTimer) return;
    this.batchTimer = setTimeout(() => {
      this.batchTimer = undefined;
      this.pump();
    }, this.settings.batchWindowMs);
  }

  private pump(): void {
    const epoch = this.epoch;
    while (this.inFlight < this.settings.maxConcurrentRequests && (this.retryReady.length || this.pending.length)) {
      let batch = this.retryReady.shift();
      if (!batch) {
        if (this.settings.faults.reorder) this.prng.shuffle(this.pending);
        batch = {
          id: this.nextBatchId++,
          events: this.pending.splice(0, this.settings.maxEventsPerRequest),
          attempt: 0,
        };
        this.counters.batchesCreated++;
      }
      this.inFlight++;
      void this.send(batch, epoch);
    }
    this.idleWaiters.releaseIfIdle();
  }

  private async send(batch: Batch, epoch: number): Promise<void> {
    const delay = deliveryDelayMs(this.prng, this.settings.faults);
    if (delay > 0) await this.sleep(delay);
    if (epoch !== this.epoch) return;
    const { targetUrl, clientSecret, requestTimeoutMs, retry } = this.settings;
    if (!targetUrl) {
      // The target was removed while this batch waited: nowhere to deliver it.
      this.inFlight--;
      this.counters.abandonedBatches++;
      this.counters.abandonedEvents += batch.events.length;
      this.pump();
      return;
    }

    const body = JSON.stringify(batch.events.map((event) => ({ ...event, attemptNumber: batch.attempt })));
    const timestamp = String(Date.now());
    const started = Date.now();
    let status: number | null = null;
    let error: string | undefined;
    try {
      const response = await fetch(targetUrl, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          'User-Agent': 'HubSpot Connect 2.0 (http://dev.hubspot.com/)',
          'X-HubSpot-Signature-v3': signV3(clientSecret, 'POST', targetUrl, body, timestamp),
          'X-HubSpot-Request-Timestamp': timestamp,
          'X-HubSpot-Signature': signV1(clientSecret, body),
          'X-HubSpot-Signature-Version': 'v1',
        },
        body,
        signal: AbortSignal.timeout(requestTimeoutMs),
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

    this.counters.requests++;
    if (batch.attempt > 0) this.counters.retries++;
    this.attempts.push({
      batchId: batch.id,
      attemptNumber: batch.attempt,
      eventIds: batch.events.map((event) => event.eventId),
      status,
      error,
      durationMs: Date.now() - started,
      at: new Date(started).toISOString(),
    });
    if (this.attempts.length > 4_000) this.attempts = this.attempts.slice(-2_000);
    this.inFlight--;

    if (status !== null && status >= 200 && status < 300) {
      this.counters.deliveredBatches++;
      this.counters.deliveredEvents += batch.events.length;
    } else {
      this.counters.failedRequests++;
      if (batch.attempt < retry.maxRetries) {
        const wait = Math.min(retry.maxDelayMs, retry.initialDelayMs * retry.multiplier ** batch.attempt);
        this.waitingRetries++;
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          if (epoch !== this.epoch) return;
          this.waitingRetries--;
          this.retryReady.push({ ...batch, attempt: batch.attempt + 1 });
          this.pump();
        }, wait);
        this.timers.add(timer);
      } else {
        this.counters.abandonedBatches++;
        this.counters.abandonedEvents += batch.events.length;
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
    return !this.batchTimer && this.pending.length === 0 && this.retryReady.length === 0 && this.inFlight === 0 &&
      this.waitingRetries === 0;
  }

  private stopTimers(): void {
    if (this.batchTimer) clearTimeout(this.batchTimer);
    this.batchTimer = undefined;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}
