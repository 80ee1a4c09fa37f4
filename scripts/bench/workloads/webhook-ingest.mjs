// Webhook ingest: signed deliveries of 100 HubSpot events each against
// /functions/v1/hubspot-webhook of a connected portal, at most 10 in flight
// (HubSpot's default concurrency per account), in two runs:
//   * paced: deliveries started on a fixed schedule at the target rate
//     (2,000 events/s = 20 deliveries/s), still at most 10 in flight; latency
//     counts from the scheduled start, so a delivery that had to wait for a
//     free slot is charged the wait too. This is the "2,000 events/s with
//     p99 < 100 ms" target as a sender like HubSpot sees it;
//   * saturated: 10 senders, each posting the next delivery as soon as the
//     last one is answered: the most events/s the stack takes.
// Every event has its own objectId and eventId, so none is deduplicated:
// each one is stored and queued. The first seconds warm up and are not
// counted. The sync worker keeps running as it would.
import { signedDeliveryHeaders } from '../hubspot-signature.mjs';
import { sleep } from '../engine-state.mjs';
import { perSecond, summarize } from '../stats.mjs';

const eventsPerRequest = 100;

function buildBatch(portalId, appId, nextId) {
  const events = [];
  const now = Date.now();
  for (let i = 0; i < eventsPerRequest; i++) {
    const id = nextId();
    events.push({
      eventId: id,
      subscriptionId: 1001,
      portalId,
      appId,
      occurredAt: now,
      subscriptionType: 'contact.propertyChange',
      attemptNumber: 0,
      objectId: id,
      propertyName: 'firstname',
      propertyValue: `Bench ${id}`,
      changeSource: 'CRM_UI',
      sourceId: 'userId:2001',
    });
  }
  return JSON.stringify(events);
}

function createSender(ctx) {
  const { ingest } = ctx;
  const url = ctx.functionUrl('hubspot-webhook');
  let counter = 1_000_000_000 + Math.floor(Math.random() * 1_000) * 1_000_000;
  const nextId = () => ++counter;
  /** Posts one delivery; resolves with { status, accepted, error? }. */
  return async function deliver() {
    const rawBody = buildBatch(ingest.portalId, ingest.appId, nextId);
    const headers = signedDeliveryHeaders({ uri: url, rawBody, clientSecret: ingest.clientSecret });
    try {
      const res = await fetch(url, { method: 'POST', headers, body: rawBody });
      const body = await res.json().catch(() => ({}));
      return { status: res.status, accepted: Number(body.accepted ?? 0), error: res.status === 200 ? undefined : `${res.status} ${body?.error?.code ?? ''}`.trim() };
    } catch (error) {
      return { status: 0, accepted: 0, error: error.message };
    }
  };
}

function summarizeRun(samples, { durationMs, measureFrom }) {
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
    eventsPerSecond: acceptedEvents / (durationMs / 1000),
    eventsPerSecondBySecond: summarize(perSecond(ok.map((s) => ({ at: s.at, count: s.accepted })), measureFrom, durationMs)),
    ackLatencyMs: summarize(ok.map((s) => s.latencyMs)),
  };
}

/** As many deliveries as `concurrency` senders can get answered, for durationMs. */
async function saturated(ctx, { durationMs, warmUpMs, concurrency }) {
  const deliver = createSender(ctx);
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
  return { durationMs, warmUpMs, concurrency, window: { from: measureFrom, to: Date.now() }, ...summarizeRun(samples, { durationMs, measureFrom }) };
}

/** Deliveries started on schedule at eventsPerSecond, at most `concurrency` in flight. */
async function paced(ctx, { durationMs, warmUpMs, concurrency, eventsPerSecond }) {
  const deliver = createSender(ctx);
  const intervalMs = (1000 * eventsPerRequest) / eventsPerSecond;
  const samples = [];
  const startedAt = performance.now();
  const measureFrom = Date.now() + warmUpMs;
  const total = Math.floor((warmUpMs + durationMs) / intervalMs);
  let inFlight = 0;
  let waitingForSlot = 0;
  const slotFreed = [];
  const running = [];
  for (let i = 0; i < total; i++) {
    const scheduled = startedAt + i * intervalMs;
    const delay = scheduled - performance.now();
    if (delay > 0) await sleep(delay);
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
      if (i * intervalMs >= warmUpMs) samples.push({ ...result, at, latencyMs: performance.now() - scheduled });
    })());
  }
  await Promise.all(running);
  const measured = summarizeRun(samples, { durationMs, measureFrom });
  return { durationMs, warmUpMs, concurrency, targetEventsPerSecond: eventsPerSecond, deliveriesThatWaitedForASlot: waitingForSlot,
    window: { from: measureFrom, to: Date.now() }, ...measured };
}

export async function webhookIngest(ctx, { durationMs, warmUpMs = 3_000, concurrency = 10, targetEventsPerSecond = 2_000 }) {
  // Paced first, while the worker has no backlog from the saturated run.
  const pacedRun = await paced(ctx, { durationMs, warmUpMs, concurrency, eventsPerSecond: targetEventsPerSecond });
  await sleep(2_000);
  const saturatedRun = await saturated(ctx, { durationMs, warmUpMs, concurrency });
  return { eventsPerRequest, paced: pacedRun, saturated: saturatedRun };
}
