// Pipedrive under load, as behaviour: bulk outbound stays inside the
// connection's burst budget (40 requests per 2 s here, as the simulator
// allows) and so causes no 429 at all; a run of changes made in Pipedrive
// one after another all arrive, each through webhook, pg_net's kick and the
// worker. How fast is measured by `npm run bench` (pipedrive-outbound,
// pipedrive-latency), not here.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PipedriveSyncHarness, startPipedriveSync } from './pipedrive-sync-harness.ts';

let h: PipedriveSyncHarness;

beforeAll(async () => {
  h = await startPipedriveSync('bulk');
}, 60_000);
afterAll(async () => {
  await h?.close();
});

describe('Pipedrive bulk sync', () => {
  it('bulk outbound keeps to the burst budget: every record created once, no 429 caused', async () => {
    await h.settle();
    await h.clearRequests();
    const count = 120;
    await h.sql`insert into crm.contacts (tenant_id, email, first_name)
                select ${h.tenantId}, 'bulk.' || n || '@bulk.example', 'Bulk' from generate_series(1, ${count}) n`;
    await h.until('every contact in Pipedrive', async () => {
      const [row] = await h.sql<{ n: number }[]>`
        select count(*)::int as n from sync.identity_map where connection_id = ${h.connectionId} and entity_type = 'contact'`;
      return row.n >= count;
    }, 60_000);
    const counters = await h.control('GET', '/counters');
    const writes = (await h.apiWrites()).filter((w) => w.method === 'POST');
    expect(writes.length).toBe(count);
    expect(counters.rateLimited.burst + counters.rateLimited.daily).toBe(0);
    // Every grant the runs took until answered was settled: none is left counting as in flight.
    await h.settle();
    const [budget] = await h.sql<{ in_flight: number }[]>`
      select count(*)::int as in_flight from sync.rate_budgets b, unnest(b.grants) g
       where b.connection_id = ${h.connectionId} and g > extract(epoch from clock_timestamp()) * 1000`;
    expect(budget.in_flight).toBe(0);
  }, 90_000);

  it('Pipedrive → Postgres: each of a run of changes arrives through webhook, kick and worker', async () => {
    const person = await h.control('POST', '/objects/persons', { values: { name: 'Change Probe', emails: [{ value: 'probe@bulk.example' }] } });
    await h.settle();
    for (let i = 0; i < 12; i++) {
      const phone = `+1 555 01${String(i).padStart(2, '0')}`;
      await h.control('PATCH', `/objects/persons/${person.id}`, { values: { phones: [{ value: phone, primary: true }] } });
      await h.until(`phone ${phone} in Postgres`, async () => {
        const [row] = await h.sql`select phone from crm.contacts where tenant_id = ${h.tenantId} and email = 'probe@bulk.example'`;
        return row?.phone === phone;
      }, 10_000);
    }
  }, 90_000);
});
