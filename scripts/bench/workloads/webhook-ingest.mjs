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
import { pacedRun, saturatedRun } from '../delivery-runs.mjs';

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

export async function webhookIngest(ctx, { durationMs, warmUpMs = 3_000, concurrency = 10, targetEventsPerSecond = 2_000 }) {
  // Paced first, while the worker has no backlog from the saturated run.
  const paced = await pacedRun(createSender(ctx), { durationMs, warmUpMs, concurrency, eventsPerSecond: targetEventsPerSecond, eventsPerRequest });
  await sleep(2_000);
  const saturated = await saturatedRun(createSender(ctx), { durationMs, warmUpMs, concurrency, eventsPerRequest });
  return { eventsPerRequest, paced, saturated };
}
