/** Runs the command-line entry point under Deno, the way the stack starts it. */

import { describe, expect, it } from 'vitest';
import { cliRunner, waitFor } from '../common/cli-test-support.ts';

const run = cliRunner(new URL('./main.ts', import.meta.url));

describe('main.ts under Deno', () => {
  it('prints usage for --help', async () => {
    const started = run(['--help']);
    expect(await started.exited).toBe(0);
    expect(started.output()).toContain('--daily-budget');
    expect(started.output()).toContain('--seed-records');
  }, 30_000);

  it('starts, seeds, serves both API versions with the given token and logs requests with --verbose', async () => {
    const started = run([
      '--port',
      '0',
      '--token',
      'cli-token',
      '--company-id',
      '4242',
      '--rate-limit',
      '3',
      '--daily-budget',
      '500',
      '--seed-records',
      'organizations=2,persons=3,notes=2',
      '--verbose',
    ]);
    const [, url] = await waitFor(() => started.output().match(/listening on (http:\/\/[\d.]+:\d+)/), 20_000);
    const headers = { 'x-api-token': 'cli-token' };
    const me = await (await fetch(`${url}/v1/users/me`, { headers })).json();
    expect(me.data).toMatchObject({ company_id: 4242, company_domain: 'sim-4242' });
    const persons = await fetch(`${url}/api/v2/persons`, { headers });
    expect(persons.headers.get('x-ratelimit-limit')).toBe('3');
    expect((await persons.json()).data).toHaveLength(3);
    expect((await (await fetch(`${url}/v1/notes`, { headers })).json()).data).toHaveLength(2);
    expect((await fetch(`${url}/api/v2/persons`, { headers })).status).toBe(429);
    expect((await fetch(`${url}/api/v2/persons`)).status).toBe(401);
    const counters = await (await fetch(`${url}/_sim/counters`)).json();
    expect(counters.tokens).toMatchObject({ dailyBudget: 500, spentToday: 32 });
    await waitFor(() => started.output().match(/GET \/api\/v2\/persons -> 401/), 5_000);
  }, 30_000);

  it('rejects bad options', async () => {
    const started = run(['--seed-records', 'widgets=2']);
    expect(await started.exited).toBe(1);
    expect(started.output()).toContain('--seed-records expects entity=count pairs');
  }, 30_000);
});
