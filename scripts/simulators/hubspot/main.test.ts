/** Runs the command-line entry point under Deno, as `deno run -A main.ts` is how the stack starts it. */

import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const DENO = fileURLToPath(new URL('../../../node_modules/.bin/deno', import.meta.url));
const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));

let child: ChildProcess | undefined;

afterEach(() => {
  child?.kill('SIGTERM');
  child = undefined;
});

function run(args: string[]): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const spawned = spawn(DENO, ['run', '-A', MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  spawned.stdout!.on('data', (chunk) => (output += chunk));
  spawned.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => spawned.on('exit', resolve));
  return { child: spawned, output: () => output, exited };
}

async function waitFor(predicate: () => RegExpMatchArray | null, timeoutMs: number): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const match = predicate();
    if (match) return match;
    if (Date.now() > deadline) throw new Error('timed out waiting for the simulator to start');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('main.ts under Deno', () => {
  it('prints usage for --help', async () => {
    const started = run(['--help']);
    child = started.child;
    expect(await started.exited).toBe(0);
    expect(started.output()).toContain('--webhook-url');
  }, 30_000);

  it('starts, seeds, serves the API with the given token and logs requests with --verbose', async () => {
    const started = run([
      '--port',
      '0',
      '--token',
      'cli-token',
      '--portal-id',
      '777',
      '--seed-records',
      'companies=2,contacts=3',
      '--verbose',
    ]);
    child = started.child;
    const [, url] = await waitFor(() => started.output().match(/listening on (http:\/\/[\d.]+:\d+)/), 20_000);
    const headers = { Authorization: 'Bearer cli-token' };
    const details = await fetch(`${url}/account-info/v3/details`, { headers });
    expect(await details.json()).toMatchObject({ portalId: 777 });
    const contacts = await (await fetch(`${url}/crm/v3/objects/contacts?associations=companies`, { headers })).json();
    expect(contacts.results).toHaveLength(3);
    expect(contacts.results[0].associations.companies.results).toHaveLength(1);
    expect((await fetch(`${url}/crm/v3/objects/contacts`)).status).toBe(401);
    await waitFor(() => started.output().match(/GET \/crm\/v3\/objects\/contacts -> 401/), 5_000);
  }, 30_000);
});
