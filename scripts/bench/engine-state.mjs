// What the benchmark watches in the engine: queue depths, the worker lease,
// and "is everything settled". Plus the one intervention the engine allows
// from outside: a direct call of the sync-worker function, made only when
// work is visible in a queue and no worker run holds the lease (counted and
// reported, so a stall of the pg_net kicks shows up in the results).

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls probe() every intervalMs until it returns something truthy; throws after timeoutMs. */
export async function until(what, probe, { timeoutMs = 60_000, intervalMs = 10 } = {}) {
  const started = Date.now();
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/** Messages on both queues (all, and visible now) and whether a worker run holds the lease. */
export async function engineState(sql) {
  const [row] = await sql`
    select (select count(*) from pgmq.q_crm_inbound)::int as inbound,
           (select count(*) from pgmq.q_crm_outbound)::int as outbound,
           (select count(*) from pgmq.q_crm_inbound where vt <= clock_timestamp())::int as inbound_visible,
           (select count(*) from pgmq.q_crm_outbound where vt <= clock_timestamp())::int as outbound_visible,
           coalesce((select lease_until > clock_timestamp() from sync.worker_state), false) as leased`;
  return row;
}

/** One direct run of the sync-worker function (what pg_net's kick does). */
export async function callWorker(ctx, reason) {
  const res = await fetch(ctx.functionUrl('sync-worker'), {
    method: 'POST',
    headers: { authorization: `Bearer ${ctx.serviceRoleKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ reason }),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`sync-worker answered ${res.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text);
}

/**
 * While running, checks every second whether queued work is visible with no
 * worker run on it for two checks in a row, and then calls sync-worker.
 * Returns { stop(): Promise<number> } resolving to the number of calls made.
 */
export function startWorkerWatchdog(ctx, reason) {
  let calls = 0;
  let idleChecks = 0;
  let stopped = false;
  const inFlight = new Set();
  const loop = (async () => {
    while (!stopped) {
      await sleep(1_000);
      if (stopped) break;
      const state = await engineState(ctx.sql);
      const stalled = !state.leased && state.inbound_visible + state.outbound_visible > 0;
      idleChecks = stalled ? idleChecks + 1 : 0;
      if (idleChecks >= 2) {
        idleChecks = 0;
        calls++;
        const call = callWorker(ctx, reason).catch((error) => ctx.log(`watchdog sync-worker call failed: ${error.message}`));
        inFlight.add(call);
        call.finally(() => inFlight.delete(call));
      }
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      await Promise.all(inFlight);
      return calls;
    },
  };
}

/**
 * Waits until the simulator has delivered every webhook and both queues are
 * empty with no worker run holding the lease, seen twice 500 ms apart.
 */
export async function waitUntilSettled(ctx, sim, { timeoutMs = 180_000 } = {}) {
  const started = Date.now();
  let quietChecks = 0;
  while (quietChecks < 2) {
    if (Date.now() - started > timeoutMs) {
      const state = await engineState(ctx.sql);
      throw new Error(`the engine did not settle within ${timeoutMs} ms: ${JSON.stringify(state)}`);
    }
    const flushed = await sim.control('POST', '/webhooks/flush', { timeoutMs: 10_000 });
    const state = await engineState(ctx.sql);
    const quiet = flushed.idle && state.inbound === 0 && state.outbound === 0 && !state.leased;
    quietChecks = quiet ? quietChecks + 1 : 0;
    await sleep(500);
  }
}

/**
 * Waits (up to `timeoutMs`) until the database is idle: no autovacuum worker
 * and no other statement running. The phases before leave large tables
 * behind (hundreds of thousands of webhook receipts and queue rows), and a
 * measure of database time taken while autovacuum works through them charges
 * its work to the engine. Resolves with the milliseconds waited.
 */
export async function databaseQuiet(sql, { timeoutMs = 60_000 } = {}) {
  const started = Date.now();
  for (;;) {
    const [{ busy }] = await sql`
      select count(*)::int as busy from pg_stat_activity
       where pid <> pg_backend_pid() and datname = current_database()
         and (backend_type = 'autovacuum worker' or (backend_type = 'client backend' and state = 'active'))`;
    if (busy === 0 || Date.now() - started > timeoutMs) return Date.now() - started;
    await sleep(250);
  }
}
