/** Runs the command-line entry point under Deno, as `deno run -A main.ts` is how the stack starts it. */

import { describe, expect, it } from 'vitest';
import { cliRunner, waitFor } from '../common/cli-test-support.ts';

const run = cliRunner(new URL('./main.ts', import.meta.url));

describe('main.ts under Deno', () => {
  it('prints usage for --help', async () => {
    const started = run(['--help']);
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
