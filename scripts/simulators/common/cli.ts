/** Command-line helpers of the simulators' `main.ts`: shared options, number parsing, start and shutdown. */

import process from 'node:process';

/** The options every simulator takes; each adds its own and a `--port` default. */
export const COMMON_CLI_OPTIONS = {
  host: { type: 'string', default: '127.0.0.1' },
  token: { type: 'string', multiple: true },
  'latency-ms': { type: 'string' },
  seed: { type: 'string' },
  'seed-records': { type: 'string' },
  verbose: { type: 'boolean', default: false },
  help: { type: 'boolean', default: false },
} as const;

export function integer(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new Error(`--${name} must be a non-negative integer, got ${value}`);
  return Number(value);
}

export function positiveNumber(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!(parsed > 0)) throw new Error(`--${name} must be a positive number, got ${value}`);
  return parsed;
}

/**
 * `--seed-records`: `name=count` pairs, each name resolved by the simulator.
 * `expects` describes a pair in the error, e.g. `type=count pairs (contacts, ...)`.
 */
export function parseSeedSpec<Kind>(
  spec: string | undefined,
  resolve: (name: string) => Kind | undefined,
  expects: string,
): Array<[Kind, number]> {
  if (!spec) return [];
  return spec.split(',').filter(Boolean).map((part) => {
    const [name, count] = part.split('=');
    const kind = resolve(name ?? '');
    if (!kind || !/^\d+$/.test(count ?? '')) throw new Error(`--seed-records expects ${expects}, got ${part}`);
    return [kind, Number(count)];
  });
}

/** Closes the simulator and exits on SIGINT or SIGTERM. */
export function closeOnSignals(simulator: { close(): Promise<void> }): void {
  const shutdown = async () => {
    await simulator.close();
    process.exit(0);
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

/** Runs `main`, printing the message of an error and exiting with 1. */
export function runMain(main: () => Promise<void>): void {
  main().catch((error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
