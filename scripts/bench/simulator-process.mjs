// A CRM simulator as its own Deno process (scripts/simulators/<crm>/main.ts),
// so the load the benchmark generates in Node and the simulator's work do
// not share one event loop. Its control API (/_sim/...) is the benchmark's
// (and the convergence simulation's) window into the CRM: records, request
// log, counters, limits.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../stack/profiles.mjs';

const denoBin = path.join(repoRoot, 'node_modules', '.bin', 'deno');
const mainScript = (crm) => path.join(repoRoot, 'scripts', 'simulators', crm, 'main.ts');

/**
 * Starts a HubSpot simulator on a free port. Resolves with { url, control(), stop() }
 * once it listens.
 * @param {{ name: string, logDir: string, tokens: string[], portalId: number, appId: number,
 *           clientSecret: string, webhookUrl?: string, rateLimit: number, heapMb?: number }} options
 */
export function startSimulator(options) {
  return startSimulatorProcess({ ...options, label: 'HubSpot', script: mainScript('hubspot'), args: [
    '--portal-id', String(options.portalId), '--app-id', String(options.appId),
    '--client-secret', options.clientSecret, '--rate-limit', String(options.rateLimit),
    ...options.tokens.flatMap((token) => ['--token', token]),
    ...(options.webhookUrl ? ['--webhook-url', options.webhookUrl] : []),
  ] });
}

/**
 * Starts a Pipedrive simulator (one company) on a free port, like
 * startSimulator. Webhooks go where the subscriptions made on connecting
 * point. `seed` picks its fake data and field keys (the simulator's default: 1).
 * @param {{ name: string, logDir: string, token: string, companyId: number, rateLimit: number, seed?: number,
 *           dailyBudget?: number, webhookTimeScale?: number }} options
 */
export function startPipedriveSimulator(options) {
  return startSimulatorProcess({ ...options, label: 'Pipedrive', script: mainScript('pipedrive'), args: [
    '--token', options.token, '--company-id', String(options.companyId), '--rate-limit', String(options.rateLimit),
    ...(options.seed === undefined ? [] : ['--seed', String(options.seed)]),
    ...(options.dailyBudget === undefined ? [] : ['--daily-budget', String(options.dailyBudget)]),
    ...(options.webhookTimeScale === undefined ? [] : ['--webhook-time-scale', String(options.webhookTimeScale)]),
  ] });
}

/** @param {{ name: string, label: string, logDir: string, script: string, args: string[], heapMb?: number }} options */
async function startSimulatorProcess(options) {
  // A simulator holding a million records needs more than V8's default heap.
  const heap = options.heapMb ? [`--v8-flags=--max-old-space-size=${options.heapMb}`] : [];
  const args = ['run', '--no-prompt', '--config', path.join(repoRoot, 'deno.json'), ...heap, '-A', options.script, '--port', '0', ...options.args];
  fs.mkdirSync(options.logDir, { recursive: true });
  const logStream = fs.createWriteStream(path.join(options.logDir, `simulator-${options.name}.log`), { flags: 'a' });
  const child = spawn(denoBin, args, { cwd: repoRoot, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.pipe(logStream, { end: false });
  child.stderr.pipe(logStream, { end: false });

  const url = await new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`the ${options.name} ${options.label} simulator did not start within 60 s:\n${seen}`)), 60_000);
    child.stdout.on('data', (chunk) => {
      seen += chunk;
      const match = seen.match(/listening on (http:\/\/\S+)/);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.stderr.on('data', (chunk) => { seen += chunk; });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the ${options.name} ${options.label} simulator exited with code ${code}:\n${seen}`));
    });
  });

  /** Calls the control API; throws on a non-2xx answer. */
  async function control(method, route, body) {
    const res = await fetch(`${url}/_sim${route}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} /_sim${route} → ${res.status}: ${text.slice(0, 500)}`);
    return text ? JSON.parse(text) : null;
  }

  return {
    name: options.name,
    url,
    control,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 3_000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      logStream.end();
    },
  };
}
