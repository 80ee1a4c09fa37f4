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

const pollMs = 10;

export async function pipedrivePropagation(ctx, { samples, spacingMs = 300 }) {
  const { sql, pipedriveSim: sim, pipedriveSync: sync } = ctx;
  const email = `pd-latency-${Date.now()}@bench.example`;
  const created = await sim.control('POST', '/objects/persons', { values: { name: 'Latency Probe', emails: [{ value: email, primary: true }] } });
  const { id: localId } = await until('the probe person to arrive in Postgres', async () => {
    const [row] = await sql`select id from crm.contacts where tenant_id = ${sync.tenantId} and email = ${email}`;
    return row;
  }, { timeoutMs: 30_000, intervalMs: 50 });
  await sleep(1_000); // let the creation's trailing events settle

  const inbound = [];
  for (let i = 0; i < samples; i++) {
    const phone = `+1 555 02${String(i).padStart(2, '0')}`;
    const started = performance.now();
    await sim.control('PATCH', `/objects/persons/${created.id}`, { values: { phones: [{ value: phone, primary: true }] } });
    await until('a Pipedrive edit to reach Postgres', async () => {
      const [row] = await sql`select phone from crm.contacts where id = ${localId}`;
      return row?.phone === phone;
    }, { timeoutMs: 60_000, intervalMs: pollMs });
    inbound.push(performance.now() - started);
    await sleep(spacingMs);
  }

  const outbound = [];
  for (let i = 0; i < samples; i++) {
    const value = `Outbound ${i} ${Math.random().toString(36).slice(2, 8)}`;
    const started = performance.now();
    await sql`update crm.contacts set last_name = ${value} where id = ${localId}`;
    await until('a Postgres edit to reach Pipedrive', async () => {
      const record = await sim.control('GET', `/objects/persons/${created.id}`);
      return record.data.last_name === value;
    }, { timeoutMs: 60_000, intervalMs: pollMs });
    outbound.push(performance.now() - started);
    await sleep(spacingMs);
  }

  return {
    samples,
    spacingMs,
    pollMs,
    pipedriveToPostgres: { ...summarize(inbound), samplesMs: inbound.map((v) => Math.round(v)) },
    postgresToPipedrive: { ...summarize(outbound), samplesMs: outbound.map((v) => Math.round(v)) },
  };
}
