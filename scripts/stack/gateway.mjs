// The local functions gateway on :54321, standing in for Supabase's API
// gateway and edge runtime: routes /functions/v1/<name> to a Deno process per
// function, verifies the JWT when config.toml says verify_jwt, and enforces
// the hosted limits (wall clock, memory) so that work which only fits
// locally fails here too.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { verifyJwt } from './keys.mjs';
import { repoRoot } from './profiles.mjs';

const defaultFunctionsDir = path.join(repoRoot, 'supabase', 'functions');
const denoBin = path.join(repoRoot, 'node_modules', '.bin', 'deno');
const hostScript = path.join(repoRoot, 'scripts', 'stack', 'function-host.ts');
const readyMarker = 'crm-sync:function-ready';

/** Function names: folders of supabase/functions with an index.ts, minus _shared. */
export function discoverFunctions(functionsDir = defaultFunctionsDir) {
  return fs.readdirSync(functionsDir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && !d.name.startsWith('_') && fs.existsSync(path.join(functionsDir, d.name, 'index.ts')))
    .map((d) => d.name)
    .sort();
}

/** verify_jwt per function from supabase/config.toml (default true, as hosted). */
export function readVerifyJwt(configText) {
  const config = parseToml(configText);
  const functions = /** @type {Record<string, {verify_jwt?: boolean}>} */ (config.functions ?? {});
  return (name) => functions[name]?.verify_jwt ?? true;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {net.AddressInfo} */ (server.address());
      server.close(() => resolve(port));
    });
  });
}

/** The last reading of each process's CPU time: { pid, at, ms }. */
let lastCpuReading = { pid: 0, at: 0, ms: 0 };

/**
 * Reads a process's CPU time (user + system) in ms from /proc; 0 if unknown.
 * /proc counts in ticks of 10 ms, so a reading is reused for 5 ms: at
 * thousands of requests a second, two reads per request would cost the
 * gateway more than the figure is worth.
 */
function cpuMs(pid) {
  const now = performance.now();
  if (lastCpuReading.pid === pid && now - lastCpuReading.at < 5) return lastCpuReading.ms;
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    const ms = (Number(fields[11]) + Number(fields[12])) * 10; // clock ticks of 10 ms
    lastCpuReading = { pid, at: now, ms };
    return ms;
  } catch {
    return 0;
  }
}

/** One Deno process serving one function; started on first request. */
class FunctionWorker {
  /** @param {string} name @param {object} opts */
  constructor(name, opts) {
    this.name = name;
    this.opts = opts;
    this.child = null;
    this.ready = null;
    this.stderrTail = [];
  }

  start() {
    if (this.ready) return this.ready;
    this.ready = (async () => {
      const port = await freePort();
      const { functionsDir } = this.opts;
      const envFile = path.join(functionsDir, '.env');
      const args = [
        'run', '--no-prompt', '--config', path.join(repoRoot, 'deno.json'),
        '--allow-net', '--allow-env', '--allow-read', '--allow-sys', '--allow-write=/tmp',
        `--v8-flags=--max-old-space-size=${this.opts.memoryMb}`,
        ...(fs.existsSync(envFile) ? [`--env-file=${envFile}`] : []),
        ...(this.opts.watch ? [`--watch=${functionsDir}`] : []),
        hostScript, path.join(functionsDir, this.name, 'index.ts'),
      ];
      const child = spawn(denoBin, args, {
        cwd: repoRoot,
        env: { ...process.env, ...this.opts.env, CRM_SYNC_FUNCTION_PORT: String(port), NO_COLOR: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      // Every request in flight listens for the process's exit (see proxy()).
      child.setMaxListeners(0);
      this.child = child;
      this.stderrTail = [];
      return await new Promise((resolve, reject) => {
        const onLine = (stream) => (line) => {
          if (line.startsWith(readyMarker)) return resolve(port);
          if (stream === 'stderr') this.stderrTail = [...this.stderrTail.slice(-20), line];
          this.opts.log(`[${this.name}] ${line}`);
        };
        lines(child.stdout, onLine('stdout'));
        lines(child.stderr, onLine('stderr'));
        child.once('exit', (code, signal) => {
          this.exitReason = this.describeExit(code, signal);
          if (this.child === child) {
            this.child = null;
            this.ready = null;
          }
          reject(new Error(`failed to start: ${this.exitReason}\n${this.stderrTail.join('\n')}`));
          this.opts.onExit?.(this);
        });
      });
    })();
    return this.ready;
  }

  describeExit(code, signal) {
    if (this.stderrTail.some((l) => /out of memory|heap limit/i.test(l))) return `memory limit of ${this.opts.memoryMb} MB exceeded`;
    return signal ? `killed by ${signal}` : `exited with code ${code}`;
  }

  /** Kills the process; the next request starts a fresh one. */
  stop() {
    this.child?.kill('SIGKILL');
    this.child = null;
    this.ready = null;
  }
}

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

function sendJson(res, status, body) {
  if (res.headersSent) return res.destroy();
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/**
 * Starts the gateway. Returns { url, close() }.
 * @param {{ port: number, jwtSecret: string, env: Record<string,string>, wallClockMs: number,
 *           memoryMb: number, watch?: boolean, log?: (line: string) => void,
 *           functionsDir?: string, configPath?: string }} options
 */
export async function startGateway(options) {
  const opts = { functionsDir: defaultFunctionsDir, configPath: path.join(repoRoot, 'supabase', 'config.toml'), ...options };
  const { functionsDir, configPath } = opts;
  const log = opts.log ?? ((line) => console.log(line));
  const verifyJwtFor = readVerifyJwt(fs.readFileSync(configPath, 'utf8'));
  /** @type {Map<string, FunctionWorker>} */
  const workers = new Map();

  // The function folders, read again at most once a second (not on every request).
  let known = { names: discoverFunctions(functionsDir), at: Date.now() };
  const functionNames = () => {
    if (Date.now() - known.at > 1_000) known = { names: discoverFunctions(functionsDir), at: Date.now() };
    return known.names;
  };

  const workerFor = (name) => {
    if (!workers.has(name)) workers.set(name, new FunctionWorker(name, { ...opts, log }));
    return workers.get(name);
  };

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://gateway');
    const match = url.pathname.match(/^\/functions\/v1\/([a-z0-9][a-z0-9_-]*)(\/.*)?$/i);
    if (!match) {
      if (url.pathname === '/' || url.pathname === '/functions/v1' || url.pathname === '/functions/v1/') {
        return sendJson(res, 200, { functions: functionNames() });
      }
      return sendJson(res, 404, { code: 'NOT_FOUND', message: 'Use /functions/v1/<function-name>' });
    }
    const name = match[1];
    if (!functionNames().includes(name)) {
      return sendJson(res, 404, { code: 'NOT_FOUND', message: `Requested function "${name}" was not found` });
    }
    if (req.method !== 'OPTIONS' && verifyJwtFor(name)) {
      const header = req.headers.authorization ?? '';
      if (!header) return sendJson(res, 401, { code: 401, message: 'Missing authorization header' });
      const token = header.replace(/^Bearer\s+/i, '');
      if (!verifyJwt(token, opts.jwtSecret)) return sendJson(res, 401, { code: 401, message: 'Invalid JWT' });
    }

    const worker = workerFor(name);
    /** @type {number} */
    let port;
    try {
      port = await worker.start();
    } catch (error) {
      return sendJson(res, 503, { code: 'BOOT_ERROR', message: `Function "${name}" failed to start`, detail: String(error.message).slice(0, 2000) });
    }
    proxy(req, res, { worker, port, path: `/${name}${match[2] ?? ''}${url.search}`, wallClockMs: opts.wallClockMs, log });
  });
  server.keepAliveTimeout = 65_000;

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, '127.0.0.1', resolve);
  });
  return {
    url: `http://127.0.0.1:${opts.port}`,
    /** Starts every function now rather than on its first request. */
    async warmUp() {
      const names = discoverFunctions(functionsDir);
      const results = await Promise.allSettled(names.map((n) => workerFor(n).start()));
      return results.map((r, i) => ({ name: names[i], ok: r.status === 'fulfilled', error: r.status === 'rejected' ? String(r.reason.message) : undefined }));
    },
    async close() {
      for (const worker of workers.values()) worker.stop();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

const hopByHopHeaders = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade']);

function proxy(req, res, { worker, port, path: targetPath, wallClockMs, log }) {
  const started = Date.now();
  const child = worker.child;
  const cpuBefore = child ? cpuMs(child.pid) : 0;
  let finished = false;

  const upstream = http.request({
    host: '127.0.0.1', port, method: req.method, path: targetPath,
    headers: { ...req.headers, 'x-forwarded-host': req.headers.host ?? '', 'x-forwarded-proto': 'http' },
  }, (upstreamRes) => {
    // Hop-by-hop headers describe the gateway-to-function connection, not the client's: a function that
    // answers before reading a large body says "connection: close", and passing that on would cut the
    // client off while it is still sending, so it would see a reset instead of the answer.
    const headers = Object.fromEntries(Object.entries(upstreamRes.headers).filter(([name]) => !hopByHopHeaders.has(name)));
    res.writeHead(upstreamRes.statusCode ?? 502, headers);
    upstreamRes.pipe(res);
    upstreamRes.once('end', drainRequest);
  });
  // What the function did not read of the body is read and dropped, so the client can finish sending.
  const drainRequest = () => {
    if (req.complete) return;
    req.unpipe(upstream);
    req.resume();
  };

  // Wall clock: the hosted runtime terminates the worker; so do we.
  const timer = setTimeout(() => {
    if (finished) return;
    log(`[gateway] ${worker.name}: wall clock limit of ${wallClockMs} ms reached; terminating the worker`);
    upstream.destroy();
    worker.stop();
    sendJson(res, 504, { code: 'WORKER_TIMEOUT', message: `Function exceeded the wall clock limit of ${wallClockMs} ms` });
  }, wallClockMs);

  const onWorkerExit = () => {
    if (finished) return;
    sendJson(res, 546, { code: 'WORKER_LIMIT', message: `Function worker stopped: ${worker.exitReason ?? 'unknown reason'}` });
  };
  child?.once('exit', onWorkerExit);

  upstream.on('error', () => {
    drainRequest();
    if (!finished && !res.headersSent) setTimeout(onWorkerExit, 50);
  });
  res.on('close', () => {
    finished = true;
    clearTimeout(timer);
    child?.off('exit', onWorkerExit);
    const cpu = child ? cpuMs(child.pid) - cpuBefore : 0;
    const note = cpu > 2000 ? ' (over the hosted 2 s CPU budget)' : '';
    log(`[gateway] ${req.method} /functions/v1${targetPath} ${res.statusCode} ${Date.now() - started}ms cpu≈${cpu}ms${note}`);
  });
  req.pipe(upstream);
}
