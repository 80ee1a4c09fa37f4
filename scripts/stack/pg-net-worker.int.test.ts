// The pg_net stand-in end to end: real Postgres (the stack's database, where
// `create extension pg_net with schema extensions` has run), the worker, and
// a local HTTP server as the far end. Another worker (the stack's own) may be
// claiming requests at the same time; every assertion holds whichever worker
// sends a request.
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPgNetWorker } from './pg-net-worker.mjs';

const dbUrl = process.env.SUPABASE_DB_URL;
if (!dbUrl) {
  throw new Error('SUPABASE_DB_URL is not set: run this through `npm test`, which starts the stack and sets it');
}

interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

interface ResponseRow {
  id: string;
  status_code: number | null;
  content_type: string | null;
  headers: Record<string, string> | null;
  content: string | null;
  timed_out: boolean | null;
  error_msg: string | null;
}

const run = randomUUID().slice(0, 8);
const base = `/pg-net-worker-test/${run}`;
const received: Received[] = [];
const sql = postgres(dbUrl, { max: 2, onnotice: () => {} });
const workerLog: string[] = [];
let server: http.Server;
let origin = '';
let worker: { stop(): Promise<void> };

function listen(target: http.Server): Promise<number> {
  return new Promise((resolve) => {
    target.listen(0, '127.0.0.1', () => resolve((target.address() as AddressInfo).port));
  });
}

/** A port on which nothing listens: bound once, then released. */
async function closedPort(): Promise<number> {
  const probe = http.createServer();
  const port = await listen(probe);
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

async function responseOf(id: string, timeoutMs = 10_000): Promise<ResponseRow> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [row] = await sql<ResponseRow[]>`
      select id, status_code, content_type, headers, content, timed_out, error_msg
      from net._http_response where id = ${id}
    `;
    if (row) return row;
    if (Date.now() > deadline) throw new Error(`no net._http_response row for request ${id} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const requestsTo = (path: string) => received.filter((r) => r.url.startsWith(`${base}${path}`));

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      if (req.url?.startsWith(`${base}/slow`)) {
        setTimeout(() => res.end('too late'), 3000).unref();
        return;
      }
      res.writeHead(201, { 'content-type': 'application/json', 'x-test-run': run });
      res.end(JSON.stringify({ ok: true, path: req.url }));
    });
  });
  origin = `http://127.0.0.1:${await listen(server)}`;
  worker = await startPgNetWorker({
    dbUrl,
    concurrency: 4,
    log: { info: (m: string) => workerLog.push(m), warn: (m: string) => workerLog.push(m), error: (m: string) => workerLog.push(m) },
  });
});

afterAll(async () => {
  await worker?.stop();
  await sql.end({ timeout: 5 });
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
});

describe('pg_net stand-in worker', { timeout: 20_000 }, () => {
  it('sends a committed net.http_post, and only after the commit', async () => {
    const body = { deal: 'Acme renewal', amount: 1200, tags: ['crm', 'sync'] };
    const id = await sql.begin(async (tx) => {
      const [row] = await tx<{ id: string }[]>`
        select net.http_post(
          url := ${`${origin}${base}/post`},
          body := ${sql.json(body)},
          params := ${sql.json({ source: 'db', run })},
          headers := ${sql.json({ 'Content-Type': 'application/json', 'X-Crm-Sync-Test': run })}
        ) as id
      `;
      // longer than the worker's poll interval: nothing may go out before the commit
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(requestsTo('/post')).toHaveLength(0);
      return row.id;
    });

    const response = await responseOf(id);
    const [sent] = requestsTo('/post');
    expect(requestsTo('/post')).toHaveLength(1);
    expect(sent.method).toBe('POST');
    // params come out in jsonb key order: shorter keys first
    expect(sent.url).toBe(`${base}/post?run=${run}&source=db`);
    expect(sent.headers['content-type']).toBe('application/json');
    expect(sent.headers['x-crm-sync-test']).toBe(run);
    expect(JSON.parse(sent.body)).toEqual(body);

    expect(response.status_code).toBe(201);
    expect(response.content_type).toBe('application/json');
    expect(response.headers?.['x-test-run']).toBe(run);
    expect(JSON.parse(response.content ?? '')).toEqual({ ok: true, path: `${base}/post?run=${run}&source=db` });
    expect(response.timed_out).toBe(false);
    expect(response.error_msg).toBeNull();
  });

  it('sends net.http_get and net.http_delete with their params', async () => {
    const [{ get, del }] = await sql<{ get: string; del: string }[]>`
      select
        net.http_get(${`${origin}${base}/get`}, ${sql.json({ q: 'a b&c' })}) as get,
        net.http_delete(${`${origin}${base}/delete/7`}, headers := ${sql.json({ 'X-Crm-Sync-Test': run })}) as del
    `;
    expect((await responseOf(get)).status_code).toBe(201);
    expect((await responseOf(del)).status_code).toBe(201);
    expect(requestsTo('/get').map((r) => `${r.method} ${r.url}`)).toEqual([`GET ${base}/get?q=a%20b%26c`]);
    const [deleted] = requestsTo('/delete/7');
    expect(deleted.method).toBe('DELETE');
    expect(deleted.headers['x-crm-sync-test']).toBe(run);
  });

  it('never sends a request whose transaction rolled back', async () => {
    class Rollback extends Error {}
    let rolledBackId = '';
    await expect(sql.begin(async (tx) => {
      const [row] = await tx<{ id: string }[]>`select net.http_post(${`${origin}${base}/rolled-back`}) as id`;
      rolledBackId = row.id;
      throw new Rollback('roll back on purpose');
    })).rejects.toBeInstanceOf(Rollback);
    expect(rolledBackId).not.toBe('');

    // a request committed afterwards goes out, and a poll interval passes
    const [{ id: laterId }] = await sql<{ id: string }[]>`select net.http_get(${`${origin}${base}/after-rollback`}) as id`;
    await responseOf(laterId);
    await new Promise((resolve) => setTimeout(resolve, 1500));

    expect(requestsTo('/rolled-back')).toHaveLength(0);
    const [{ responses, queued }] = await sql<{ responses: number; queued: number }[]>`
      select
        (select count(*)::int from net._http_response where id = ${rolledBackId}) as responses,
        (select count(*)::int from net.http_request_queue where id = ${rolledBackId}) as queued
    `;
    expect(responses).toBe(0);
    expect(queued).toBe(0);
  });

  it('records a timeout as timed_out with an error message', async () => {
    const [{ id }] = await sql<{ id: string }[]>`
      select net.http_get(${`${origin}${base}/slow`}, timeout_milliseconds := 300) as id
    `;
    const started = Date.now();
    const response = await responseOf(id);
    expect(Date.now() - started).toBeLessThan(2500);
    expect(requestsTo('/slow')).toHaveLength(1);
    expect(response.timed_out).toBe(true);
    expect(response.status_code).toBeNull();
    expect(response.error_msg).toMatch(/^Timeout of 300 ms reached/);
  });

  it('records a refused connection as an error message', async () => {
    const port = await closedPort();
    const [{ id }] = await sql<{ id: string }[]>`
      select net.http_post(${`http://127.0.0.1:${port}${base}/refused`}, ${sql.json({ a: 1 })}) as id
    `;
    const response = await responseOf(id);
    expect(response.status_code).toBeNull();
    expect(response.timed_out).toBe(false);
    expect(response.error_msg).toMatch(/ECONNREFUSED/);
  });

  it('is seen by net.check_worker_is_up()', async () => {
    await expect(sql`select net.check_worker_is_up()`).resolves.toBeDefined();
  });
});
