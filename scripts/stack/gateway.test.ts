// The local gateway with real Deno workers: routing, JWT verification per
// function, and the hosted limits (wall clock, memory, boot errors).
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway } from './gateway.mjs';
import { signJwt } from './keys.mjs';

const secret = 'gateway-test-secret-with-at-least-32-characters';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crm-sync-gateway-'));
const functions: Record<string, string> = {
  echo: `Deno.serve(async (req) => Response.json({ url: req.url, method: req.method, body: await req.text(), env: Deno.env.get('EXTRA') }));`,
  open: `Deno.serve(() => new Response('open'));`,
  slow: `Deno.serve(async () => { await new Promise((r) => setTimeout(r, 10_000)); return new Response('late'); });`,
  hog: `const keep: unknown[] = []; Deno.serve(() => { for (;;) keep.push(new Array(1_000_000).fill(Math.random())); });`,
  broken: `throw new Error('boom at boot');`,
  // Answers before reading the body, as a function does with a body over its limit.
  early: `Deno.serve(async (req) => {
    const reader = req.body!.getReader();
    for (let read = 0; read < 1_000_000;) read += (await reader.read()).value?.length ?? 1_000_000;
    return Response.json({ error: 'payload_too_large' }, { status: 413 });
  });`,
};
for (const [name, code] of Object.entries(functions)) {
  fs.mkdirSync(path.join(dir, name));
  fs.writeFileSync(path.join(dir, name, 'index.ts'), code);
}
fs.mkdirSync(path.join(dir, '_shared'));
fs.writeFileSync(path.join(dir, 'config.toml'), '[functions.open]\nverify_jwt = false\n[functions.early]\nverify_jwt = false\n');

let gateway: Awaited<ReturnType<typeof startGateway>>;
// A port nobody holds right now (a fixed range collided with other services of the test run).
const port = await new Promise<number>((resolve, reject) => {
  const probe = net.createServer();
  probe.once('error', reject);
  probe.listen(0, '127.0.0.1', () => {
    const { port: free } = probe.address() as net.AddressInfo;
    probe.close(() => resolve(free));
  });
});
const url = (name: string) => `http://127.0.0.1:${port}/functions/v1/${name}`;
const auth = { authorization: `Bearer ${signJwt({ role: 'anon', exp: Math.floor(Date.now() / 1000) + 600 }, secret)}` };

beforeAll(async () => {
  gateway = await startGateway({
    port, jwtSecret: secret, env: { EXTRA: 'from-gateway' }, wallClockMs: 1500, memoryMb: 64,
    functionsDir: dir, configPath: path.join(dir, 'config.toml'), log: () => {},
  });
}, 60_000);
afterAll(async () => {
  await gateway?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('local functions gateway', () => {
  it('forwards method, path, query and body to the function, with the runtime environment', async () => {
    const res = await fetch(`${url('echo')}/sub/path?x=1`, { method: 'POST', headers: auth, body: 'hello' });
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(new URL(body.url).pathname).toBe('/echo/sub/path');
    expect(new URL(body.url).search).toBe('?x=1');
    expect(body).toMatchObject({ method: 'POST', body: 'hello', env: 'from-gateway' });
  }, 30_000);

  it("gives the client a function's early answer although the client is still sending a large body", async () => {
    const big = 'x'.repeat(4 * 1024 * 1024);
    for (let i = 0; i < 30; i++) {
      const res = await fetch(url('early'), { method: 'POST', body: big });
      expect(res.status).toBe(413);
      // The function's "connection: close" is not passed on: the client would be cut off while still sending.
      expect(res.headers.get('connection')).not.toBe('close');
      expect(await res.json()).toEqual({ error: 'payload_too_large' });
    }
  }, 60_000);

  it('verifies the JWT unless config.toml turns verify_jwt off', async () => {
    expect((await fetch(url('echo'))).status).toBe(401);
    const expired = signJwt({ role: 'anon', exp: 1 }, secret);
    expect((await fetch(url('echo'), { headers: { authorization: `Bearer ${expired}` } })).status).toBe(401);
    const open = await fetch(url('open'));
    expect(open.status).toBe(200);
    expect(await open.text()).toBe('open');
  }, 30_000);

  it('lists functions and answers 404 for unknown ones, never listing _shared', async () => {
    expect(await (await fetch(`http://127.0.0.1:${port}/functions/v1/`)).json()).toEqual({ functions: ['broken', 'early', 'echo', 'hog', 'open', 'slow'] });
    expect((await fetch(url('_shared'), { headers: auth })).status).toBe(404);
    expect((await fetch(url('missing'), { headers: auth })).status).toBe(404);
  });

  it('cuts a request off at the wall clock limit with 504 and restarts the worker', async () => {
    const res = await fetch(url('slow'), { headers: auth });
    expect(res.status).toBe(504);
    expect((await res.json()).code).toBe('WORKER_TIMEOUT');
    const again = await fetch(url('slow'), { headers: auth });
    expect(again.status).toBe(504);
  }, 30_000);

  it('stops a worker that exceeds the memory limit and answers 546', async () => {
    const res = await fetch(url('hog'), { headers: auth });
    expect(res.status).toBe(546);
    const body = await res.json();
    expect(body.code).toBe('WORKER_LIMIT');
    expect(body.message).toMatch(/memory limit of 64 MB/);
  }, 30_000);

  it('answers 503 BOOT_ERROR with the cause when a function fails to start', async () => {
    const res = await fetch(url('broken'), { headers: auth });
    expect(res.status).toBe(503);
    const body = await res.json();
    expect(body.code).toBe('BOOT_ERROR');
    expect(body.detail).toMatch(/boom at boot/);
  }, 30_000);
});
