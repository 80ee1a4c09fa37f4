// Propagation latency at light load, one change at a time:
//   HubSpot → Postgres: a user edit through the simulator's control API
//     (webhook → hubspot-webhook → crm_inbound → pg_net kick → sync-worker →
//     batch read → apply) until the value is in crm.contacts;
//   Postgres → HubSpot: an UPDATE of crm.contacts (trigger → crm_outbound →
//     kick → sync-worker → batch update) until the simulator's record has it.
// Samples are spaced ~300 ms apart; each is timed from just before the
// change to the first poll (every 10 ms) that sees it. The same tracked
// changes are timed under load by propagation-under-load.mjs.
import { summarize } from '../stats.mjs';
import { sleep, until } from '../engine-state.mjs';

export const pollMs = 10;

/**
 * Makes `samples` changes one at a time, ~spacingMs apart, each timed from
 * just before `change(value)` until `arrived(value)` holds: the latencies in ms.
 */
export async function timeChanges(what, { samples, spacingMs }, valueOf, change, arrived) {
  const latencies = [];
  for (let i = 0; i < samples; i++) {
    const value = valueOf(i);
    const started = performance.now();
    await change(value);
    await until(what, () => arrived(value), { timeoutMs: 60_000, intervalMs: pollMs });
    latencies.push(performance.now() - started);
    await sleep(spacingMs);
  }
  return latencies;
}

/** The summary of latencies with the samples themselves, rounded. */
export const latencySummary = (latencies) => ({ ...summarize(latencies), samplesMs: latencies.map((v) => Math.round(v)) });

/** A contact created as a user in the simulator, once it is in Postgres: the record the tracked changes edit. */
export async function createProbeContact(ctx) {
  const { sql, syncSim: sim, sync } = ctx;
  const email = `latency-${Date.now()}@bench.example`;
  const created = await sim.control('POST', '/objects/contacts', { properties: { email, firstname: 'Latency', lastname: 'Probe' } });
  const { id: localId } = await until('the probe contact to arrive in Postgres', async () => {
    const [row] = await sql`select id from crm.contacts where tenant_id = ${sync.tenantId} and email = ${email}`;
    return row;
  }, { timeoutMs: 30_000, intervalMs: 50 });
  await sleep(1_000); // let the creation's trailing events settle
  return { localId, remoteId: created.id };
}

const tag = (i) => `${i} ${Math.random().toString(36).slice(2, 8)}`;

/** Tracked HubSpot edits of the probe's first name, each timed until crm.contacts has it. */
export function timeInbound(ctx, probe, timing) {
  return timeChanges('a HubSpot edit to reach Postgres', timing, (i) => `Inbound ${tag(i)}`,
    (value) => ctx.syncSim.control('PATCH', `/objects/contacts/${probe.remoteId}`, { properties: { firstname: value } }),
    async (value) => (await ctx.sql`select first_name from crm.contacts where id = ${probe.localId}`)[0]?.first_name === value);
}

/** Tracked UPDATEs of the probe's last name, each timed until the simulator's record has it. */
export function timeOutbound(ctx, probe, timing) {
  return timeChanges('a Postgres edit to reach HubSpot', timing, (i) => `Outbound ${tag(i)}`,
    (value) => ctx.sql`update crm.contacts set last_name = ${value} where id = ${probe.localId}`,
    async (value) => (await ctx.syncSim.control('GET', `/objects/contacts/${probe.remoteId}`)).properties.lastname === value);
}

export async function propagationLatency(ctx, { samples, spacingMs = 300 }) {
  const probe = await createProbeContact(ctx);
  const inbound = await timeInbound(ctx, probe, { samples, spacingMs });
  const outbound = await timeOutbound(ctx, probe, { samples, spacingMs });
  return {
    samples,
    spacingMs,
    pollMs,
    hubspotToPostgres: latencySummary(inbound),
    postgresToHubspot: latencySummary(outbound),
  };
}
