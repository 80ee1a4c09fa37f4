/** Test helpers that run a simulator's `main.ts` under Deno, the way the stack starts it. */

import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach } from 'vitest';

const DENO = fileURLToPath(new URL('../../../node_modules/.bin/deno', import.meta.url));

export interface CliRun {
  child: ChildProcess;
  /** stdout and stderr so far. */
  output: () => string;
  exited: Promise<number | null>;
}

/** Starts `deno run -A <main> ...args`. */
export function runUnderDeno(main: URL, args: string[]): CliRun {
  const spawned = spawn(DENO, ['run', '-A', fileURLToPath(main), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  spawned.stdout!.on('data', (chunk) => (output += chunk));
  spawned.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => spawned.on('exit', resolve));
  return { child: spawned, output: () => output, exited };
}

/** A `run(args)` for one test file: each started process is stopped (SIGTERM) after its test. */
export function cliRunner(main: URL): (args: string[]) => CliRun {
  let child: ChildProcess | undefined;
  afterEach(() => {
    child?.kill('SIGTERM');
    child = undefined;
  });
  return (args) => {
    const started = runUnderDeno(main, args);
    child = started.child;
    return started;
  };
}

/** Polls `predicate` every 50 ms until it matches or `timeoutMs` has passed. */
export async function waitFor(predicate: () => RegExpMatchArray | null, timeoutMs: number): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const match = predicate();
    if (match) return match;
    if (Date.now() > deadline) throw new Error('timed out waiting for the simulator');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
