// The HTTP worker of the local pg_net stand-in (scripts/stack/extensions/
// pg_net--0.14.0.sql). The real pg_net sends requests from a background
// worker inside Postgres; locally this process does it:
//
//   * it LISTENs on channel pg_net_request, which net.http_get/post/delete
//     notify; Postgres delivers that only when the calling transaction
//     commits, so a rolled-back request is never sent. It also polls every
//     second, for requests queued while it was down or reconnecting;
//   * it claims queued rows by deleting them (for update skip locked, so
//     several workers never send one request twice), sends each with fetch
//     and its own timeout, and writes one net._http_response row per request;
//   * it deletes responses older than ttlSeconds (pg_net.ttl: 6 hours).
//
// Run on its own: node scripts/stack/pg-net-worker.mjs --db-url URL
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import postgres from 'postgres';

/** The channel net.http_get/post/delete notify with the request id. */
export const REQUEST_CHANNEL = 'pg_net_request';
/** The application_name net.check_worker_is_up() looks for. */
export const APPLICATION_NAME = 'pg_net worker';

const POLL_INTERVAL_MS = 1000;
/** How long stop() lets requests in flight finish before cancelling them. */
const STOP_GRACE_MS = 5000;

/**
 * @typedef {object} WorkerLog
 * @property {(message: string) => void} info
 * @property {(message: string) => void} warn
 * @property {(message: string) => void} error
 */

/**
 * @typedef {object} QueuedRequest
 * @property {string} id bigint as text
 * @property {string} method
 * @property {string} url
 * @property {Record<string, unknown> | null} headers
 * @property {Buffer | null} body
 * @property {number} timeout_milliseconds
 */

/**
 * @typedef {object} ResponseRow
 * @property {string} id
 * @property {number | null} status_code
 * @property {string | null} content_type
 * @property {Record<string, string> | null} headers
 * @property {string | null} content
 * @property {boolean} timed_out
 * @property {string | null} error_msg
 */

/**
 * @typedef {object} PgNetWorker
 * @property {() => Promise<void>} stop Stops claiming, lets requests in flight finish
 *   (cancelling those still running after a grace period) and closes the connections.
 */

/**
 * Starts the worker; resolves once it listens and has claimed what was already queued.
 *
 * @param {object} options
 * @param {string} options.dbUrl Postgres connection URL (a role that may use schema net, e.g. postgres)
 * @param {WorkerLog} [options.log]
 * @param {number} [options.concurrency] requests in flight at once
 * @param {number} [options.ttlSeconds] responses older than this are deleted
 * @returns {Promise<PgNetWorker>}
 */
export async function startPgNetWorker({ dbUrl, log = console, concurrency = 20, ttlSeconds = 21600 }) {
  if (!dbUrl) throw new Error('startPgNetWorker: dbUrl is required');
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new Error(`startPgNetWorker: concurrency must be a positive integer, got ${concurrency}`);
  }
  if (!Number.isFinite(ttlSeconds) || ttlSeconds <= 0) {
    throw new Error(`startPgNetWorker: ttlSeconds must be a positive number, got ${ttlSeconds}`);
  }

  const sql = postgres(dbUrl, {
    max: 4,
    onnotice: () => {},
    connection: { application_name: APPLICATION_NAME },
  });

  /** @type {Set<Promise<void>>} */
  const inFlight = new Set();
  const cancel = new AbortController();
  let stopping = false;
  let draining = false;
  let drainAgain = false;
  let lastError = '';

  /** Logs a failure once until the next success, so a down database does not flood the log. */
  function reportError(what, error) {
    const message = `${what}: ${error instanceof Error ? error.message : String(error)}`;
    if (message !== lastError) log.error(message);
    lastError = message;
  }

  async function claim(limit) {
    return /** @type {QueuedRequest[]} */ (await sql`
      delete from net.http_request_queue
      where id in (
        select id from net.http_request_queue
        order by id
        for update skip locked
        limit ${limit}
      )
      returning id, method, url, headers, body, timeout_milliseconds
    `);
  }

  /** Claims and starts requests until the queue is empty or concurrency is reached. */
  async function drain() {
    if (draining) {
      drainAgain = true;
      return;
    }
    draining = true;
    try {
      do {
        drainAgain = false;
        while (!stopping && inFlight.size < concurrency) {
          const rows = await claim(concurrency - inFlight.size);
          lastError = '';
          if (rows.length === 0) break;
          for (const row of rows) {
            const task = perform(row).finally(() => {
              inFlight.delete(task);
              if (!stopping) void drain();
            });
            inFlight.add(task);
          }
        }
      } while (drainAgain && !stopping);
    } catch (error) {
      reportError('claiming queued requests failed', error);
    } finally {
      draining = false;
    }
  }

  /** Sends one request and records its outcome; never throws. */
  async function perform(/** @type {QueuedRequest} */ request) {
    const response = await send(request, cancel.signal);
    try {
      await sql`
        insert into net._http_response (id, status_code, content_type, headers, content, timed_out, error_msg)
        values (${response.id}, ${response.status_code}, ${response.content_type},
                ${response.headers === null ? null : sql.json(response.headers)},
                ${response.content}, ${response.timed_out}, ${response.error_msg})
      `;
    } catch (error) {
      reportError(`recording the response of request ${request.id} failed`, error);
    }
  }

  async function removeExpired() {
    try {
      await sql`delete from net._http_response where created < now() - make_interval(secs => ${ttlSeconds})`;
    } catch (error) {
      reportError('deleting expired responses failed', error);
    }
  }

  let listener;
  try {
    // onlisten runs on every (re)connection of the LISTEN session: pick up
    // whatever was committed while it was away.
    listener = await sql.listen(REQUEST_CHANNEL, () => void drain(), () => void drain());
  } catch (error) {
    await sql.end({ timeout: 1 }).catch(() => {});
    throw new Error(`pg_net worker could not listen on ${REQUEST_CHANNEL}: ${error instanceof Error ? error.message : error}`);
  }
  await removeExpired();
  await drain();
  const poll = setInterval(() => {
    void drain();
    void removeExpired();
  }, POLL_INTERVAL_MS);
  log.info(`pg_net worker listening on ${REQUEST_CHANNEL} (concurrency ${concurrency}, ttl ${ttlSeconds}s)`);

  let stopped = null;
  return {
    stop() {
      stopped ??= (async () => {
        stopping = true;
        clearInterval(poll);
        await listener.unlisten().catch(() => {});
        while (draining) await sleep(10);
        if (inFlight.size > 0) {
          const graceOver = sleep(STOP_GRACE_MS).then(() => 'grace over');
          if ((await Promise.race([Promise.allSettled([...inFlight]), graceOver])) === 'grace over') {
            log.warn(`pg_net worker stopping: cancelling ${inFlight.size} request(s) still in flight`);
            cancel.abort(new Error('pg_net worker stopped'));
          }
          await Promise.allSettled([...inFlight]);
        }
        await sql.end({ timeout: 5 });
        log.info('pg_net worker stopped');
      })();
      return stopped;
    },
  };
}

/**
 * Sends a queued request; the outcome as a net._http_response row.
 *
 * @param {QueuedRequest} request
 * @param {AbortSignal} cancelled aborted when the worker stops
 * @returns {Promise<ResponseRow>}
 */
export async function send(request, cancelled) {
  const { id, timeout_milliseconds: timeoutMs } = request;
  const failed = (/** @type {string} */ message, timedOut = false) => ({
    id, status_code: null, content_type: null, headers: null, content: null, timed_out: timedOut, error_msg: message,
  });
  const timeout = AbortSignal.timeout(timeoutMs);
  const started = performance.now();
  try {
    const response = await fetch(request.url, {
      method: request.method.toUpperCase(),
      headers: headersOf(request.headers),
      body: request.body ?? undefined,
      // libcurl, which the real pg_net uses, does not follow redirects by default
      redirect: 'manual',
      signal: AbortSignal.any([timeout, cancelled]),
    });
    const content = await response.text();
    return {
      id,
      status_code: response.status,
      content_type: response.headers.get('content-type'),
      headers: Object.fromEntries(response.headers),
      // text columns cannot hold NUL
      content: content.replaceAll('\u0000', ''),
      timed_out: false,
      error_msg: null,
    };
  } catch (error) {
    if (timeout.aborted) {
      const elapsed = (performance.now() - started).toFixed(1);
      return failed(`Timeout of ${timeoutMs} ms reached. Total time: ${elapsed} ms`, true);
    }
    if (cancelled.aborted) return failed('Request cancelled: the pg_net worker stopped');
    return failed(describeFetchError(error));
  }
}

/** Header values as strings; jsonb may hold numbers or booleans. */
function headersOf(/** @type {Record<string, unknown> | null} */ headers) {
  /** @type {Record<string, string>} */
  const result = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value !== null && value !== undefined) result[name] = String(value);
  }
  return result;
}

/** fetch reports "fetch failed" and hides the reason in `cause`. */
function describeFetchError(/** @type {unknown} */ error) {
  if (!(error instanceof Error)) return String(error);
  const cause = /** @type {{ message?: string, code?: string } | undefined} */ (error.cause);
  if (cause?.message) return cause.code && !cause.message.includes(cause.code) ? `${cause.code}: ${cause.message}` : cause.message;
  return error.message;
}

function sleep(/** @type {number} */ ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const usage = `Usage: node scripts/stack/pg-net-worker.mjs --db-url URL [options]

Sends the HTTP requests that net.http_get, net.http_post and net.http_delete
queue in the local pg_net stand-in, and records the responses in
net._http_response. Stops cleanly on SIGINT or SIGTERM.

Options:
  --db-url URL          Postgres connection URL (default: $SUPABASE_DB_URL)
  --concurrency N       requests in flight at once (default: 20)
  --ttl-seconds N       delete responses older than this (default: 21600, 6 hours)
  --help                show this help`;

async function main() {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        'db-url': { type: 'string' },
        concurrency: { type: 'string' },
        'ttl-seconds': { type: 'string' },
        help: { type: 'boolean' },
      },
    }));
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : error}\n\n${usage}`);
    process.exit(2);
  }
  if (values.help) {
    console.log(usage);
    return;
  }
  const dbUrl = values['db-url'] ?? process.env.SUPABASE_DB_URL;
  if (!dbUrl) {
    console.error(`--db-url is required (or set SUPABASE_DB_URL)\n\n${usage}`);
    process.exit(2);
  }
  const worker = await startPgNetWorker({
    dbUrl,
    concurrency: values.concurrency === undefined ? undefined : Number(values.concurrency),
    ttlSeconds: values['ttl-seconds'] === undefined ? undefined : Number(values['ttl-seconds']),
  });
  for (const signal of /** @type {const} */ (['SIGINT', 'SIGTERM'])) {
    process.once(signal, () => {
      worker.stop().then(() => process.exit(0), (error) => {
        console.error(error);
        process.exit(1);
      });
    });
  }
}

const isMain = process.argv[1] !== undefined
  && fs.realpathSync(process.argv[1]) === fs.realpathSync(fileURLToPath(import.meta.url));
if (isMain) {
  main().catch((error) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  });
}
