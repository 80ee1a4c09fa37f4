// Pipedrive propagation latency at light load, one change at a time:
//   Pipedrive → Postgres: a user edit through the simulator's control API
//     (webhook v2 → pipedrive-webhook → crm_inbound → pg_net kick →
//     sync-worker → batch read → apply) until the value is in crm.contacts;
//   Postgres → Pipedrive: an UPDATE of crm.contacts (trigger → crm_outbound →
//     kick → sync-worker → PATCH) until the simulator's record has it.
// Samples are spaced ~300 ms apart; each is timed from just before the
// change to the first poll (every 10 ms) that sees it.
import { summarize } from '../stats.mjs';
import { sleep, until } from '../engine-state.mjs';
import { pollMs, timeChanges } from './propagation-latency.mjs';

export async function pipedrivePropagation(ctx, { samples, spacingMs = 300 }) {
  const { sql, pipedriveSim: sim, pipedriveSync: sync } = ctx;
  const email = `pd-latency-${Date.now()}@bench.example`;
  const created = await sim.control('POST', '/objects/persons', { values: { name: 'Latency Probe', emails: [{ value: email, primary: true }] } });
  const { id: localId } = await until('the probe person to arrive in Postgres', async () => {
    const [row] = await sql`select id from crm.contacts where tenant_id = ${sync.tenantId} and email = ${email}`;
    return row;
  }, { timeoutMs: 30_000, intervalMs: 50 });
  await sleep(1_000); // let the creation's trailing events settle

  const inbound = await timeChanges('a Pipedrive edit to reach Postgres', { samples, spacingMs }, (i) => `+1 555 02${String(i).padStart(2, '0')}`,
    (phone) => sim.control('PATCH', `/objects/persons/${created.id}`, { values: { phones: [{ value: phone, primary: true }] } }),
    async (phone) => (await sql`select phone from crm.contacts where id = ${localId}`)[0]?.phone === phone);
  const outbound = await timeChanges('a Postgres edit to reach Pipedrive', { samples, spacingMs }, (i) => `Outbound ${i} ${Math.random().toString(36).slice(2, 8)}`,
    (value) => sql`update crm.contacts set last_name = ${value} where id = ${localId}`,
    async (value) => (await sim.control('GET', `/objects/persons/${created.id}`)).data.last_name === value);

  return {
    samples,
    spacingMs,
    pollMs,
    pipedriveToPostgres: { ...summarize(inbound), samplesMs: inbound.map((v) => Math.round(v)) },
    postgresToPipedrive: { ...summarize(outbound), samplesMs: outbound.map((v) => Math.round(v)) },
  };
}
