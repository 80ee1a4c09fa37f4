// Pipedrive figures, measured on the stack: Pipedrive → Postgres latency
// through the webhook, pg_net's kick and the worker; and bulk outbound under
// the connection's burst budget (40 requests per 2 s here, as the simulator
// allows), which must cause no 429 at all. The figures are printed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PipedriveSyncHarness, startPipedriveSync } from './pipedrive-sync-harness.ts';

let h: PipedriveSyncHarness;

beforeAll(async () => {
  h = await startPipedriveSync('throughput');
}, 60_000);
afterAll(async () => {
  await h?.close();
});

const percentile = (values: number[], p: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.ceil((p / 100) * values.length) - 1)];

describe('Pipedrive throughput', () => {
  it('bulk outbound keeps to the burst budget: no 429 caused', async () => {
    await h.settle();
    await h.clearRequests();
    const count = 120;
    const started = Date.now();
    await h.sql`insert into crm.contacts (tenant_id, email, first_name)
                select ${h.tenantId}, 'bulk.' || n || '@throughput.example', 'Bulk' from generate_series(1, ${count}) n`;
    await h.until('every contact in Pipedrive', async () => {
      const [row] = await h.sql<{ n: number }[]>`
        select count(*)::int as n from sync.identity_map where connection_id = ${h.connectionId} and entity_type = 'contact'`;
      return row.n >= count;
    }, 60_000);
    const elapsedMs = Date.now() - started;
    const counters = await h.control('GET', '/counters');
    const writes = (await h.apiWrites()).filter((w) => w.method === 'POST');
    expect(writes.length).toBe(count);
    expect(counters.rateLimited.burst + counters.rateLimited.daily).toBe(0);
    // 40 requests per 2 s (plus the 250 ms margin per window): the floor on the time 120 creates can take.
    const floorMs = (Math.ceil(count / 40) - 1) * 2_250;
    console.log(`pipedrive bulk outbound: ${count} creates in ${elapsedMs} ms (${(count / (elapsedMs / 1000)).toFixed(1)}/s; ` +
      `budget floor ${floorMs} ms, ${((floorMs / elapsedMs) * 100).toFixed(0)}% of the budget used), 0 429s`);
  }, 90_000);

  it('Pipedrive → Postgres: each change arrives through webhook, kick and worker', async () => {
    const person = await h.control('POST', '/objects/persons', { values: { name: 'Latency Probe', emails: [{ value: 'latency@throughput.example' }] } });
    await h.settle();
    const latencies: number[] = [];
    for (let i = 0; i < 12; i++) {
      const phone = `+1 555 01${String(i).padStart(2, '0')}`;
      const started = Date.now();
      await h.control('PATCH', `/objects/persons/${person.id}`, { values: { phones: [{ value: phone, primary: true }] } });
      await h.until(`phone ${phone} in Postgres`, async () => {
        const [row] = await h.sql`select phone from crm.contacts where tenant_id = ${h.tenantId} and email = 'latency@throughput.example'`;
        return row?.phone === phone;
      }, 10_000);
      latencies.push(Date.now() - started);
    }
    console.log(`pipedrive → postgres latency over ${latencies.length} changes: p50 ${percentile(latencies, 50)} ms, p95 ${percentile(latencies, 95)} ms`);
    expect(latencies.length).toBe(12);
  }, 90_000);
});
