// The HubSpot part of `npm start`.
//
// Without HUBSPOT_ACCESS_TOKEN (no credentials needed): starts the HubSpot
// simulator (scripts/simulators/hubspot) under Deno, seeds it, connects the
// demo tenant Acme to it through the connections function, shows a change
// travelling each way, then prints a live feed of sync activity.
//
// With HUBSPOT_ACCESS_TOKEN and HUBSPOT_CLIENT_SECRET: connects Acme to that
// HubSpot account instead, prints the webhook URL and subscriptions to set in
// the HubSpot app, and prints the same feed.
//
// The simulator keeps its portal in memory, so each start begins with an
// empty one: the previous demo connection (and its sync state) is dropped and
// Acme is connected afresh. Local records stay; contacts and companies from
// an earlier run are matched again by email and domain.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import postgres from 'postgres';
import { describeConnection } from '../cli/commands/connect.mjs';
import { createFunctionsClient } from '../cli/functions-client.mjs';
import { assertPortFree } from './cluster.mjs';
import { localKeys } from './keys.mjs';
import { log, StackError } from './log.mjs';
import { localJwtSecret, repoRoot } from './profiles.mjs';

/** @typedef {import('./profiles.mjs').Profile} Profile */

/** The demo tenant of supabase/seed.sql. */
export const acmeTenantId = '00000000-0000-4000-8000-00000000a001';
/** The contact the demo creates "as a HubSpot user". */
const janeEmail = 'jane.doe@hooli.example';

/** Fixed credentials of the local simulator (it accepts only these). */
export const simulatorAccount = {
  token: 'pat-demo-simulator-token',
  clientSecret: 'demo-simulator-client-secret',
  portalId: 62_515_001,
};

const denoBin = path.join(repoRoot, 'node_modules', '.bin', 'deno');
const simulatorMain = path.join(repoRoot, 'scripts', 'simulators', 'hubspot', 'main.ts');
const seed = [
  { objectType: 'companies', count: 3, emitWebhooks: true },
  { objectType: 'contacts', count: 5, associateWith: 'companies', emitWebhooks: true },
  // Deals have no natural key to match on, so they reach Postgres only when
  // changed in HubSpot; syncing them on every start would duplicate them.
  { objectType: 'deals', count: 2, associateWith: 'companies', emitWebhooks: false },
];
const arrivalTimeoutMs = 20_000;
const feedIntervalMs = 1_000;

/**
 * @typedef {object} DemoState what `status` and `stop` read (`.stack/<profile>/hubspot-demo.json`)
 * @property {'simulator' | 'hubspot'} mode
 * @property {number} [pid] the simulator's process id
 * @property {string} [url] the simulator's URL
 * @property {string} [connectionId]
 * @property {string} [accountId]
 */

const stateFile = (profile) => path.join(profile.dir, 'hubspot-demo.json');

/** @param {Profile} profile @returns {DemoState | null} */
function readState(profile) {
  try {
    return JSON.parse(fs.readFileSync(stateFile(profile), 'utf8'));
  } catch {
    return null;
  }
}

/** @param {Profile} profile @param {DemoState | null} state */
function writeState(profile, state) {
  if (state) fs.writeFileSync(stateFile(profile), `${JSON.stringify(state, null, 2)}\n`);
  else fs.rmSync(stateFile(profile), { force: true });
}

/** The simulator's port: CRM_SYNC_HUBSPOT_SIM_PORT, default 54340. */
export function simulatorPort(env = process.env) {
  const port = Number(env.CRM_SYNC_HUBSPOT_SIM_PORT ?? 54340);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new StackError(`CRM_SYNC_HUBSPOT_SIM_PORT must be a port number, got ${env.CRM_SYNC_HUBSPOT_SIM_PORT}`);
  }
  return port;
}

/** True when `pid` is alive and is the HubSpot simulator (never signal a stranger). */
function isSimulatorProcess(pid) {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('simulators/hubspot/main.ts');
  } catch {
    return false;
  }
}

/**
 * Ends a simulator left behind by a stack that did not stop cleanly, and
 * forgets the demo state. Returns true when one was running.
 * @param {Profile} profile
 */
export function stopLeftoverSimulator(profile) {
  const state = readState(profile);
  const running = state?.pid !== undefined && isSimulatorProcess(state.pid);
  if (running) process.kill(/** @type {number} */ (state.pid), 'SIGTERM');
  writeState(profile, null);
  return running;
}

/**
 * Status lines for `npm run stack -- status`.
 * @param {Profile} profile
 * @param {boolean} stackRunning
 * @returns {string[]}
 */
export function hubSpotStatusLines(profile, stackRunning) {
  const state = readState(profile);
  if (!state) return [`  HubSpot:   ${stackRunning ? 'not connected' : 'stopped'}`];
  const connection = state.connectionId ? `, Acme connected (connection ${state.connectionId})` : ', Acme not connected';
  if (state.mode === 'hubspot') return [`  HubSpot:   ${stackRunning ? `portal ${state.accountId}${connection}` : 'stopped'}`];
  const alive = state.pid !== undefined && isSimulatorProcess(state.pid);
  if (!alive) return ['  HubSpot:   simulator stopped'];
  if (!stackRunning) return [`  HubSpot:   simulator left running (pid ${state.pid}); "npm run stack -- stop" ends it`];
  return [
    `  HubSpot:   simulator on ${state.url} (pid ${state.pid}, portal ${state.accountId})${connection}`,
    `             its records: ${state.url}/_sim/objects/contacts`,
  ];
}

/**
 * The HubSpot demo of one `npm start`. start() never throws: a problem is a
 * warning, and the stack stays up without it.
 * @param {Profile} profile
 * @param {NodeJS.ProcessEnv} [env]
 */
export function createHubSpotDemo(profile, env = process.env) {
  /** @type {import('node:child_process').ChildProcess | null} */
  let child = null;
  /** @type {postgres.Sql | null} */
  let sql = null;
  /** @type {NodeJS.Timeout | null} */
  let feedTimer = null;
  let stopped = false;

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  /** Polls `probe` every 100 ms until it returns something; null after the timeout or on stop. */
  async function until(probe, timeoutMs) {
    const deadline = Date.now() + timeoutMs;
    while (!stopped && Date.now() < deadline) {
      const value = await probe();
      if (value) return value;
      await sleep(100);
    }
    return null;
  }

  async function functionsClient() {
    return createFunctionsClient({ SUPABASE_URL: profile.apiUrl, SUPABASE_SERVICE_ROLE_KEY: localKeys(localJwtSecret).serviceRoleKey });
  }

  /** Starts the simulator and resolves with its URL once it listens. */
  async function startSimulator(port) {
    try {
      await assertPortFree(port, 'HubSpot simulator');
    } catch {
      stopLeftoverSimulator(profile);
      await sleep(500);
      await assertPortFree(port, 'HubSpot simulator').catch(() => {
        throw new StackError(`port ${port} (HubSpot simulator) is already in use`, 'stop that program, or choose another port with CRM_SYNC_HUBSPOT_SIM_PORT');
      });
    }
    const url = `http://127.0.0.1:${port}`;
    const args = [
      'run', '--no-prompt', '--config', path.join(repoRoot, 'deno.json'), '-A', simulatorMain,
      '--port', String(port), '--host', '127.0.0.1',
      '--token', simulatorAccount.token, '--client-secret', simulatorAccount.clientSecret,
      '--portal-id', String(simulatorAccount.portalId),
      '--webhook-url', `${profile.apiUrl}/functions/v1/hubspot-webhook`,
    ];
    const proc = spawn(denoBin, args, { cwd: repoRoot, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    const tail = [];
    let listening = false;
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new StackError('the HubSpot simulator did not start within 60 s', tail.join('\n'))), 60_000);
      const onLine = (line) => {
        if (line.startsWith('HubSpot simulator listening')) {
          listening = true;
          clearTimeout(timer);
          resolve(undefined);
        }
        tail.push(line);
        if (tail.length > 20) tail.shift();
        console.log(`[hubspot-sim] ${line}`);
      };
      lines(proc.stdout, onLine);
      lines(proc.stderr, onLine);
      proc.once('error', (error) => {
        clearTimeout(timer);
        reject(new StackError(`the HubSpot simulator could not be started: ${error.message}`));
      });
      proc.once('exit', (code, signal) => {
        clearTimeout(timer);
        if (child === proc) child = null;
        if (listening && !stopped) log.warn(`the HubSpot simulator exited (${signal ?? `code ${code}`}); restart the stack to bring it back`);
        reject(new StackError(`the HubSpot simulator exited (${signal ?? `code ${code}`}):\n${tail.join('\n')}`));
      });
    });
    writeState(profile, { mode: 'simulator', pid: proc.pid, url, accountId: String(simulatorAccount.portalId) });
    return url;
  }

  /** Calls the simulator's control API. */
  async function control(simUrl, method, route, body) {
    const res = await fetch(`${simUrl}/_sim${route}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    if (!res.ok) throw new StackError(`HubSpot simulator ${method} /_sim${route} answered ${res.status}: ${text.slice(0, 300)}`);
    return text ? JSON.parse(text) : null;
  }

  /**
   * Drops the previous demo connection: its remote ids and webhook
   * receipts belong to a simulator portal that no longer exists.
   */
  async function dropPreviousSimulatorConnection() {
    await /** @type {postgres.Sql} */ (sql).begin(async (tx) => {
      const old = await tx`delete from sync.connections
                            where provider = 'hubspot' and account_id = ${String(simulatorAccount.portalId)}
                              and settings ->> 'api_base_url' like 'http://127.0.0.1:%'
                        returning secret_id`;
      const secrets = old.map((row) => row.secret_id).filter(Boolean);
      if (secrets.length) await tx`delete from vault.secrets where id in ${tx(secrets)}`;
    });
  }

  /** Acme's enabled connections other than `exceptId`. */
  async function otherConnections(exceptId) {
    return /** @type {postgres.Sql} */ (sql)`select id, account_id, settings ->> 'api_base_url' as api_base_url
                from sync.connections where tenant_id = ${acmeTenantId} and enabled and id <> ${exceptId}`;
  }

  async function runSimulatorDemo() {
    const port = simulatorPort(env);
    log.step(`HubSpot: no HUBSPOT_ACCESS_TOKEN, so starting the HubSpot simulator on 127.0.0.1:${port}`);
    const simUrl = await startSimulator(port);
    await control(simUrl, 'PUT', '/webhooks', { subscriptions: 'default' });

    await dropPreviousSimulatorConnection();
    const client = await functionsClient();
    const connected = await client.invoke('connections', {
      method: 'POST',
      body: {
        tenant_id: acmeTenantId,
        provider: 'hubspot',
        access_token: simulatorAccount.token,
        client_secret: simulatorAccount.clientSecret,
        api_base_url: simUrl,
        display_name: 'HubSpot simulator',
      },
      timeoutMs: 120_000,
    });
    const connectionId = connected.connection_id;
    // Deliver where the connections function says HubSpot must (CRM_SYNC_PUBLIC_FUNCTIONS_URL may move it).
    await control(simUrl, 'PUT', '/webhooks', { targetUrl: connected.webhook.target_url });
    writeState(profile, { ...readState(profile), mode: 'simulator', connectionId, accountId: connected.account_id });
    log.ok(`Acme is connected to the HubSpot simulator (portal ${connected.account_id}, connection ${connectionId})`);

    const started = Date.now();
    const seeded = {};
    for (const request of seed) seeded[request.objectType] = (await control(simUrl, 'POST', '/seed', request)).count;
    log.info(`seeded the simulator: ${seed.map((r) => `${seeded[r.objectType]} ${r.objectType}`).join(', ')}`);
    const expected = seed.filter((r) => r.emitWebhooks).reduce((n, r) => n + seeded[r.objectType], 0);
    const imported = await until(async () => {
      const [{ n }] = await /** @type {postgres.Sql} */ (sql)`select count(*)::int as n from sync.identity_map
                                                             where connection_id = ${connectionId}`;
      return n >= expected ? n : null;
    }, arrivalTimeoutMs);
    if (imported) log.ok(`HubSpot → Postgres: ${expected} seeded companies and contacts arrived in ${seconds(Date.now() - started)}`);
    else if (!stopped) log.warn(`HubSpot → Postgres: the seeded records did not all arrive within ${arrivalTimeoutMs / 1000} s (see the hubspot-webhook and sync-worker lines above)`);

    await showInbound(simUrl, connectionId);
    const others = await otherConnections(connectionId);
    let edited = null;
    if (others.length) {
      log.warn(`Postgres → HubSpot: skipped, because Acme has other connections (${others.map((c) => c.account_id).join(', ')}) that a local edit would reach too`);
    } else {
      edited = await showOutbound(simUrl, connectionId);
    }
    if (stopped) return;

    const [sample] = (await control(simUrl, 'GET', '/objects/contacts')).results;
    console.log(`
  Try it (each change shows up in the feed below):
    change a contact in HubSpot:  curl -X PATCH ${simUrl}/_sim/objects/contacts/${sample?.id ?? '<id>'} \\
                                    -H 'content-type: application/json' -d '{"properties": {"firstname": "Janet"}}'
    list HubSpot's contacts:      curl ${simUrl}/_sim/objects/contacts
    change a contact in Postgres: psql ${profile.dbUrl} \\
                                    -c "update crm.contacts set last_name = 'Smith' where email = '${edited ?? janeEmail}'"
    other simulator controls:     scripts/simulators/hubspot/README.md (Control API)
`);
    await startFeed(connectionId);
  }

  /** A contact created "by a HubSpot user" and its arrival in crm.contacts. */
  async function showInbound(simUrl, connectionId) {
    if (stopped) return;
    const email = janeEmail;
    const started = Date.now();
    const created = await control(simUrl, 'POST', '/objects/contacts', {
      properties: { email, firstname: 'Jane', lastname: 'Doe', phone: '+1 555 0123' },
    });
    const row = await until(async () => {
      const [r] = await /** @type {postgres.Sql} */ (sql)`select c.email from sync.identity_map m join crm.contacts c on c.id = m.local_id
                          where m.connection_id = ${connectionId} and m.entity_type = 'contact' and m.remote_id = ${created.id}`;
      return r;
    }, arrivalTimeoutMs);
    if (row) log.ok(`HubSpot → Postgres: contact ${email} (created in HubSpot) appeared in crm.contacts in ${seconds(Date.now() - started)}`);
    else if (!stopped) log.warn(`HubSpot → Postgres: contact ${email} did not arrive within ${arrivalTimeoutMs / 1000} s (see the hubspot-webhook and sync-worker lines above)`);
  }

  /**
   * A local edit to an Acme contact that is linked to the simulator, and its
   * arrival there. Returns the contact's email (for the "try it" hint).
   */
  async function showOutbound(simUrl, connectionId) {
    if (stopped) return null;
    const db = /** @type {postgres.Sql} */ (sql);
    const [contact] = await db`select c.id, c.email, c.phone, m.remote_id
                                 from sync.identity_map m join crm.contacts c on c.id = m.local_id
                                where m.connection_id = ${connectionId} and m.entity_type = 'contact'
                                  and c.deleted_at is null and c.email is not null and c.email <> ${janeEmail}
                                order by c.email limit 1`;
    if (!contact) {
      log.warn('Postgres → HubSpot: skipped, no Acme contact is linked to the simulator yet');
      return null;
    }
    let phone;
    do phone = `+1 555 01${String(Math.floor(Math.random() * 100)).padStart(2, '0')}`; while (phone === contact.phone);
    const started = Date.now();
    await db`update crm.contacts set phone = ${phone} where id = ${contact.id}`;
    const arrived = await until(async () => {
      const record = await control(simUrl, 'GET', `/objects/contacts/${contact.remote_id}`);
      return record.properties.phone === phone;
    }, arrivalTimeoutMs);
    if (arrived) log.ok(`Postgres → HubSpot: phone of ${contact.email} set to ${phone} in crm.contacts, in HubSpot after ${seconds(Date.now() - started)}`);
    else if (!stopped) log.warn(`Postgres → HubSpot: the new phone of ${contact.email} did not reach HubSpot within ${arrivalTimeoutMs / 1000} s (see the sync-worker lines above)`);
    return contact.email;
  }

  async function runHubSpotConnect() {
    const token = /** @type {string} */ (env.HUBSPOT_ACCESS_TOKEN);
    const clientSecret = env.HUBSPOT_CLIENT_SECRET;
    if (!clientSecret) {
      log.warn('HubSpot: HUBSPOT_ACCESS_TOKEN is set but HUBSPOT_CLIENT_SECRET is not, so Acme was not connected. '
        + 'Set it to the app\'s client secret (it signs webhooks), or unset HUBSPOT_ACCESS_TOKEN for the simulator demo.');
      return;
    }
    log.step('HubSpot: connecting Acme to the HubSpot account of HUBSPOT_ACCESS_TOKEN');
    // A demo connection to the simulator would get Acme's edits too, and it is not running.
    await /** @type {postgres.Sql} */ (sql)`update sync.connections set enabled = false
                 where tenant_id = ${acmeTenantId} and account_id = ${String(simulatorAccount.portalId)} and enabled
                   and settings ->> 'api_base_url' like 'http://127.0.0.1:%'`;
    const client = await functionsClient();
    const connected = await client.invoke('connections', {
      method: 'POST',
      body: { tenant_id: acmeTenantId, provider: 'hubspot', access_token: token, client_secret: clientSecret },
      timeoutMs: 150_000,
    });
    writeState(profile, { mode: 'hubspot', connectionId: connected.connection_id, accountId: connected.account_id });
    log.ok(describeConnection(connected, acmeTenantId).join('\n'));
    if (/^http:\/\/(127\.0\.0\.1|localhost)[:/]/.test(connected.webhook.target_url)) {
      log.info('HubSpot cannot reach 127.0.0.1: expose the stack with a tunnel and start it with');
      log.info('CRM_SYNC_PUBLIC_FUNCTIONS_URL=https://<tunnel>/functions/v1 so the target URL (and signatures) use it.');
    }
    await startFeed(connected.connection_id);
  }

  /**
   * Prints one line per sync change from now on: identity map rows whose
   * updated_at advanced, with the record's email or name. Direction: an
   * inbound apply writes the record and its identity row in one transaction
   * (equal updated_at); an outbound write records the row after the edit.
   */
  async function startFeed(connectionId) {
    if (stopped) return;
    const db = /** @type {postgres.Sql} */ (sql);
    const [{ now }] = await db`select now()`;
    let since = now;
    /** @type {Map<string, number>} */
    const seen = new Map();
    let busy = false;
    console.log('  Sync activity (live):');
    const poll = async () => {
      if (busy || stopped) return;
      busy = true;
      try {
        const rows = await db`
          select m.entity_type::text as entity_type, m.remote_id, m.updated_at, r.label,
                 r.updated_at = m.updated_at as same_transaction, r.updated_at as record_updated_at,
                 (m.remote_deleted_at is not null or r.deleted_at is not null) as deleted
            from sync.identity_map m
            left join lateral (
              select c.updated_at, c.deleted_at, concat_ws(' ', c.email, '(' || nullif(concat_ws(' ', c.first_name, c.last_name), '') || ')') as label
                from crm.contacts c where m.entity_type = 'contact' and c.id = m.local_id
              union all select co.updated_at, co.deleted_at, concat_ws(' ', co.name, '(' || co.domain || ')') from crm.companies co
               where m.entity_type = 'company' and co.id = m.local_id
              union all select d.updated_at, d.deleted_at, d.name from crm.deals d where m.entity_type = 'deal' and d.id = m.local_id
              union all select a.updated_at, a.deleted_at, a.subject from crm.activities a where m.entity_type = 'activity' and a.id = m.local_id
              union all select t.updated_at, t.deleted_at, t.title from crm.tasks t where m.entity_type = 'task' and t.id = m.local_id
            ) r on true
           where m.connection_id = ${connectionId} and m.updated_at > ${since}::timestamptz - interval '10 seconds'
           order by m.updated_at`;
        for (const row of rows) {
          const key = `${row.entity_type}/${row.remote_id}`;
          const at = row.updated_at.getTime();
          const previous = seen.get(key);
          if (previous !== undefined && previous >= at) continue;
          seen.set(key, at);
          if (at > since.getTime()) since = row.updated_at;
          if (previous === undefined && at <= now.getTime()) continue;
          const inbound = row.same_transaction || (previous !== undefined && row.record_updated_at?.getTime() <= previous);
          const direction = inbound ? 'HubSpot → Postgres' : 'Postgres → HubSpot';
          const time = row.updated_at.toTimeString().slice(0, 8);
          console.log(`  ${time}  ${direction}  ${row.entity_type.padEnd(8)} ${row.label ?? '(no local record)'}${row.deleted ? '  [deleted]' : ''}  [HubSpot id ${row.remote_id}]`);
        }
      } catch (error) {
        if (!stopped) log.warn(`sync feed: ${error.message}`);
      } finally {
        busy = false;
      }
    };
    feedTimer = setInterval(poll, feedIntervalMs);
  }

  return {
    /** Runs the demo (or the real connect) and starts the feed; logs problems instead of throwing. */
    async start() {
      sql = postgres(profile.dbUrl, { max: 2, onnotice: () => {}, connect_timeout: 10 });
      try {
        if (env.HUBSPOT_ACCESS_TOKEN) await runHubSpotConnect();
        else await runSimulatorDemo();
      } catch (error) {
        if (stopped) return;
        log.warn(`HubSpot demo: ${error.message}`);
        if (error.hint) log.info(`how to fix: ${error.hint}`);
      }
    },
    /** Stops the feed and the simulator. */
    async stop() {
      stopped = true;
      if (feedTimer) clearInterval(feedTimer);
      const proc = child;
      if (proc && proc.exitCode === null && proc.signalCode === null) {
        const exited = new Promise((resolve) => proc.once('exit', resolve));
        proc.kill('SIGTERM');
        const timer = setTimeout(() => proc.kill('SIGKILL'), 3_000);
        await exited;
        clearTimeout(timer);
      }
      child = null;
      writeState(profile, null);
      await sql?.end({ timeout: 2 });
      sql = null;
    },
  };
}

const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;

function lines(stream, onLine) {
  let buffer = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk) => {
    buffer += chunk;
    let index;
    while ((index = buffer.indexOf('\n')) >= 0) {
      onLine(buffer.slice(0, index));
      buffer = buffer.slice(index + 1);
    }
  });
}
