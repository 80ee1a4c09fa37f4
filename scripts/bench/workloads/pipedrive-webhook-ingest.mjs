// Pipedrive webhook ingest: webhook v2 deliveries, ONE event per request
// (Pipedrive sends no batches), with the subscription's HTTP Basic
// credentials, against /functions/v1/pipedrive-webhook of a connected
// company, at most `concurrency` in flight, paced at 2,000 events/s (the
// target as a sender like Pipedrive sees it) and then saturated (see
// ../delivery-runs.mjs).
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
import { pacedRun, saturatedRun } from '../delivery-runs.mjs';

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

async function run({ target, durationMs, warmUpMs, concurrency, targetEventsPerSecond }) {
  // Paced first, while the worker has no backlog from the saturated run.
  const runs = {};
  for (const [name, drive] of [['paced', pacedRun], ['saturated', saturatedRun]]) {
    if (name === 'saturated') await sleep(2_000);
    const deliver = createSender(target, concurrency);
    runs[name] = await drive(deliver, { durationMs, warmUpMs, concurrency, eventsPerSecond: targetEventsPerSecond, eventsPerRequest: 1 });
    deliver.close();
  }
  // The request path alone: the same deliveries with wrong credentials, answered 401 once the Basic check fails,
  // nothing parsed or stored. What the gateway and the function's HTTP serving cost bounds any delivery rate here.
  await sleep(2_000);
  const wrong = createSender({ ...target, authorization: `Basic ${Buffer.from('bench:not-the-password').toString('base64')}` }, concurrency);
  const refused = await saturatedRun(wrong, { durationMs, warmUpMs, concurrency, eventsPerRequest: 1 });
  wrong.close();
  runs.refused = { concurrency, requests: refused.requests, requestsPerSecond: refused.requests / (durationMs / 1000), failures: refused.failures };
  return { eventsPerRequest: 1, ...runs };
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
