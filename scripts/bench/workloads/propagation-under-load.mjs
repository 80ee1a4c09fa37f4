// Propagation latency at 10% of capacity: the tracked changes of the
// light-load run (propagation-latency.mjs), timed the same way, while a
// steady background load runs in the same direction on other contacts of
// the same portal.
//
// Capacity: under the app's HubSpot limit (100 requests per rolling 10 s)
// the engine moves at most 1,000 records/s either way: inbound, every
// changed record is fetched by a batch read of up to 100 ids; outbound, it
// is written by a batch update of up to 100 records (the bulk outbound
// workload measures ~985/s with the budget busy). Webhook intake is not the
// bound (over 10,000 events/s in the ingest workload). 10% of capacity is
// therefore 100 changed records/s:
//   HubSpot → Postgres: 100 user edits/s (last name) through the control
//     API, round robin over a pool of contacts, each one a webhook event;
//   Postgres → HubSpot: 100 one-row UPDATEs/s (last name) of the same pool.
// The API calls the engine made while the load ran are read from the
// simulator's request log: how much of the budget the load took.
import postgres from 'postgres';
import { sleep, until, waitUntilSettled } from '../engine-state.mjs';
import { createProbeContact, latencySummary, pollMs, timeInbound, timeOutbound } from './propagation-latency.mjs';

const capacityRecordsPerSecond = 1_000;
export const loadShare = 0.1;
export const loadPerSecond = capacityRecordsPerSecond * loadShare;
const poolSize = 500;
const warmUpMs = 2_000;

/**
 * Calls fire(n) for n = 0, 1, ... at `perSecond` on a fixed schedule, at most
 * `maxInFlight` at a time: a change that cannot start on time is skipped and
 * counted, not sent late. stop() waits for the changes in flight and
 * resolves to what was sent.
 */
function startSteadyLoad(perSecond, fire, { maxInFlight = 50 } = {}) {
  const startedAt = Date.now();
  const counts = { scheduled: 0, done: 0, failed: 0, skipped: 0 };
  let firstError = null;
  const inFlight = new Set();
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const due = Math.floor(((Date.now() - startedAt) * perSecond) / 1000);
      for (; counts.scheduled < due; counts.scheduled++) {
        if (inFlight.size >= maxInFlight) {
          counts.skipped++;
          continue;
        }
        const change = fire(counts.scheduled).then(() => { counts.done++; }, (error) => {
          counts.failed++;
          firstError ??= error.message;
        }).finally(() => inFlight.delete(change));
        inFlight.add(change);
      }
      await sleep(5);
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      const endedAt = Date.now();
      await Promise.all(inFlight);
      return { perSecond, ...counts, firstError, startedAt, endedAt, achievedPerSecond: counts.done / ((endedAt - startedAt) / 1000) };
    },
  };
}

/**
 * The API calls the simulator logged between two instants that HubSpot's
 * 10 s window counts (association v4 calls are exempt): how many, how many
 * in the busiest rolling 10 s (the limit is 100), and the 429s.
 */
async function apiCallsBetween(sim, from, to) {
  const { results } = await sim.control('GET', '/requests?limit=5000');
  const inWindow = results.filter((r) => Date.parse(r.at) >= from && Date.parse(r.at) <= to);
  const starts = inWindow.filter((r) => !r.endpoint.includes('/crm/v4/')).map((r) => Date.parse(r.at)).sort((a, b) => a - b);
  let busiest10s = 0;
  for (let last = 0, first = 0; last < starts.length; last++) {
    while (starts[last] - starts[first] >= 10_000) first++;
    busiest10s = Math.max(busiest10s, last - first + 1);
  }
  return { calls: starts.length, busiest10s, rateLimited429: inWindow.filter((r) => r.status === 429).length };
}

/**
 * Changes the last names of the pool round robin at loadPerSecond with
 * `write(contact, value)` in the background (after a warm-up) while
 * `measure()` times the tracked changes; then lets the engine settle, checks
 * with `lastNames()` (remote id → last name on the receiving side) that each
 * background contact ended with the last value sent to it, and reads the
 * calls the engine made while the load ran.
 */
async function underLoad(ctx, { pool, label, write, lastNames }, measure) {
  const sent = new Map();
  await ctx.syncSim.control('DELETE', '/requests');
  const running = startSteadyLoad(loadPerSecond, (n) => {
    const contact = pool[n % pool.length];
    const value = `${label} ${n}`;
    sent.set(contact.remote_id, value);
    return write(contact, value);
  });
  let latencies;
  try {
    await sleep(warmUpMs);
    latencies = await measure();
  } catch (error) {
    await running.stop();
    throw error;
  }
  const { startedAt, endedAt, ...background } = await running.stop();
  await waitUntilSettled(ctx, ctx.syncSim);
  const api = await apiCallsBetween(ctx.syncSim, startedAt, endedAt);
  const current = await lastNames();
  const lastValueArrived = [...sent].filter(([remoteId, value]) => current.get(remoteId) === value).length;
  return { ...latencySummary(latencies), background: { ...background, durationMs: endedAt - startedAt, contacts: sent.size, lastValueArrived }, api };
}

export async function propagationUnderLoad(ctx, { samples, spacingMs = 300 }) {
  const { syncSim: sim, sync } = ctx;

  // The background pool: contacts imported in the simulator, synced to Postgres through their webhooks.
  const { ids } = await sim.control('POST', '/seed', { objectType: 'contacts', count: poolSize, emitWebhooks: true });
  const poolRows = () => ctx.sql`select m.remote_id, m.local_id, c.last_name from sync.identity_map m join crm.contacts c on c.id = m.local_id
                                  where m.connection_id = ${sync.connectionId} and m.entity_type = 'contact' and m.remote_id = any(${ids})`;
  const pool = await until(`the ${poolSize} background contacts to arrive in Postgres`, async () => {
    const rows = await poolRows();
    return rows.length === ids.length && rows;
  }, { timeoutMs: 120_000, intervalMs: 250 });
  await waitUntilSettled(ctx, sim);
  const probe = await createProbeContact(ctx);
  const timing = { samples, spacingMs };
  const runId = Date.now().toString(36);
  // One-row UPDATEs on connections of their own, so the probe's polls never queue behind them.
  const loadSql = postgres(ctx.dbUrl, { max: 8, onnotice: () => {} });
  try {
    const hubspotToPostgres = await underLoad(ctx, {
      pool,
      label: `Load in ${runId}`,
      write: (contact, value) => sim.control('PATCH', `/objects/contacts/${contact.remote_id}`, { properties: { lastname: value } }),
      lastNames: async () => new Map((await poolRows()).map((r) => [r.remote_id, r.last_name])),
    }, () => timeInbound(ctx, probe, timing));
    const postgresToHubspot = await underLoad(ctx, {
      pool,
      label: `Load out ${runId}`,
      write: (contact, value) => loadSql`update crm.contacts set last_name = ${value} where id = ${contact.local_id}`,
      lastNames: async () => new Map((await sim.control('GET', '/objects/contacts')).results.map((r) => [r.id, r.properties.lastname])),
    }, () => timeOutbound(ctx, probe, timing));
    return { samples, spacingMs, pollMs, warmUpMs, poolSize, capacityRecordsPerSecond, loadShare, loadPerSecond,
      hubspotToPostgres, postgresToHubspot };
  } finally {
    await loadSql.end({ timeout: 5 });
  }
}
