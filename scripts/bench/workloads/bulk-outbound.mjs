// Bulk outbound under the rate limit: N local contacts created in one INSERT,
// then edited in one UPDATE, a few times, each change reaching HubSpot
// through the engine (statement trigger → crm_outbound → sync-worker →
// batch writes of 100, paid from the shared budget in sync.take_rate_budget).
// The creates and the first edit start with an idle budget, so up to 100
// calls may go at once: they show how fast the local side is. The other
// edits start with the budget as busy as in a long bulk sync: they show the
// steady rate under the limit. Each run is timed from just before the
// statement to the end of the last write request in the simulator's request
// log; API calls and 429s are counted from the log until the engine has
// settled (the webhook echoes of the writes come back and are handled too).
import { sleep, startWorkerWatchdog, until, waitUntilSettled } from '../engine-state.mjs';
import { medianOf, summarize } from '../stats.mjs';

const writeEndpoint = /^POST \/crm\/v3\/objects\/contacts\/batch\/(update|upsert|create)$/;

/** Requests the simulator logged since its log was last cleared, sorted, with their kind. */
async function loggedRequests(sim) {
  const { results } = await sim.control('GET', '/requests?limit=5000');
  return results.map((r) => {
    const v4 = r.endpoint.includes('/crm/v4/');
    const kind = r.status === 429 ? 'rate_limited'
      : /\/batch\/(update|upsert|create|archive)$/.test(r.endpoint) && !v4 ? 'object_write'
      : v4 && /\/batch\/(create|archive)/.test(r.endpoint) ? 'association_write'
      : v4 ? 'association_read'
      : /\/batch\/read$/.test(r.endpoint) ? 'object_read'
      : 'other';
    const startedAt = Date.parse(r.at);
    return { ...r, kind, startedAt, endedAt: startedAt + r.durationMs };
  });
}

function tally(requests) {
  const byKind = {};
  const byEndpoint = {};
  for (const r of requests) {
    byKind[r.kind] = (byKind[r.kind] ?? 0) + 1;
    byEndpoint[`${r.endpoint} ${r.status}`] = (byEndpoint[`${r.endpoint} ${r.status}`] ?? 0) + 1;
  }
  return { byKind, byEndpoint };
}

/**
 * One measured statement: runs `change` (the INSERT or UPDATE), waits until
 * `allDone()` says every record reached HubSpot, then until the engine
 * settles, and reads the simulator's log and counters.
 */
async function measure(ctx, label, records, change, allDone) {
  const sim = ctx.syncSim;
  await sim.control('DELETE', '/requests');
  const watchdog = startWorkerWatchdog(ctx, `bench ${label}`);
  let watchdogCalls = 0;
  try {
    const started = Date.now();
    await change();
    const statementMs = Date.now() - started;
    await until(`${label}: all ${records} records to reach HubSpot`, allDone, { timeoutMs: 600_000, intervalMs: 100 });
    const seenDoneAt = Date.now();
    await waitUntilSettled(ctx, sim, { timeoutMs: 300_000 });
    watchdogCalls = await watchdog.stop();
    const requests = (await loggedRequests(sim)).sort((a, b) => a.seq - b.seq);
    const writes = requests.filter((r) => r.kind === 'object_write' && r.status < 300 && writeEndpoint.test(r.endpoint));
    const lastWriteEnd = Math.max(...writes.map((r) => r.endedAt));
    const firstWriteStart = Math.min(...writes.map((r) => r.startedAt));
    const elapsedMs = lastWriteEnd - started;
    // Where the time goes: in the simulator (the write calls) or between them (the engine).
    const byStart = [...writes].sort((a, b) => a.startedAt - b.startedAt);
    const gaps = byStart.slice(1).map((r, i) => r.startedAt - byStart[i].endedAt);
    const { byKind, byEndpoint } = tally(requests);
    const windowed = requests.filter((r) => !r.endpoint.includes('/crm/v4/')).length;
    return {
      label,
      records,
      statementMs,
      firstWriteAfterMs: firstWriteStart - started,
      elapsedMs,
      recordsPerSecond: records / (elapsedMs / 1000),
      detectedAfterMs: seenDoneAt - started,
      apiCalls: requests.length,
      apiCallsCountedByTheTenSecondWindow: windowed,
      writeCalls: writes.length,
      writeCallMs: summarize(writes.map((r) => r.durationMs)),
      gapBetweenWritesMs: summarize(gaps),
      timeInWriteCallsMs: writes.reduce((sum, r) => sum + r.durationMs, 0),
      callsByKind: byKind,
      callsByEndpoint: byEndpoint,
      rateLimited429: requests.filter((r) => r.status === 429).length,
      lastApiCallEnd: Math.max(...requests.map((r) => r.endedAt)),
      watchdogWorkerCalls: watchdogCalls,
    };
  } finally {
    await watchdog.stop();
  }
}

/** Both the simulator's window and the engine's budget (10 s + 250 ms margin) hold no request of the last phase. */
async function waitForEmptyWindows(lastApiCallEnd) {
  const wait = lastApiCallEnd + 10_600 - Date.now();
  if (wait > 0) await sleep(wait);
}

/**
 * Fills the connection's budget the way a bulk sync already in progress
 * would: one grant at a time through sync.take_rate_budget, evenly spaced
 * over one window, so that every call of the next run has to wait for a
 * slot and the run goes at the limit's steady rate (no burst). The grants
 * are taken from the engine's budget only; the simulator sees no requests.
 */
async function fillBudgetAsASteadyStream(ctx, connectionId) {
  const [budget] = await ctx.sql`select max_requests, interval_ms from sync.rate_budgets where connection_id = ${connectionId}`;
  const spacingMs = (budget.interval_ms + 250) / budget.max_requests;
  const started = performance.now();
  for (let i = 0; i < budget.max_requests; i++) {
    for (;;) {
      const [grant] = await ctx.sql`select granted, wait_ms from sync.take_rate_budget(${connectionId}, 1)`;
      if (grant.granted) break;
      await sleep(grant.wait_ms);
    }
    const next = started + (i + 1) * spacingMs - performance.now();
    if (next > 0) await sleep(next);
  }
}

export async function bulkOutbound(ctx, { records, steadyRounds }) {
  const { sql, sync } = ctx;
  const runId = Date.now().toString(36);
  const mapped = async () => {
    const [row] = await sql`select count(*)::int as n from sync.identity_map m join crm.contacts c on c.id = m.local_id
                             where m.connection_id = ${sync.connectionId} and m.entity_type = 'contact'
                               and c.email like ${`bulk-${runId}-%`}`;
    return row.n >= records;
  };
  let round = 0;
  const edit = (label) => {
    round++;
    const value = `Edited r${round} ${runId}`;
    return measure(ctx, `${records} edits, ${label}`, records, async () => {
      await sql`update crm.contacts set last_name = ${value} where tenant_id = ${sync.tenantId} and email like ${`bulk-${runId}-%`}`;
    }, async () => {
      const [row] = await sql`select count(*)::int as n from sync.identity_map
                               where connection_id = ${sync.connectionId} and entity_type = 'contact' and base ->> 'last_name' = ${value}`;
      return row.n >= records;
    }).then((result) => ({ ...result, value }));
  };

  const create = await measure(ctx, `${records} creates, idle budget`, records, async () => {
    await sql`insert into crm.contacts (tenant_id, email, first_name, last_name)
              select ${sync.tenantId}, 'bulk-' || ${runId} || '-' || g || '@bench.example', 'Bulk', 'Contact ' || g
                from generate_series(1, ${records}::int) g`;
  }, mapped);
  await waitForEmptyWindows(create.lastApiCallEnd);
  const idle = await edit('idle budget');

  const steady = [];
  for (let i = 1; i <= steadyRounds; i++) {
    await fillBudgetAsASteadyStream(ctx, sync.connectionId);
    steady.push(await edit(`busy budget ${i}`));
  }
  // Check the outcome on the HubSpot side, not only the engine's bookkeeping.
  const last = steady.at(-1) ?? idle;
  const { results } = await ctx.syncSim.control('GET', '/objects/contacts');
  const verifiedInHubSpot = results.filter((r) => r.properties.lastname === last.value).length;

  const runs = [create, idle, ...steady];
  return {
    records,
    steadyRounds,
    create,
    idle,
    steady,
    verifiedInHubSpot,
    steadySummary: {
      elapsedMs: medianOf(steady.map((e) => e.elapsedMs)),
      recordsPerSecond: medianOf(steady.map((e) => e.recordsPerSecond)),
      apiCalls: medianOf(steady.map((e) => e.apiCalls)),
      writeCalls: medianOf(steady.map((e) => e.writeCalls)),
    },
    apiCallsPerEditRun: medianOf([idle, ...steady].map((e) => e.apiCalls)),
    rateLimited429: runs.reduce((sum, e) => sum + e.rateLimited429, 0),
    watchdogWorkerCalls: runs.reduce((sum, e) => sum + e.watchdogWorkerCalls, 0),
  };
}
