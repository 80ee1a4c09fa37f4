// Pipedrive webhook ingest: webhook v2 deliveries, ONE event per request
// (Pipedrive sends no batches), with the subscription's HTTP Basic
// credentials, against /functions/v1/pipedrive-webhook of a connected
// company, at most `concurrency` in flight, in two runs:
//   * paced: a delivery starts every 0.5 ms on average (2,000 events/s),
//     still at most `concurrency` in flight; latency counts from the
//     scheduled start, so a delivery that waited for a free slot is charged
//     the wait. This is the "2,000 events/s with p99 < 100 ms" target as a
//     sender like Pipedrive sees it;
//   * saturated: `concurrency` senders, each posting the next delivery as
//     soon as the last one is answered: the most events/s the stack takes.
// Every event has its own uuid and record id, so each one is stored in
// sync.webhook_receipts and queued on crm_inbound. The first seconds warm up
// and are not counted. The sync worker keeps running as it would.
//
// The load generator runs in a worker thread of its own: the benchmark's
// process also runs the functions gateway, and one event loop for both would
// make the gateway wait for the sender. It uses node:http with keep-alive
// sockets (as a webhook sender does), which costs less CPU than fetch.
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { sleep } from '../engine-state.mjs';
import { perSecond, summarize } from '../stats.mjs';

function buildEvent(companyId, id) {
  const at = new Date().toISOString();
  const name = `Bench Person ${id}`;
  return JSON.stringify({
    meta: {
      action: 'change', change_source: 'app', company_id: String(companyId), correlation_id: null, entity_id: String(id),
      entity: 'person', id: randomUUID(), is_bulk_edit: false, timestamp: at, type: 'general', user_id: '1',
      version: '2.0', webhook_id: '1', webhook_owner_id: '1', host: `sim-${companyId}.pipedrive.com`, attempt: 1,
    },
    data: {
      id, name, first_name: 'Bench', last_name: `Person ${id}`, owner_id: 1, org_id: null, add_time: at, update_time: at,
      emails: [{ value: `bench.${id}@ingest.example`, primary: true, label: 'work' }],
      phones: [{ value: `+1 555 ${String(id % 10_000).padStart(4, '0')}`, primary: true, label: 'work' }],
      is_deleted: false, visible_to: 3, label_ids: [], picture_id: null, custom_fields: {},
    },
    previous: { phones: [{ value: '+1 555 0000', primary: true, label: 'work' }] },
  });
}

function createSender({ companyId, authorization, webhookUrl }, concurrency) {
  const url = new URL(webhookUrl);
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  let counter = 10_000_000 + Math.floor(Math.random() * 1_000) * 1_000_000;
  /** Posts one delivery; resolves with { status, accepted, error? }. */
  function deliver() {
    const body = buildEvent(companyId, ++counter);
    return new Promise((resolve) => {
      const req = http.request({
        agent, host: url.hostname, port: url.port, path: url.pathname, method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization, 'user-agent': 'Pipedrive Webhooks' },
      }, (res) => {
        const chunks = [];
        res.on('data', (chunk) => chunks.push(chunk));
        res.on('end', () => {
          let parsed = {};
          try {
            parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          } catch { /* counted as a failure below */ }
          const status = res.statusCode ?? 0;
          resolve({ status, accepted: Number(parsed.accepted ?? 0), error: status === 200 ? undefined : `${status} ${parsed?.error?.code ?? ''}`.trim() });
        });
      });
      req.on('error', (error) => resolve({ status: 0, accepted: 0, error: error.message }));
      req.end(body);
    });
  }
  deliver.close = () => agent.destroy();
  return deliver;
}

/** Counts the deliveries answered inside the measured window; latency of all of them. */
function summarizeRun(samples, { durationMs, measureFrom }) {
  const ok = samples.filter((s) => s.status === 200);
  const inWindow = ok.filter((s) => s.at >= measureFrom && s.at < measureFrom + durationMs);
  const failures = {};
  for (const s of samples) if (s.error) failures[s.error] = (failures[s.error] ?? 0) + 1;
  const acceptedEvents = ok.reduce((sum, s) => sum + s.accepted, 0);
  const acceptedInWindow = inWindow.reduce((sum, s) => sum + s.accepted, 0);
  return {
    requests: samples.length,
    failedRequests: samples.length - ok.length,
    failures,
    acceptedEvents,
    eventsPerSecond: acceptedInWindow / (durationMs / 1000),
    eventsPerSecondBySecond: summarize(perSecond(ok.map((s) => ({ at: s.at, count: s.accepted })), measureFrom, durationMs)),
    ackLatencyMs: summarize(ok.map((s) => s.latencyMs)),
  };
}

async function saturated(target, { durationMs, warmUpMs, concurrency }) {
  const deliver = createSender(target, concurrency);
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
  deliver.close();
  return { durationMs, warmUpMs, concurrency, window: { from: measureFrom, to: Date.now() }, ...summarizeRun(samples, { durationMs, measureFrom }) };
}

/**
 * Deliveries started on schedule, at most `concurrency` in flight. Timers
 * fire about once a millisecond at best, so each tick starts every delivery
 * that is due by then.
 */
async function paced(target, { durationMs, warmUpMs, concurrency, eventsPerSecond }) {
  const deliver = createSender(target, concurrency);
  const intervalMs = 1000 / eventsPerSecond;
  const samples = [];
  const startedAt = performance.now();
  const measureFrom = Date.now() + warmUpMs;
  const total = Math.floor(((warmUpMs + durationMs) * eventsPerSecond) / 1000);
  let inFlight = 0;
  let waitingForSlot = 0;
  const slotFreed = [];
  const running = [];
  let notStarted = 0;
  for (let i = 0; i < total; i++) {
    const scheduled = startedAt + i * intervalMs;
    // A stack that cannot keep up would otherwise run on long after the window: what is not started by its end is counted as failed.
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
      if (i * intervalMs >= warmUpMs) samples.push({ ...result, at, latencyMs: performance.now() - scheduled });
    })());
  }
  await Promise.all(running);
  deliver.close();
  return { durationMs, warmUpMs, concurrency, targetEventsPerSecond: eventsPerSecond, deliveriesThatWaitedForASlot: waitingForSlot,
    window: { from: measureFrom, to: Date.now() }, ...summarizeRun(samples, { durationMs, measureFrom }) };
}

async function run({ target, durationMs, warmUpMs, concurrency, targetEventsPerSecond }) {
  // Paced first, while the worker has no backlog from the saturated run.
  const pacedRun = await paced(target, { durationMs, warmUpMs, concurrency, eventsPerSecond: targetEventsPerSecond });
  await sleep(2_000);
  const saturatedRun = await saturated(target, { durationMs, warmUpMs, concurrency });
  return { eventsPerRequest: 1, paced: pacedRun, saturated: saturatedRun };
}

export function pipedriveWebhookIngest(ctx, { durationMs, warmUpMs = 3_000, concurrency = 50, targetEventsPerSecond = 2_000 }) {
  const { companyId, authorization } = ctx.pipedriveIngest;
  const target = { companyId, authorization, webhookUrl: ctx.functionUrl('pipedrive-webhook') };
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL(import.meta.url), { workerData: { target, durationMs, warmUpMs, concurrency, targetEventsPerSecond } });
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the load generator exited with code ${code}`)));
  });
}

if (!isMainThread) parentPort.postMessage(await run(workerData));
