// Running external commands: captured output for checks, inherited output for
// long installs, and the Postgres binaries as their own OS user when root.
import { spawn, spawnSync } from 'node:child_process';
import { StackError } from './log.mjs';

export const pgBin = '/usr/lib/postgresql/15/bin';
export const dbOsUser = 'postgres';
export const isRoot = process.getuid?.() === 0;

/**
 * Runs a command to completion and returns its output; throws a StackError
 * that shows stderr when it fails.
 * @param {string} cmd @param {string[]} args
 * @param {{ cwd?: string, env?: NodeJS.ProcessEnv, input?: string, allowFail?: boolean, what?: string }} [opts]
 */
export function run(cmd, args, opts = {}) {
  const result = spawnSync(cmd, args, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    input: opts.input,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.error) {
    throw new StackError(`${opts.what ?? cmd} could not be run: ${result.error.message}`);
  }
  if (result.status !== 0 && !opts.allowFail) {
    const output = `${result.stdout ?? ''}${result.stderr ?? ''}`.trim();
    throw new StackError(`${opts.what ?? `${cmd} ${args.join(' ')}`} failed (exit ${result.status}):\n${output}`);
  }
  return result;
}

/** Runs a command with its output shown live; resolves with the exit code. */
export function runLive(cmd, args, opts = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: 'inherit', ...opts });
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

/** Runs a Postgres binary as the cluster's OS user (initdb refuses root). */
export function runPg(binary, args, opts = {}) {
  const full = `${pgBin}/${binary}`;
  if (!isRoot) return run(full, args, opts);
  return run('runuser', ['-u', dbOsUser, '--', full, ...args], opts);
}
