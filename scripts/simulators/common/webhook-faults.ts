/**
 * Seeded webhook faults: drop or duplicate events as they are queued, and
 * delay (randomly, when reordering) each delivery. The same seed gives the
 * same faults, so a test can reproduce them.
 */

import { z } from 'zod';
import type { Prng } from './prng.ts';

export interface WebhookFaultSettings {
  seed: number;
  /** Chance that an event is delivered a second time. */
  duplicateProbability: number;
  /** Chance that an event is never delivered. */
  dropProbability: number;
  /** Shuffle what is queued and randomise the delay of each delivery. */
  reorder: boolean;
  /** Delay before each delivery request (random up to this when reordering). */
  delayMs: number;
}

export const NO_WEBHOOK_FAULTS: WebhookFaultSettings = {
  seed: 1,
  duplicateProbability: 0,
  dropProbability: 0,
  reorder: false,
  delayMs: 0,
};

/** The control API's `faults` object of `PUT /_sim/webhooks`. */
export const webhookFaultsBody = z.object({
  seed: z.number().int().optional(),
  duplicateProbability: z.number().min(0).max(1).optional(),
  dropProbability: z.number().min(0).max(1).optional(),
  reorder: z.boolean().optional(),
  delayMs: z.number().int().min(0).optional(),
});

export interface WebhookFaultCounters {
  eventsDropped: number;
  eventsDuplicated: number;
}

/** Queues `item` unless the drop chance hits, then a `duplicate()` of it if the duplicate chance hits. */
export function queueWithFaults<T>(
  prng: Prng,
  faults: WebhookFaultSettings,
  counters: WebhookFaultCounters,
  queue: T[],
  item: T,
  duplicate: () => T,
): void {
  if (prng.chance(faults.dropProbability)) {
    counters.eventsDropped++;
    return;
  }
  queue.push(item);
  if (prng.chance(faults.duplicateProbability)) {
    counters.eventsDuplicated++;
    queue.push(duplicate());
  }
}

/** How long to wait before a delivery: `delayMs`, or a random part of it when reordering. */
export function deliveryDelayMs(prng: Prng, faults: WebhookFaultSettings): number {
  if (faults.delayMs <= 0) return 0;
  return faults.reorder ? prng.int(faults.delayMs + 1) : faults.delayMs;
}
