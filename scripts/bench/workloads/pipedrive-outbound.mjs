// Pipedrive bulk outbound under the burst budget: N local contacts created in
// one INSERT, then edited in one UPDATE. Pipedrive has no batch writes, so
// each record is one call (POST /api/v2/persons, then PATCH), every one paid
// from the connection's budget in sync.take_rate_budget (N requests per
// rolling 2 s, the simulator enforcing the same limit). The question is how
// much of that budget the engine uses, and whether it ever causes a 429.
//
// Budget use: the simulator's request log of the run (every call this token
// made, reads included) from the first call to the last. Starting with an
// idle budget, the fastest a client can make C calls under "N per interval"
// is N at once, then N more each interval: the last one goes out
// (C − N) / N intervals after the first. Use = that ideal span / the span
// measured. A client that trickles its calls evenly instead of in bursts
// reads a little lower on short runs (so the figure is conservative).
import { engineState, sleep, until } from '../engine-state.mjs';
import { summarize } from '../stats.mjs';

const writeEndpoint = /^(POST|PATCH) \/api\/v2\/persons/;

async function loggedRequests(sim) {
  const { results } = await sim.control('GET', '/requests?limit=10000');
  return results.map((r) => ({ ...r, startedAt: Date.parse(r.at) })).sort((a, b) => a.seq - b.seq);
}

async function measure(ctx, label, records, change, allDone) {
  const { pipedriveSim: sim, pipedriveSync: sync } = ctx;
  await sim.control('DELETE', '/requests');
  const started = Date.now();
  await change();
  await until(`${label}: all ${records} records to reach Pipedrive`, allDone, { timeoutMs: 600_000, intervalMs: 50 });
  const seenDoneAt = Date.now();
  // The webhook echoes of the writes are handled in the background (the engine defers them a while): not waited for.
  await until(`${label}: the worker run to end`, async () => !(await engineState(ctx.sql)).leased, { timeoutMs: 120_000, intervalMs: 100 });
  await sleep(1_000);
  const requests = await loggedRequests(sim);
  const writes = requests.filter((r) => r.status < 300 && writeEndpoint.test(`${r.method} ${r.path}`));
  const calls = requests.filter((r) => r.status !== 429);
  const rateLimited429 = requests.filter((r) => r.status === 429).length;
  const firstCall = Math.min(...calls.map((r) => r.startedAt));
  const lastWrite = Math.max(...writes.map((r) => r.startedAt));
  const inSpan = calls.filter((r) => r.startedAt <= lastWrite).length;
  const { maxRequests: n, intervalMs } = sync.burst;
  const idealSpanMs = (Math.max(0, inSpan - n) / n) * intervalMs;
  const spanMs = lastWrite - firstCall;
  const byEndpoint = {};
  for (const r of requests) byEndpoint[`${r.endpoint} ${r.status}`] = (byEndpoint[`${r.endpoint} ${r.status}`] ?? 0) + 1;
  return {
    label,
    records,
    writes: writes.length,
    apiCalls: requests.length,
    callsInSpan: inSpan,
    rateLimited429,
    firstCallAfterMs: firstCall - started,
    spanMs,
    idealSpanMs,
    budgetUse: spanMs > 0 ? idealSpanMs / spanMs : Number.NaN,
    writeCallMs: summarize(writes.map((r) => r.durationMs)),
    callsPerSecond: spanMs > 0 ? ((inSpan - 1) / spanMs) * 1000 : Number.NaN,
    elapsedMs: lastWrite - started,
    detectedAfterMs: seenDoneAt - started,
    byEndpoint,
  };
}

export async function pipedriveOutbound(ctx, { records }) {
  const { sql, pipedriveSync: sync } = ctx;
  const tag = `pdbulk${Date.now()}`;
  const create = await measure(ctx, 'creates', records, () => sql`
      insert into crm.contacts (tenant_id, email, first_name, last_name)
      select ${sync.tenantId}, ${tag} || '.' || n || '@bench.example', 'Bulk', 'Contact ' || n from generate_series(1, ${records}) n`,
  async () => {
    const [row] = await sql`select count(*)::int as n from sync.identity_map m join crm.contacts c on c.id = m.local_id
                             where m.connection_id = ${sync.connectionId} and m.entity_type = 'contact' and c.email like ${`${tag}.%`}`;
    return row.n >= records;
  });
  const value = `Edited ${Math.random().toString(36).slice(2, 8)}`;
  const edit = await measure(ctx, 'edits', records, () => sql`
      update crm.contacts set last_name = ${value} where tenant_id = ${sync.tenantId} and email like ${`${tag}.%`}`,
  async () => {
    const [row] = await sql`select count(*)::int as n from pgmq.q_crm_outbound where message ->> 'connection_id' = ${sync.connectionId}`;
    const { results } = await ctx.pipedriveSim.control('GET', '/requests?limit=10000');
    const patched = results.filter((r) => r.method === 'PATCH' && r.status < 300 && /\/api\/v2\/persons\//.test(r.path)).length;
    return row.n === 0 && patched >= records;
  });
  return { records, burst: sync.burst, runs: [create, edit] };
}
