// The machine a benchmark ran on, written beside every figure: the numbers
// mean little without it.
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from '../stack/profiles.mjs';
import { run } from '../stack/run.mjs';

export function describeMachine() {
  const cpus = os.cpus();
  const deno = run(path.join(repoRoot, 'node_modules', '.bin', 'deno'), ['--version'], { allowFail: true });
  return {
    cpuModel: cpus[0]?.model?.trim() || 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    os: `${os.type()} ${os.release()} (${os.arch()})`,
    node: process.version,
    deno: deno.stdout?.split('\n')[0]?.replace(/^deno\s+/, '').trim() || 'unknown',
    loadAverageAtStart: os.loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

/** The load average now: other programs on the machine share its cores. */
export const loadAverage = () => os.loadavg().map((l) => Math.round(l * 100) / 100);
