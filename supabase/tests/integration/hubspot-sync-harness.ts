// What every HubSpot end-to-end test file sets up: its own HubSpot simulator
// (in process, signing webhooks to the real hubspot-webhook function), its
// own tenant, and a connection made through the real `connections`
// function under a random portal id, so files can run side by side on one
// stack. Plus the probes those tests share: the simulator's control API,
// polling until a condition holds, and draining the queues through the real
// sync-worker function.
import postgres from 'postgres';
import { expect } from 'vitest';
import { createHubSpotSimulator, type HubSpotSimulator, type SimulatorOptions } from '../../../scripts/simulators/hubspot/server.ts';
import { functionUrl, type StackEnv, stackEnv } from './stack-env.ts';

export interface SimRecord {
  id: string;
  objectType: string;
  properties: Record<string, string>;
  archived: boolean;
  associations: Record<string, { id: string; typeIds: number[] }[]>;
}

export interface SimRequest {
  seq: number;
  /** When the request started (ISO 8601). */
  at: string;
  method: string;
  path: string;
  /** 0 when the request was left hanging (a timeout fault). */
  status: number;
  durationMs: number;
  outcome: string;
}

export interface HubSpotSyncHarness {
  env: StackEnv;
  sql: postgres.Sql;
  sim: HubSpotSimulator;
  portalId: number;
  tenantId: string;
  connectionId: string;
  /** Calls the simulator's control API (`/_sim<path>`); throws on a non-2xx answer. */
  control<T = any>(method: string, path: string, body?: unknown): Promise<T>;
  /** Polls `probe` every 100 ms until it returns something truthy. */
  until<T>(what: string, probe: () => Promise<T | null | undefined | false>, timeoutMs?: number): Promise<T>;
  /** One run of the sync-worker function. */
  drain(budgetMs?: number): Promise<WorkerReport>;
  /** Waits until every queued webhook was delivered, then drains until this connection has no visible work left. */
  settle(timeoutMs?: number): Promise<void>;
  /**
   * Waits until nothing more happens on its own: every webhook delivered, no
   * message of this connection left in either queue (visible or held by a
   * run) and no worker run holding the lease. New work kicks a worker run
   * through pg_net besides the test's own drain; a step that changes what
   * the CRM accepts (revoking the app) starts from here, so no run already
   * under way meets the change with what it read before.
   */
  quiesce(timeoutMs?: number): Promise<void>;
  /** Every record of a type in the simulator (archived ones too with `includeArchived`). */
  simObjects(type: string, includeArchived?: boolean): Promise<SimRecord[]>;
  /** The simulator's record whose forge_local_id is this local id. */
  simByLocalId(type: string, localId: string): Promise<SimRecord | undefined>;
  /** The simulator's request log, oldest first. */
  requests(): Promise<SimRequest[]>;
  /** Messages of this connection still on a queue (visible or not). */
  queued(queue: 'crm_inbound' | 'crm_outbound'): Promise<number>;
  close(): Promise<void>;
}

export interface WorkerReport {
  batches: number;
  inbound: Record<string, number>;
  outbound: Record<string, number>;
  retried: number;
  deadLettered: number;
  paused: string[];
  moreWork: boolean;
}

const token = 'pat-na1-integration-token';
const clientSecret = 'integration-client-secret';

/** Object writes the app made through the API (not reads, searches or association reads). */
export function isObjectWrite(r: SimRequest): boolean {
  return r.method !== 'GET' && r.path.startsWith('/crm/') && !r.path.includes('/batch/read') && !r.path.endsWith('/search') &&
    !r.path.startsWith('/crm/v3/properties');
}

/**
 * `credentials` replaces the private app token in the connect request, e.g.
 * a public app's refresh_token and client_id from the simulator's install.
 */
export async function startHubSpotSync(
  name: string,
  simulator: SimulatorOptions = {},
  credentials?: (sim: HubSpotSimulator) => Promise<Record<string, unknown>>,
): Promise<HubSpotSyncHarness> {
  const env = stackEnv();
  const sql = postgres(env.dbUrl, { max: 4, onnotice: () => {} });
  const portalId = 71_000_000 + Math.floor(Math.random() * 9_000_000);
  const sim = await createHubSpotSimulator({
    token,
    portalId,
    clientSecret,
    webhookUrl: functionUrl(env, 'hubspot-webhook'),
    rateLimit: { maxPerInterval: 100, intervalMs: 10_000 },
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

  const [{ id: tenantId }] = await sql<{ id: string }[]>`
    insert into crm.tenants (name, slug) values (${`HubSpot ${name} test`}, ${`hs-${name}-${portalId}`}) returning id`;
  const res = await fetch(functionUrl(env, 'connections'), {
    method: 'POST',
    headers: { authorization: `Bearer ${env.serviceRoleKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      tenant_id: tenantId, provider: 'hubspot', client_secret: clientSecret, api_base_url: sim.url,
      ...(credentials ? await credentials(sim) : { access_token: token }),
    }),
  });
  const connected = await res.json();
  expect(res.status, JSON.stringify(connected)).toBe(201);
  const connectionId: string = connected.connection_id;
  await control('PUT', '/webhooks', { subscriptions: 'default', batchWindowMs: 20 });

  async function queued(queue: 'crm_inbound' | 'crm_outbound'): Promise<number> {
    const [row] = await sql.unsafe<{ n: number }[]>(
      `select count(*)::int as n from pgmq.q_${queue} where message ->> 'connection_id' = $1`, [connectionId]);
    return row.n;
  }

  async function simObjects(type: string, includeArchived = false): Promise<SimRecord[]> {
    const { results } = await control<{ results: SimRecord[] }>('GET', `/objects/${type}${includeArchived ? '?includeArchived=true' : ''}`);
    return results;
  }

  return {
    env,
    sql,
    sim,
    portalId,
    tenantId,
    connectionId,
    control,
    until,
    drain,
    async settle(timeoutMs = 20_000) {
      await until('webhooks delivered and queues drained', async () => {
        const flushed = await control<{ idle: boolean }>('POST', '/webhooks/flush', { timeoutMs: 5_000 });
        if (!flushed.idle) return false;
        await drain();
        const [row] = await sql<{ n: number }[]>`
          select (select count(*) from pgmq.q_crm_inbound where message ->> 'connection_id' = ${connectionId} and vt <= clock_timestamp())
               + (select count(*) from pgmq.q_crm_outbound where message ->> 'connection_id' = ${connectionId} and vt <= clock_timestamp())
                 as n`;
        return Number(row.n) === 0;
      }, timeoutMs);
    },
    async quiesce(timeoutMs = 20_000) {
      await until('webhooks delivered, queues empty and no worker run under way', async () => {
        const flushed = await control<{ idle: boolean }>('POST', '/webhooks/flush', { timeoutMs: 5_000 });
        if (!flushed.idle) return false;
        await drain();
        const [row] = await sql<{ n: number; free: boolean }[]>`
          select (select count(*) from pgmq.q_crm_inbound where message ->> 'connection_id' = ${connectionId})
               + (select count(*) from pgmq.q_crm_outbound where message ->> 'connection_id' = ${connectionId}) as n,
                 (select coalesce(lease_until <= clock_timestamp(), true) from sync.worker_state) as free`;
        return Number(row.n) === 0 && row.free;
      }, timeoutMs);
    },
    simObjects,
    async simByLocalId(type, localId) {
      return (await simObjects(type)).find((r) => r.properties.forge_local_id === localId);
    },
    async requests() {
      const { results } = await control<{ results: SimRequest[] }>('GET', '/requests?limit=5000');
      return results;
    },
    queued,
    async close() {
      await sim.close();
      await sql`delete from pgmq.q_crm_inbound where message ->> 'connection_id' = ${connectionId}`;
      await sql`delete from pgmq.q_crm_outbound where message ->> 'connection_id' = ${connectionId}`;
      await sql`delete from sync.dead_letters where connection_id = ${connectionId}`;
      await sql`delete from vault.secrets where id = (select secret_id from sync.connections where id = ${connectionId})`;
      await sql`delete from sync.connections where id = ${connectionId}`;
      await sql`delete from crm.tenants where id = ${tenantId}`;
      await sql.end();
    },
  };
}
