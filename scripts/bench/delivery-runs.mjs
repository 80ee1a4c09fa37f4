// The two ways the webhook workloads drive an endpoint, given `deliver()`
// (posts one delivery, resolves with { status, accepted, error? }):
//   * paced: deliveries started on a fixed schedule at the target rate, at
//     most `concurrency` in flight; latency counts from the scheduled start,
//     so a delivery that waited for a free slot is charged the wait. What is
//     not started by the end of the run (a stack that cannot keep up) counts
//     as failed rather than stretching the run;
//   * saturated: `concurrency` senders, each posting the next delivery as
//     soon as the last one is answered: the most the stack takes.
// The first `warmUpMs` are not counted.
import { sleep } from './engine-state.mjs';
import { perSecond, summarize } from './stats.mjs';

/**
 * Throughput counts the deliveries answered inside the measured window,
 * whenever they started; requests, failures and latency count those that
 * are not marked `warmUp`.
 */
export function summarizeRun(all, { durationMs, measureFrom, eventsPerRequest }) {
  const inWindow = all.filter((s) => s.status === 200 && s.at >= measureFrom && s.at < measureFrom + durationMs);
  const samples = all.filter((s) => !s.warmUp);
  const ok = samples.filter((s) => s.status === 200);
  const failures = {};
  for (const s of samples) if (s.error) failures[s.error] = (failures[s.error] ?? 0) + 1;
  const acceptedEvents = ok.reduce((sum, s) => sum + s.accepted, 0);
  return {
    requests: samples.length,
    failedRequests: samples.length - ok.length,
    failures,
    acceptedEvents,
    notQueuedEvents: ok.length * eventsPerRequest - acceptedEvents,
    eventsPerSecond: inWindow.reduce((sum, s) => sum + s.accepted, 0) / (durationMs / 1000),
    eventsPerSecondBySecond: summarize(perSecond(inWindow.map((s) => ({ at: s.at, count: s.accepted })), measureFrom, durationMs)),
    ackLatencyMs: summarize(ok.map((s) => s.latencyMs)),
  };
}

export async function saturatedRun(deliver, { durationMs, warmUpMs, concurrency, eventsPerRequest }) {
  const samples = [];
  const measureFrom = Date.now() + warmUpMs;
  const measureUntil = measureFrom + durationMs;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (Date.now() < measureUntil) {
      const sentAt = performance.now();
      const result = await deliver();
      const at = Date.now();
      if (at >= measureFrom && at < measureUntil) samples.push({ ...result, at, latencyMs: performance.now() - sentAt });
    }
  }));
  return { durationMs, warmUpMs, concurrency, window: { from: measureFrom, to: Date.now() },
    ...summarizeRun(samples, { durationMs, measureFrom, eventsPerRequest }) };
}

/** Timers fire about once a millisecond at best, so each turn starts every delivery that is due by then. */
export async function pacedRun(deliver, { durationMs, warmUpMs, concurrency, eventsPerSecond, eventsPerRequest }) {
  const intervalMs = (1000 * eventsPerRequest) / eventsPerSecond;
  const samples = [];
  const startedAt = performance.now();
  const measureFrom = Date.now() + warmUpMs;
  const total = Math.floor((warmUpMs + durationMs) / intervalMs);
  let inFlight = 0;
  let waitingForSlot = 0;
  let notStarted = 0;
  const slotFreed = [];
  const running = [];
  for (let i = 0; i < total; i++) {
    const scheduled = startedAt + i * intervalMs;
    if (performance.now() > startedAt + warmUpMs + durationMs) {
      notStarted = total - i;
      break;
    }
    const delay = scheduled - performance.now();
    if (delay >= 1) await sleep(delay);
    if (inFlight >= concurrency) {
      waitingForSlot++;
      await new Promise((resolve) => slotFreed.push(resolve));
    }
    inFlight++;
    running.push((async () => {
      const result = await deliver();
      inFlight--;
      slotFreed.shift()?.();
      const at = Date.now();
      samples.push({ ...result, at, latencyMs: performance.now() - scheduled, warmUp: i * intervalMs < warmUpMs });
    })());
  }
  await Promise.all(running);
  const measured = summarizeRun(samples, { durationMs, measureFrom, eventsPerRequest });
  if (notStarted > 0) {
    measured.failedRequests += notStarted;
    measured.failures['not started by the end of the run'] = notStarted;
  }
  return { durationMs, warmUpMs, concurrency, targetEventsPerSecond: eventsPerSecond, deliveriesThatWaitedForASlot: waitingForSlot, notStarted,
    window: { from: measureFrom, to: Date.now() }, ...measured };
}
