// The Pipedrive part of `npm run bench`: its simulators and connections, the
// three workloads (webhook ingest, propagation latency, bulk outbound under
// the burst budget), their rows in the table of targets and their sections
// of the report. The runner calls runPipedriveWorkloads after the HubSpot
// workloads; report.mjs appends pipedriveVerdicts and renderPipedrive.
import { deliveryRunsTable, table } from './report.mjs';
import { startPipedriveSimulator } from './simulator-process.mjs';
import { pipedriveOutbound } from './workloads/pipedrive-outbound.mjs';
import { pipedrivePropagation } from './workloads/pipedrive-propagation.mjs';
import { pipedriveWebhookIngest } from './workloads/pipedrive-webhook-ingest.mjs';

export const pipedriveWorkloadNames = ['pipedrive-ingest', 'pipedrive-latency', 'pipedrive-outbound'];

export const pipedriveModes = {
  quick: { pipedriveIngestMs: 5_000, pipedriveLatencySamples: 12, pipedriveOutboundRecords: 160 },
  full: { pipedriveIngestMs: 60_000, pipedriveLatencySamples: 60, pipedriveOutboundRecords: 1_200 },
};

const targets = { ingestEventsPerSecond: 2_000, ingestP99Ms: 100, inboundP95Ms: 1_000, budgetShare: 0.95 };
/** The sync connection's burst: Pipedrive's Growth plan (40 requests per rolling 2 s per API token). */
const syncBurst = { maxRequests: 40, intervalMs: 2_000 };
/** How many deliveries Pipedrive's webhook sender keeps in flight at most, as the benchmark sends them. */
const ingestConcurrency = 50;

/** Creates a tenant and connects it to a Pipedrive simulator through the connections function. */
async function connectCompany(ctx, sim, { name, token, companyId, burst }) {
  const [{ id: tenantId }] = await ctx.sql`insert into crm.tenants (name, slug) values (${`Bench ${name}`}, ${`bench-${name}-${companyId}`}) returning id`;
  const res = await fetch(ctx.functionUrl('connections'), {
    method: 'POST',
    headers: { authorization: `Bearer ${ctx.serviceRoleKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ tenant_id: tenantId, provider: 'pipedrive', api_token: token, api_base_url: sim.url,
      rate_limit: { max_requests: burst.maxRequests, interval_ms: burst.intervalMs }, daily_limit: 1_000_000, scheduled_jobs: false }),
  });
  const body = await res.json();
  if (res.status !== 201) throw new Error(`connecting the ${name} Pipedrive company failed (${res.status}): ${JSON.stringify(body)}`);
  const [{ secret }] = await ctx.sql`select sync.connection_credentials(${body.connection_id}) ->> 'webhook_secret' as secret`;
  return { tenantId, connectionId: body.connection_id, companyId, burst, authorization: `Basic ${Buffer.from(secret).toString('base64')}` };
}

/**
 * Runs the selected Pipedrive workloads. `phase(name, run)` records each
 * one's result or error; `retireConnection` takes the ingest company's
 * queued events out of the way afterwards.
 */
export async function runPipedriveWorkloads(ctx, { selected, settings, phase, addSimulator, retireConnection, webhookTimes, step }) {
  if (!pipedriveWorkloadNames.some((name) => selected.includes(name))) return;
  const start = async (name, companyId, burst) => {
    const token = `pd-bench-${name}`;
    const sim = await startPipedriveSimulator({ name, logDir: ctx.logDir, token, companyId, seed: companyId, rateLimit: burst.maxRequests });
    addSimulator(sim);
    return { sim, connection: await connectCompany(ctx, sim, { name, token, companyId, burst }) };
  };
  // Ingest first: the other workloads leave webhook echoes for the worker to handle a while.
  if (selected.includes('pipedrive-ingest')) {
    step(`Pipedrive webhook ingest: one event per request, at most ${ingestConcurrency} in flight: ${settings.pipedriveIngestMs / 1000} s at 2,000 events/s, then ${settings.pipedriveIngestMs / 1000} s saturated`);
    const { connection } = await start('pipedrive-ingest', 72_000_002, { maxRequests: 20, intervalMs: 2_000 });
    ctx.pipedriveIngest = connection;
    await phase('pipedriveIngest', async () => {
      const measured = await pipedriveWebhookIngest(ctx, { durationMs: settings.pipedriveIngestMs, concurrency: ingestConcurrency });
      await new Promise((resolve) => setTimeout(resolve, 500)); // the log stream flushes
      for (const run of [measured.saturated, measured.paced]) {
        run.serverSide = webhookTimes(ctx.logFile, run.window.from, run.window.to, 'pipedrive-webhook');
      }
      measured.queuedEventsDroppedAfterwards = await retireConnection(ctx, connection.connectionId);
      return measured;
    });
  }
  if (selected.includes('pipedrive-latency') || selected.includes('pipedrive-outbound')) {
    step(`starting a Pipedrive simulator (${syncBurst.maxRequests} requests / ${syncBurst.intervalMs / 1000} s per token)`);
    const { sim, connection } = await start('pipedrive-sync', 72_000_001, syncBurst);
    ctx.pipedriveSim = sim;
    ctx.pipedriveSync = connection;
  }
  if (selected.includes('pipedrive-latency')) {
    step(`Pipedrive propagation latency: ${settings.pipedriveLatencySamples} changes each way, ~300 ms apart`);
    await phase('pipedriveLatency', () => pipedrivePropagation(ctx, { samples: settings.pipedriveLatencySamples }));
  }
  if (selected.includes('pipedrive-outbound')) {
    step(`Pipedrive bulk outbound: ${settings.pipedriveOutboundRecords} creates, then as many edits`);
    await phase('pipedriveOutbound', () => pipedriveOutbound(ctx, { records: settings.pipedriveOutboundRecords }));
  }
}

const int = (n) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a');
const pct = (n) => (Number.isFinite(n) ? `${Math.round(n * 100)}%` : 'n/a');
const secs = (n) => (Number.isFinite(n) ? `${(n / 1000).toFixed(1)} s` : 'n/a');
const trio = (s) => (s?.n ? `${int(s.p50)} / ${int(s.p95)} / ${int(s.p99)} ms` : 'n/a');

/** The Pipedrive rows of the table of targets: { measure, result, target, met }. */
export function pipedriveVerdicts(result) {
  const w = result.workloads;
  const selected = (name) => result.selected?.includes(name) ?? true;
  const failed = (name) => result.errors[name] ? `failed: ${result.errors[name]}` : 'not run';
  const rows = [];
  if (w.pipedriveIngest) {
    const { paced: p, saturated: s } = w.pipedriveIngest;
    rows.push({ measure: `Pipedrive webhook ingest at ${int(p.targetEventsPerSecond)} events/s (paced, 1 event per request, ≤ ${p.concurrency} in flight), events/s sustained`,
      result: `${int(p.eventsPerSecond)} events/s (per second: median ${int(p.eventsPerSecondBySecond.p50)}, range ${int(p.eventsPerSecondBySecond.min)}–${int(p.eventsPerSecondBySecond.max)}), ${p.failedRequests} failed`,
      target: `≥ ${int(targets.ingestEventsPerSecond)} events/s`, met: p.eventsPerSecond >= 0.99 * targets.ingestEventsPerSecond && p.failedRequests === 0 });
    rows.push({ measure: `Pipedrive webhook ack latency at ${int(p.targetEventsPerSecond)} events/s p50 / p95 / p99`, result: trio(p.ackLatencyMs),
      target: `p99 < ${targets.ingestP99Ms} ms`, met: p.ackLatencyMs.p99 < targets.ingestP99Ms });
    rows.push({ measure: `Pipedrive webhook ingest saturated (${s.concurrency} in flight, back to back)`,
      result: `${int(s.eventsPerSecond)} events/s, ack p50 / p95 / p99 ${trio(s.ackLatencyMs)}, ${s.failedRequests} failed`,
      target: `≥ ${int(targets.ingestEventsPerSecond)} events/s`, met: s.eventsPerSecond >= targets.ingestEventsPerSecond && s.failedRequests === 0 });
    const r = w.pipedriveIngest.refused;
    if (r) {
      rows.push({ measure: `Pipedrive webhook, the request path alone: deliveries with wrong credentials (${r.concurrency} in flight, back to back, answered 401)`,
        result: `${int(r.requestsPerSecond)} requests/s (${Object.entries(r.failures).map(([k, n]) => `${int(n)} × ${k}`).join(', ') || 'none refused'})`,
        target: 'no target; no delivery rate on this stack can pass it', met: null });
    }
  } else if (selected('pipedrive-ingest')) {
    rows.push({ measure: 'Pipedrive webhook ingest', result: failed('pipedriveIngest'), target: `≥ ${int(targets.ingestEventsPerSecond)} events/s, p99 < ${targets.ingestP99Ms} ms`, met: null });
  }
  if (w.pipedriveLatency) {
    const l = w.pipedriveLatency;
    rows.push({ measure: 'Pipedrive → Postgres latency p50 / p95 / p99', result: trio(l.pipedriveToPostgres), target: `p95 < ${secs(targets.inboundP95Ms)}`,
      met: l.pipedriveToPostgres.p95 < targets.inboundP95Ms });
    rows.push({ measure: 'Postgres → Pipedrive latency p50 / p95 / p99', result: trio(l.postgresToPipedrive), target: '–', met: null });
  } else if (selected('pipedrive-latency')) {
    rows.push({ measure: 'Pipedrive propagation latency', result: failed('pipedriveLatency'), target: `p95 < ${secs(targets.inboundP95Ms)}`, met: null });
  }
  if (w.pipedriveOutbound) {
    const o = w.pipedriveOutbound;
    for (const run of o.runs) {
      rows.push({ measure: `Pipedrive bulk outbound, ${int(run.records)} ${run.label}: share of the burst budget used (${o.burst.maxRequests} requests / ${secs(o.burst.intervalMs)})`,
        result: `${pct(run.budgetUse)} (${int(run.callsInSpan)} calls in ${secs(run.spanMs)}, ${run.callsPerSecond.toFixed(1)} calls/s)`,
        target: `≥ ${pct(targets.budgetShare)}`, met: run.budgetUse >= targets.budgetShare });
    }
    const caused = o.runs.reduce((sum, run) => sum + run.rateLimited429, 0);
    rows.push({ measure: 'Pipedrive bulk outbound, 429s caused', result: `${caused}`, target: '0', met: caused === 0 });
  } else if (selected('pipedrive-outbound')) {
    rows.push({ measure: 'Pipedrive bulk outbound', result: failed('pipedriveOutbound'), target: `≥ ${pct(targets.budgetShare)} of the burst budget, 0 × 429`, met: null });
  }
  return rows;
}

/** The report's Pipedrive sections (markdown lines). */
export function renderPipedrive(result) {
  const w = result.workloads;
  const out = [];
  if (w.pipedriveIngest) {
    const { paced: p, saturated: s } = w.pipedriveIngest;
    out.push('## Pipedrive webhook ingest', '');
    out.push(`Webhook v2 deliveries of one \`person\` \`change\` event each (as Pipedrive sends them) with the subscription's HTTP Basic credentials to \`/functions/v1/pipedrive-webhook\`, over keep-alive connections, at most ${p.concurrency} in flight. Every event has its own uuid, so each one is stored in \`sync.webhook_receipts\` and queued on \`crm_inbound\`; the sync worker runs meanwhile as it would. Paced: deliveries start at ${int(p.targetEventsPerSecond)} per second for ${secs(p.durationMs)}, each one's latency counted from its scheduled start; deliveries not started by the end of the run (when the stack cannot keep up) count as failed, and events/s counts what was answered inside the window. Saturated: ${s.concurrency} senders post back to back for ${secs(s.durationMs)}. Each run follows ${secs(p.warmUpMs)} of uncounted warm-up.${w.pipedriveIngest.refused ? ` Last, the request path alone: the same deliveries back to back with wrong Basic credentials, refused with 401 once the check fails (nothing parsed or stored); what the gateway and the function's HTTP serving cost per request bounds every delivery rate on this stack.` : ''}`, '');
    out.push(deliveryRunsTable(p, s), '');
  }
  if (w.pipedriveLatency) {
    const l = w.pipedriveLatency;
    out.push('## Pipedrive propagation latency (light load)', '');
    out.push(`${l.samples} changes each way, one at a time, ~${l.spacingMs} ms apart, each timed from just before the change until a poll (every ${l.pollMs} ms) sees it on the other side. Pipedrive → Postgres: a user's phone edit through the simulator's control API (webhook v2 → \`pipedrive-webhook\` → \`crm_inbound\` → pg_net kick → \`sync-worker\` → read → apply) until \`crm.contacts\` has it. Postgres → Pipedrive: an \`UPDATE\` of \`crm.contacts\` until the simulator's person has it.`, '');
    out.push(table(['direction', 'p50', 'p95', 'p99', 'min', 'max'], [
      ['Pipedrive → Postgres', ...['p50', 'p95', 'p99', 'min', 'max'].map((k) => `${int(l.pipedriveToPostgres[k])} ms`)],
      ['Postgres → Pipedrive', ...['p50', 'p95', 'p99', 'min', 'max'].map((k) => `${int(l.postgresToPipedrive[k])} ms`)],
    ]), '');
  }
  if (w.pipedriveOutbound) {
    const o = w.pipedriveOutbound;
    out.push('## Pipedrive bulk outbound under the burst budget', '');
    out.push(`${int(o.records)} local contacts inserted in one statement, then edited by one \`UPDATE\`, with the connection's budget and the simulator's limit both at ${o.burst.maxRequests} requests per rolling ${secs(o.burst.intervalMs)} (Pipedrive has no batch writes: one call per record). Both runs start with an idle budget. Budget use: with C calls (every call of the run by this token, reads included, up to the last write), the fastest possible span from the first call to the last is (C − ${o.burst.maxRequests}) / ${o.burst.maxRequests} windows; the figure is that span over the span measured in the simulator's request log.`, '');
    out.push(table(['run', 'calls (writes)', '429s', 'first call after', 'span, first to last call', 'fastest possible span', 'calls/s', 'budget used', 'write call p50 / p95'],
      o.runs.map((r) => [r.label, `${int(r.callsInSpan)} (${int(r.writes)})`, `${r.rateLimited429}`, `${int(r.firstCallAfterMs)} ms`, secs(r.spanMs), secs(r.idealSpanMs),
        r.callsPerSecond.toFixed(1), pct(r.budgetUse), `${int(r.writeCallMs?.p50)} / ${int(r.writeCallMs?.p95)} ms`])), '');
    out.push('A call counts in the engine\'s window from its answer (the moment it certainly arrived by), so each window loses about one write call\'s duration (the last column): the price of never causing a 429 however slow calls get.', '');
  }
  return out;
}
