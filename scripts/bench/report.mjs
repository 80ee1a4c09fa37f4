// The benchmark report: each figure beside its target, the machine it ran
// on, and how each workload was measured. Markdown for people, JSON (the
// same result object) for tools.
import { pipedriveVerdicts, renderPipedrive } from './pipedrive.mjs';

const targets = {
  ingestEventsPerSecond: 2_000,
  ingestP99Ms: 100,
  inboundP95Ms: 1_000,
  outboundP95Ms: 2_000,
  callsPer10k: 110,
  ceilingRecordsPerSecond: 1_000,
  ceilingShare: 0.95,
  workerCpuMs: 2_000,
  backfillRecordsPerSecond: 20_000,
  workerMemoryMb: 256,
  reconcileMsPerMillion: 60_000,
};

const int = (n) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a');
const ms = (n) => (Number.isFinite(n) ? `${int(n)} ms` : 'n/a');
const secs = (n) => (Number.isFinite(n) ? `${(n / 1000).toFixed(1)} s` : 'n/a');
const pct = (n) => (Number.isFinite(n) ? `${Math.round(n * 100)}%` : 'n/a');
/** "median X, range a–b over n <what>" of a medianOf() result, or nothing when there is none. */
const spread = (m, what, unit = '') => (m ? `; ${what}: median ${int(m.median)}${unit}, range ${int(m.min)}–${int(m.max)} over ${m.runs}` : '');
const trio = (s) => (s?.n ? `${int(s.p50)} / ${int(s.p95)} / ${int(s.p99)} ms` : 'n/a');
const verdictText = (met) => (met === true ? 'met' : met === false ? '**missed**' : '–');

/** One row per target: { measure, result, target, met }. */
export function verdicts(result) {
  const rows = [];
  const w = result.workloads;
  const failed = (name) => result.errors[name] ? `failed: ${result.errors[name]}` : 'not run';

  if (w.ingest) {
    const p = w.ingest.paced;
    const s = w.ingest.saturated;
    rows.push({ measure: `Webhook ingest at ${int(p.targetEventsPerSecond)} events/s (paced), events/s sustained`,
      result: `${int(p.eventsPerSecond)} events/s (per second: median ${int(p.eventsPerSecondBySecond.p50)}, range ${int(p.eventsPerSecondBySecond.min)}–${int(p.eventsPerSecondBySecond.max)}), ${p.failedRequests} failed`,
      target: `≥ ${int(targets.ingestEventsPerSecond)} events/s`, met: p.eventsPerSecond >= 0.99 * targets.ingestEventsPerSecond && p.failedRequests === 0 });
    rows.push({ measure: `Webhook ack latency at ${int(p.targetEventsPerSecond)} events/s p50 / p95 / p99`, result: trio(p.ackLatencyMs),
      target: `p99 < ${targets.ingestP99Ms} ms`, met: p.ackLatencyMs.p99 < targets.ingestP99Ms });
    rows.push({ measure: 'Webhook ingest saturated (10 in flight, back to back)',
      result: `${int(s.eventsPerSecond)} events/s, ack p50 / p95 / p99 ${trio(s.ackLatencyMs)}, ${s.failedRequests} failed`,
      target: `≥ ${int(targets.ingestEventsPerSecond)} events/s`, met: s.eventsPerSecond >= targets.ingestEventsPerSecond && s.failedRequests === 0 });
  } else {
    rows.push({ measure: 'Webhook ingest', result: failed('ingest'), target: `≥ ${int(targets.ingestEventsPerSecond)} events/s, p99 < ${targets.ingestP99Ms} ms`, met: null });
  }

  if (w.latency) {
    const l = w.latency;
    rows.push({ measure: 'HubSpot → Postgres latency p50 / p95 / p99', result: trio(l.hubspotToPostgres), target: `p95 < ${secs(targets.inboundP95Ms)}`, met: l.hubspotToPostgres.p95 < targets.inboundP95Ms });
    rows.push({ measure: 'Postgres → HubSpot latency p50 / p95 / p99', result: trio(l.postgresToHubspot), target: `p95 < ${secs(targets.outboundP95Ms)}`, met: l.postgresToHubspot.p95 < targets.outboundP95Ms });
  } else {
    rows.push({ measure: 'Propagation latency', result: failed('latency'), target: 'p95 < 1 s / < 2 s', met: null });
  }
  if (w.latencyUnderLoad) {
    const u = w.latencyUnderLoad;
    const load = `at ${pct(u.loadShare)} of capacity (${int(u.loadPerSecond)} other changes/s)`;
    rows.push({ measure: `HubSpot → Postgres latency ${load} p50 / p95 / p99`, result: trio(u.hubspotToPostgres), target: `p95 < ${secs(targets.inboundP95Ms)}`, met: u.hubspotToPostgres.p95 < targets.inboundP95Ms });
    rows.push({ measure: `Postgres → HubSpot latency ${load} p50 / p95 / p99`, result: trio(u.postgresToHubspot), target: `p95 < ${secs(targets.outboundP95Ms)}`, met: u.postgresToHubspot.p95 < targets.outboundP95Ms });
  } else if (w.latency || result.errors.latencyUnderLoad) {
    rows.push({ measure: 'Propagation latency at 10% of capacity', result: failed('latencyUnderLoad'), target: 'p95 < 1 s / < 2 s', met: null });
  }

  if (w.bulk) {
    const b = w.bulk;
    const s = b.steadySummary;
    const callTarget = Math.ceil((targets.callsPer10k * b.records) / 10_000);
    const floor = targets.ceilingRecordsPerSecond * targets.ceilingShare;
    rows.push({ measure: `Bulk outbound, API calls per ${int(b.records)} edits (median of ${b.steadyRounds + 1} runs)`,
      result: `${int(b.apiCallsPerEditRun.median)} calls (range ${int(b.apiCallsPerEditRun.min)}–${int(b.apiCallsPerEditRun.max)}; creates: ${int(b.create.apiCalls)})`,
      target: `≤ ${int(callTarget)} (110 per 10,000)`, met: b.apiCallsPerEditRun.max <= callTarget });
    rows.push({ measure: `Bulk outbound, records/s with the budget busy (median of ${b.steadyRounds})`,
      result: `${int(s.recordsPerSecond.median)} records/s = ${pct(s.recordsPerSecond.median / targets.ceilingRecordsPerSecond)} of the ceiling (range ${int(s.recordsPerSecond.min)}–${int(s.recordsPerSecond.max)})`,
      target: `≥ ${pct(targets.ceilingShare)} of ${int(targets.ceilingRecordsPerSecond)}/s (${int(floor)}/s)`, met: s.recordsPerSecond.median >= floor });
    rows.push({ measure: 'Bulk outbound, records/s with an idle budget (how fast the local side is)',
      result: `edits ${int(b.idle.recordsPerSecond)}/s, creates ${int(b.create.recordsPerSecond)}/s`,
      target: `no target; for reference, the ceiling is ${int(targets.ceilingRecordsPerSecond)}/s`, met: null });
    rows.push({ measure: 'Bulk outbound, 429s caused', result: `${b.rateLimited429}`, target: '0', met: b.rateLimited429 === 0 });
  } else {
    rows.push({ measure: 'Bulk outbound', result: failed('bulk'), target: '≤ 110 calls / 10,000, ≥ 95% of 1,000/s, 0 × 429', met: null });
  }

  if (w.backfill) {
    const b = w.backfill;
    rows.push({ measure: `Backfill of ${int(b.contacts)} contacts, no rate limit: local ingest`,
      result: `${int(b.backfill.recordsPerSecond)} records/s (${int(b.backfill.landed)} landed in ${secs(b.backfill.elapsedMs)}, ${b.backfill.invocations} runs` +
        `${spread(b.backfill.perRun, 'per run', '/s')})`,
      target: `≥ ${int(targets.backfillRecordsPerSecond)} records/s`, met: b.backfill.recordsPerSecond >= targets.backfillRecordsPerSecond });
    rows.push({ measure: 'Backfill, sync-jobs worker peak memory', result: b.backfill.peakMemoryMb ? `${int(b.backfill.peakMemoryMb)} MB` : 'n/a',
      target: `< ${targets.workerMemoryMb} MB`, met: b.backfill.peakMemoryMb ? b.backfill.peakMemoryMb < targets.workerMemoryMb : null });
    rows.push({ measure: 'Backfill under the Starter limit (100 requests / 10 s)',
      result: `${int(b.rateLimited.recordsPerSecond)} records/s = ${pct(b.rateLimited.recordsPerSecond / targets.ceilingRecordsPerSecond)} of the ceiling, ${b.rateLimited.rateLimited429} × 429` +
        `${spread(b.rateLimited.perWindow, 'per 10 s window', '/s')}`,
      target: `≥ ${pct(targets.ceilingShare)} of ${int(targets.ceilingRecordsPerSecond)}/s`,
      met: b.rateLimited.recordsPerSecond >= targets.ceilingShare * targets.ceilingRecordsPerSecond });
    rows.push({ measure: 'Backfill and reconciliation, CPU per sync-jobs run p95 / max', result: b.cpuPerRun.cpuMs?.n
      ? `${ms(b.cpuPerRun.cpuMs.p95)} / ${ms(b.cpuPerRun.cpuMs.max)} over ${b.cpuPerRun.runs} runs` : 'n/a',
      target: `< ${ms(targets.workerCpuMs)}`, met: b.cpuPerRun.cpuMs?.n ? b.cpuPerRun.overBudget === 0 : null });
    rows.push({ measure: 'Backfill, database time per 1,000 records (pg_stat_database active time)',
      result: `${ms(b.backfill.databaseMs / (b.backfill.landed / 1000))} (${secs(b.backfill.databaseMs)} in all)`,
      target: 'no target; where ingest time goes', met: null });
    if (b.backfill.floor) {
      rows.push({ measure: 'Backfill, the database floor: a contact row, its audit entry and its identity row, in plain INSERTs',
        result: `${int(b.backfill.floor.recordsPerSecond)} records/s (${int(b.backfill.floor.records)} in ${ms(b.backfill.floor.elapsedMs)}, one connection)`,
        target: 'no target; no engine on this machine ingests faster', met: null });
    }
    const scaled = b.reconcile.databaseMs * (1_000_000 / b.contacts);
    rows.push({ measure: `Reconciliation of ${int(b.contacts)} contacts: database time (pg_stat_database active time)`,
      result: `${secs(b.reconcile.databaseMs)}, ${secs(scaled)} per 1,000,000 (wall clock ${secs(b.reconcile.elapsedMs)}, ${int(b.reconcile.records / (b.reconcile.elapsedMs / 1000))} records/s${spread(b.reconcile.perRun, 'per run', '/s')}; ${int(b.reconcile.drifted)} drifted)`,
      target: `< ${secs(targets.reconcileMsPerMillion)} per 1,000,000`, met: scaled < targets.reconcileMsPerMillion });
  } else {
    rows.push({ measure: 'Backfill and reconciliation', result: failed('backfill'), target: '≥ 20,000 records/s, < 256 MB, < 60 s per 1,000,000', met: null });
  }

  if (w.naive && w.bulk) {
    const n = w.naive;
    const s = w.bulk.steadySummary;
    rows.push({ measure: `Naive baseline (1 call per record), ${int(n.extrapolatedTo)} edits`,
      result: `${int(n.extrapolatedCalls)} calls, ~${secs(n.extrapolatedMs)} (extrapolated from ${int(n.sampleRecords)}); the engine (budget busy) used ${(n.extrapolatedCalls / s.apiCalls.median).toFixed(0)}× fewer calls and was ${(n.extrapolatedMs / s.elapsedMs.median).toFixed(0)}× faster`,
      target: '–', met: null });
  } else if (!w.naive) {
    rows.push({ measure: 'Naive baseline', result: failed('naive'), target: '–', met: null });
  }

  const cpu = w.workerCpu;
  if (cpu?.all?.invocations) {
    rows.push({ measure: 'sync-worker CPU per invocation p95 / max', result: `${ms(cpu.all.cpuMs.p95)} / ${ms(cpu.all.cpuMs.max)} over ${cpu.all.invocations} runs`,
      target: `< ${int(targets.workerCpuMs)} ms (hosted budget)`, met: cpu.all.cpuMs.max < targets.workerCpuMs });
  } else {
    rows.push({ measure: 'sync-worker CPU per invocation', result: 'no sync-worker runs logged', target: `< ${int(targets.workerCpuMs)} ms`, met: null });
  }
  rows.push(...pipedriveVerdicts(result));
  return rows;
}

export function table(headers, rows) {
  return [`| ${headers.join(' | ')} |`, `|${headers.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

function bulkRow(r) {
  return [r.label, int(r.apiCalls), int(r.writeCalls), int(r.callsByKind.object_read ?? 0), int((r.callsByKind.association_read ?? 0) + (r.callsByKind.association_write ?? 0)),
    `${int(r.rateLimited429)}`, ms(r.firstWriteAfterMs), secs(r.elapsedMs), int(r.recordsPerSecond),
    `${int(r.writeCallMs?.p50)} / ${int(r.gapBetweenWritesMs?.p50)} ms`, `${r.watchdogWorkerCalls}`];
}

/** The paced and saturated webhook runs side by side (see delivery-runs.mjs). */
export function deliveryRunsTable(p, s) {
  const col = (f) => [f(p), f(s)];
  return table(['', 'paced', 'saturated'], [
    ['requests / failed', ...col((r) => `${int(r.requests)} / ${int(r.failedRequests)}${Object.keys(r.failures).length ? ` (${Object.entries(r.failures).map(([k, v]) => `${k}: ${v}`).join(', ')})` : ''}`)],
    ['events queued', ...col((r) => int(r.acceptedEvents))],
    ['events/s (whole run)', ...col((r) => int(r.eventsPerSecond))],
    ['events/s per second: min / median / max', ...col((r) => `${int(r.eventsPerSecondBySecond.min)} / ${int(r.eventsPerSecondBySecond.p50)} / ${int(r.eventsPerSecondBySecond.max)}`)],
    ['ack latency at the sender p50 / p95 / p99', ...col((r) => trio(r.ackLatencyMs))],
    ['ack latency max', ...col((r) => ms(r.ackLatencyMs.max))],
    ['at the gateway p50 / p95 / p99', ...col((r) => trio(r.serverSide?.gatewayMs))],
    ['in the handler (verify, parse, store) p50 / p95 / p99', ...col((r) => trio(r.serverSide?.handlerMs))],
    ['deliveries that waited for a free slot', `${int(p.deliveriesThatWaitedForASlot)}`, '–'],
  ]);
}

export function renderMarkdown(result) {
  const m = result.machine;
  const w = result.workloads;
  const missed = result.verdicts.filter((v) => v.met === false);
  const out = [];
  out.push(`# Sync engine benchmark: ${result.startedAt.slice(0, 10)} (${result.mode})`, '');
  out.push(`Command: \`${result.command}\`, ${secs(result.durationMs)} in all, started ${result.startedAt}.`);
  out.push(`Machine: ${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB memory; ${m.os}; Node ${m.node}, Deno ${m.deno}, PostgreSQL ${m.postgres ?? '?'}.`);
  out.push(`Load average when the run started: ${m.loadAverageAtStart.join(' / ')} (1 / 5 / 15 min). Everything (Postgres, the gateway, the Deno functions, the pg_net worker, both simulators and the load generator) shares these cores.`, '');
  out.push(missed.length === 0 ? 'Every measured target was met.' : `**${missed.length} target(s) missed:** ${missed.map((v) => v.measure).join('; ')}. See the notes under each workload.`, '');
  out.push('## Figures against targets', '');
  out.push(table(['Measure', 'Result', 'Target', 'Verdict'], result.verdicts.map((v) => [v.measure, v.result, v.target, verdictText(v.met)])), '');

  if (w.ingest) {
    const { paced: p, saturated: s } = w.ingest;
    out.push('## Webhook ingest', '');
    out.push(`Signed deliveries of 100 \`contact.propertyChange\` events to \`/functions/v1/hubspot-webhook\`, at most ${p.concurrency} in flight (HubSpot's default per account). Every event has its own objectId and eventId, so each one is stored in \`sync.webhook_receipts\` and queued on \`crm_inbound\`; the sync worker runs meanwhile as it would (kicked by pg_net). Paced: a delivery starts every ${int(100_000 / p.targetEventsPerSecond)} ms for ${secs(p.durationMs)}, and its latency counts from its scheduled start (a delivery that waited for a free slot is charged the wait). Saturated: ${s.concurrency} senders post back to back for ${secs(s.durationMs)}. Each run follows ${secs(p.warmUpMs)} of uncounted warm-up.`, '');
    out.push(deliveryRunsTable(p, s), '');
  }

  if (w.latency) {
    const l = w.latency;
    out.push('## Propagation latency (light load)', '');
    out.push(`${l.samples} changes each way, one at a time, ~${l.spacingMs} ms apart, each timed from just before the change until a poll (every ${l.pollMs} ms) sees it on the other side. HubSpot → Postgres: a user edit through the simulator's control API until \`crm.contacts\` has it. Postgres → HubSpot: an \`UPDATE\` of \`crm.contacts\` until the simulator's record has it.`, '');
    out.push(table(['direction', 'p50', 'p95', 'p99', 'min', 'max'], [
      ['HubSpot → Postgres', ms(l.hubspotToPostgres.p50), ms(l.hubspotToPostgres.p95), ms(l.hubspotToPostgres.p99), ms(l.hubspotToPostgres.min), ms(l.hubspotToPostgres.max)],
      ['Postgres → HubSpot', ms(l.postgresToHubspot.p50), ms(l.postgresToHubspot.p95), ms(l.postgresToHubspot.p99), ms(l.postgresToHubspot.min), ms(l.postgresToHubspot.max)],
    ]), '');
  }

  if (w.latencyUnderLoad) {
    const u = w.latencyUnderLoad;
    const loadRow = (direction, light, d) => [
      [`${direction}, light load`, '–', '–', ms(light?.p50), ms(light?.p95), ms(light?.p99), ms(light?.max), '–'],
      [`${direction}, ${pct(u.loadShare)} of capacity`, `${int(d.background.achievedPerSecond)}/s (${int(d.background.done)} sent, ${int(d.background.skipped + d.background.failed)} skipped or failed)`,
        `${int(d.api.calls)} in ${secs(d.background.durationMs)}, ${int(d.api.busiest10s)} in the busiest 10 s, ${int(d.api.rateLimited429)} × 429`, ms(d.p50), ms(d.p95), ms(d.p99), ms(d.max), `${int(d.background.lastValueArrived)} of ${int(d.background.contacts)}`],
    ];
    out.push(`## Propagation latency at ${pct(u.loadShare)} of capacity`, '');
    out.push(`The same tracked changes as at light load (${u.samples} each way, one at a time, ~${u.spacingMs} ms apart, on a probe contact of its own), while a steady load of other changes runs in the same direction, started ${secs(u.warmUpMs)} before the first one. Capacity is the engine's ceiling under the app's limit of 100 requests per rolling 10 s: ${int(u.capacityRecordsPerSecond)} records/s either way, since each changed record is fetched (inbound) or written (outbound) in batches of up to 100; ${pct(u.loadShare)} of it is ${int(u.loadPerSecond)} changes/s, round robin over ${int(u.poolSize)} contacts imported in the simulator and synced beforehand. HubSpot → Postgres: user edits of their last name through the simulator's control API (one webhook event each). Postgres → HubSpot: one-row \`UPDATE\`s of their last name. API calls are those the simulator's limit counts (association reads are exempt) while the load ran, tracked changes included, in all and in the busiest rolling 10 s (the limit is 100); "last value" counts the background contacts that ended with the last value sent to them, checked once the engine settled.`, '');
    out.push(table(['direction, load', 'background changes', 'API calls while it ran', 'p50', 'p95', 'p99', 'max', 'last value arrived'], [
      ...loadRow('HubSpot → Postgres', w.latency?.hubspotToPostgres, u.hubspotToPostgres),
      ...loadRow('Postgres → HubSpot', w.latency?.postgresToHubspot, u.postgresToHubspot),
    ]), '');
  }

  if (w.bulk) {
    const b = w.bulk;
    out.push('## Bulk outbound under the rate limit', '');
    out.push(`${int(b.records)} local contacts inserted in one statement, then edited ${b.steadyRounds + 1} times by one \`UPDATE\` of all of them (a new \`last_name\`), with the simulator's limit at 100 requests per rolling 10 s. The creates and the first edit start with an idle budget (the simulator's window and the engine's \`sync.rate_budgets\` empty), so up to 100 calls may go at once and the run shows how fast the local side is. Each later edit starts with the budget as busy as in a long bulk sync already in progress: just before it, the benchmark takes one grant at a time through \`sync.take_rate_budget\`, evenly spaced over one window (the simulator sees none of these), so every call of the run waits for a slot: that is the steady rate under the limit, the figure the 1,000 records/s ceiling applies to. Each run is timed from just before the statement to the end of the last batch write in the simulator's request log; calls and 429s are counted until the engine has settled, so they include whatever the webhook echoes of the engine's own writes cost.`, '');
    out.push(table(['run', 'API calls', 'writes', 'object reads', 'association calls', '429s', 'first write after', 'last write after', 'records/s', 'write call / gap between writes (p50)', 'direct worker calls'],
      [b.create, b.idle, ...b.steady].map(bulkRow)), '');
    out.push(`Checked in the simulator after the last run: ${int(b.verifiedInHubSpot)} of ${int(b.records)} records carry its value. "Direct worker calls" counts the times the benchmark called \`sync-worker\` itself because queued work was visible and no run was on it for 2 s (0: the pg_net kicks alone kept the worker going).`, '');
  }

  if (w.naive) {
    const n = w.naive;
    out.push('## Naive baseline', '');
    out.push(`One \`crm.contacts.basicApi.update\` per record with \`@hubspot/api-client\` from Node, under a client-side sliding window of 100 requests per 10.25 s, against a second instance of the same simulator with the same limit. ${int(n.sampleRecords)} records were sent (${int(n.apiCalls)} calls, ${int(n.rateLimited429)} × 429, ${secs(n.elapsedMs)}, steady ${n.steadyRecordsPerSecond.toFixed(1)} records/s after the first window's burst); the time for ${int(n.extrapolatedTo)} records is extrapolated as the burst plus the rest at the steady rate: ~${secs(n.extrapolatedMs)} and ${int(n.extrapolatedCalls)} calls.`, '');
  }

  if (w.backfill) {
    const b = w.backfill;
    out.push('## Backfill and reconciliation', '');
    out.push(`${int(b.contacts)} contacts seeded in a simulator of their own, then one \`backfill\` job through \`sync-jobs\` (its chain of bounded runs, each kicked by pg_net) with the limit raised out of the way, so the figure is how fast the local side ingests: ${int(b.backfill.landed)} contacts mapped in ${secs(b.backfill.elapsedMs)} over ${b.backfill.invocations} runs. Then the database floor: what a backfill must store per record (the contact row, the audit entry its trigger writes, its identity row) for ${b.backfill.floor ? int(b.backfill.floor.records) : 'n/a'} contacts in two plain set-based \`INSERT\`s on one connection, rolled back; no engine on this machine ingests faster. Then the tables are vacuumed and analyzed (the daily reconciliation meets tables autovacuum has settled), and a \`reconcile\` job runs over the same records (${secs(b.reconcile.elapsedMs)}, ${int(b.reconcile.invocations)} runs), and a second backfill under the Starter limit (100 requests / 10 s), sampled for ${secs(b.rateLimited.sampleMs)} once running: ${int(b.rateLimited.records)} records. Each page of 100 contacts costs one call from the connection's budget (the company reference comes with the list call). Peak memory is the high-water mark (VmHWM) of the sync-jobs worker process, Deno runtime included. Database time is the change in \`pg_stat_database.active_time\` over a job; a session adds its time there when it flushes its statistics (up to 10 s after going idle, at once when it ends), so idle sessions are ended before each reading.`, '');
  }

  out.push(...renderPipedrive(result));

  const cpu = w.workerCpu;
  if (cpu) {
    out.push('## sync-worker CPU per invocation', '');
    out.push(`From the gateway's log line per request (\`cpu≈Nms\`: user + system time of the function's process while the request ran, in 10 ms ticks). Overlapping runs share one process and are each charged the other's CPU, so these are upper bounds. Hosted budget: ${int(cpu.budgetMs)} ms of CPU per invocation.`, '');
    const rows = [['all', cpu.all], ...Object.entries(cpu.byPhase)].map(([name, d]) => [name, int(d.invocations), d.invocations ? ms(d.cpuMs.p50) : 'n/a', d.invocations ? ms(d.cpuMs.p95) : 'n/a', d.invocations ? ms(d.cpuMs.max) : 'n/a', d.invocations ? ms(d.wallMs.max) : 'n/a', int(d.overBudget)]);
    out.push(table(['during', 'runs', 'CPU p50', 'CPU p95', 'CPU max', 'wall max', 'over budget'], rows), '');
  }

  if (Object.keys(result.errors).length) {
    out.push('## Errors', '', ...Object.entries(result.errors).map(([k, v]) => `- ${k}: ${v}`), '');
  }
  return `${out.join('\n')}\n`;
}
