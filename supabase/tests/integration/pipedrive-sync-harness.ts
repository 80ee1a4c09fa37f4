// What every Pipedrive end-to-end test file sets up: its own Pipedrive
// simulator (in process, sending v2 webhooks with Basic auth to the real
// pipedrive-webhook function), its own tenant, and a connection made
// through the real `connections` function under a random company id, so
// files run side by side on one stack. Plus the probes the tests share.
import postgres from 'postgres';
import { expect } from 'vitest';
import { createPipedriveSimulator, type PipedriveSimulator, type SimulatorOptions } from '../../../scripts/simulators/pipedrive/server.ts';
import { functionUrl, type StackEnv, stackEnv } from './stack-env.ts';
import type { WorkerReport } from './hubspot-sync-harness.ts';

export interface SimEntity {
  entity: string;
  id: number;
  deleted: boolean;
  mergedInto?: number;
  data: Record<string, any>;
  customFieldsByName: Record<string, unknown>;
}

export interface PipedriveSyncHarness {
  env: StackEnv;
  sql: postgres.Sql;
  sim: PipedriveSimulator;
  companyId: number;
  tenantId: string;
  connectionId: string;
  control<T = any>(method: string, path: string, body?: unknown): Promise<T>;
  until<T>(what: string, probe: () => Promise<T | null | undefined | false>, timeoutMs?: number): Promise<T>;
  drain(budgetMs?: number): Promise<WorkerReport>;
  /** Waits until every webhook was delivered, then drains until this connection has no visible work left. */
  settle(timeoutMs?: number): Promise<void>;
  simObjects(entity: string, includeDeleted?: boolean): Promise<SimEntity[]>;
  /** API writes (POST, PATCH, PUT, DELETE on records) the engine made, since the request log was last cleared. */
  apiWrites(): Promise<{ method: string; path: string; status: number }[]>;
  clearRequests(): Promise<void>;
  /** The remote id of a local record in this connection's identity map. */
  remoteIdOf(entityType: string, localId: string): Promise<string | undefined>;
  close(): Promise<void>;
}

export const pipedriveToken = 'pd-integration-api-token';

export async function startPipedriveSync(
  name: string,
  simulator: SimulatorOptions = {},
  existing?: { sql: postgres.Sql; tenantId: string },
): Promise<PipedriveSyncHarness> {
  const env = stackEnv();
  const sql = existing?.sql ?? postgres(env.dbUrl, { max: 4, onnotice: () => {} });
  const companyId = 8_000_000 + Math.floor(Math.random() * 1_000_000);
  const sim = await createPipedriveSimulator({
    token: pipedriveToken,
    companyId,
    seed: companyId,
    rateLimit: { burstLimit: 40 },
    webhooks: { timeScale: 0.002 },
    ...simulator,
  });

  async function control<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${sim.url}/_sim${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} /_sim${path} → ${res.status}: ${text}`);
    return (text ? JSON.parse(text) : null) as T;
  }

  async function until<T>(what: string, probe: () => Promise<T | null | undefined | false>, timeoutMs = 20_000): Promise<T> {
    const started = Date.now();
    for (;;) {
      const value = await probe();
      if (value) return value;
      if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async function drain(budgetMs = 10_000): Promise<WorkerReport> {
    const res = await fetch(functionUrl(env, 'sync-worker'), {
      method: 'POST',
      headers: { authorization: `Bearer ${env.serviceRoleKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ reason: 'test', budget_ms: budgetMs }),
    });
    const body = await res.json();
    expect(res.status, JSON.stringify(body)).toBe(200);
    return body as WorkerReport;
  }

  const tenantId = existing?.tenantId ?? (await sql<{ id: string }[]>`
    insert into crm.tenants (name, slug) values (${`Pipedrive ${name} test`}, ${`pd-${name}-${companyId}`}) returning id`)[0].id;
  const res = await fetch(functionUrl(env, 'connections'), {
    method: 'POST',
    headers: { authorization: `Bearer ${env.serviceRoleKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      tenant_id: tenantId, provider: 'pipedrive', api_token: pipedriveToken, api_base_url: sim.url,
      rate_limit: { max_requests: 40, interval_ms: 2_000 }, daily_limit: 90_000,
    }),
  });
  const connected = await res.json();
  expect(res.status, JSON.stringify(connected)).toBe(201);
  const connectionId: string = connected.connection_id;

  async function simObjects(entity: string, includeDeleted = false): Promise<SimEntity[]> {
    const { results } = await control<{ results: SimEntity[] }>('GET', `/objects/${entity}${includeDeleted ? '?includeDeleted=true' : ''}`);
    return results;
  }

  return {
    env, sql, sim, companyId, tenantId, connectionId, control, until, drain,
    async settle(timeoutMs = 20_000) {
      // Quiet twice in a row: webhooks a change sends are on their way a moment after it.
      let quiet = 0;
      await until('webhooks delivered and queues drained', async () => {
        const { idle } = await sim.state.webhooks.flush(5_000);
        if (!idle) return false;
        const report = await drain();
        const [row] = await sql<{ n: number }[]>`
          select (select count(*) from pgmq.q_crm_inbound where message ->> 'connection_id' = ${connectionId} and vt <= clock_timestamp())
               -- records waiting a moment for a record they reference count as work left
               + (select count(*) from pgmq.q_crm_outbound where message ->> 'connection_id' = ${connectionId}
                     and vt <= clock_timestamp() + interval '3 seconds' and (message ->> 'waits') is not null
                      or message ->> 'connection_id' = ${connectionId} and vt <= clock_timestamp())
               -- a run kicked by pg_net may hold claimed messages (invisible, not done yet)
               + (select count(*) from sync.worker_state where lease_until > clock_timestamp())
                 as n`;
        quiet = Number(row.n) === 0 && report.batches === 0 ? quiet + 1 : 0;
        if (quiet < 2) await new Promise((r) => setTimeout(r, 150));
        return quiet >= 2;
      }, timeoutMs);
    },
    simObjects,
    async apiWrites() {
      const { results } = await control<{ results: { method: string; path: string; status: number }[] }>('GET', '/requests?limit=5000');
      return results.filter((r) => r.method !== 'GET' && /^\/(api\/)?(v1|v2|api\/v2)\/(persons|organizations|deals|activities|notes)/.test(r.path))
        .map(({ method, path, status }) => ({ method, path, status }));
    },
    async clearRequests() {
      await control('DELETE', '/requests');
    },
    async remoteIdOf(entityType, localId) {
      const [row] = await sql<{ remote_id: string }[]>`
        select remote_id from sync.identity_map where connection_id = ${connectionId} and entity_type = ${entityType} and local_id = ${localId}`;
      return row?.remote_id;
    },
    async close() {
      await sim.close();
      await sql`delete from pgmq.q_crm_inbound where message ->> 'connection_id' = ${connectionId}`;
      await sql`delete from pgmq.q_crm_outbound where message ->> 'connection_id' = ${connectionId}`;
      await sql`delete from sync.dead_letters where connection_id = ${connectionId}`;
      await sql`delete from vault.secrets where id = (select secret_id from sync.connections where id = ${connectionId})`;
      await sql`delete from sync.connections where id = ${connectionId}`;
      if (!existing) {
        await sql`delete from crm.tenants where id = ${tenantId}`;
        await sql.end();
      }
    },
  };
}
