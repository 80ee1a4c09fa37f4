// Propagation latency at light load, one change at a time:
//   HubSpot → Postgres: a user edit through the simulator's control API
//     (webhook → hubspot-webhook → crm_inbound → pg_net kick → sync-worker →
//     batch read → apply) until the value is in crm.contacts;
//   Postgres → HubSpot: an UPDATE of crm.contacts (trigger → crm_outbound →
//     kick → sync-worker → batch update) until the simulator's record has it.
// Samples are spaced ~300 ms apart; each is timed from just before the
// change to the first poll (every 10 ms) that sees it.
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

export async function propagationLatency(ctx, { samples, spacingMs = 300 }) {
  const { sql, syncSim: sim, sync } = ctx;
  const email = `latency-${Date.now()}@bench.example`;
  const created = await sim.control('POST', '/objects/contacts', { properties: { email, firstname: 'Latency', lastname: 'Probe' } });
  const { id: localId } = await until('the probe contact to arrive in Postgres', async () => {
    const [row] = await sql`select id from crm.contacts where tenant_id = ${sync.tenantId} and email = ${email}`;
    return row;
  }, { timeoutMs: 30_000, intervalMs: 50 });
  const remoteId = created.id;
  await sleep(1_000); // let the creation's trailing events settle

  const inbound = await timeChanges('a HubSpot edit to reach Postgres', { samples, spacingMs }, (i) => `Inbound ${i} ${Math.random().toString(36).slice(2, 8)}`,
    (value) => sim.control('PATCH', `/objects/contacts/${remoteId}`, { properties: { firstname: value } }),
    async (value) => (await sql`select first_name from crm.contacts where id = ${localId}`)[0]?.first_name === value);
  const outbound = await timeChanges('a Postgres edit to reach HubSpot', { samples, spacingMs }, (i) => `Outbound ${i} ${Math.random().toString(36).slice(2, 8)}`,
    (value) => sql`update crm.contacts set last_name = ${value} where id = ${localId}`,
    async (value) => (await sim.control('GET', `/objects/contacts/${remoteId}`)).properties.lastname === value);

  return {
    samples,
    spacingMs,
    pollMs,
    hubspotToPostgres: { ...summarize(inbound), samplesMs: inbound.map((v) => Math.round(v)) },
    postgresToHubspot: { ...summarize(outbound), samplesMs: outbound.map((v) => Math.round(v)) },
  };
}
