import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeConnection, describePipedriveConnection } from './commands/connect.mjs';
import { describeConnections } from './commands/connections.mjs';
import { describeWorkerReport } from './commands/worker.mjs';
import { commands, runCli } from './program.mjs';

const tenant = '00000000-0000-4000-8000-00000000a001';

async function cli(argv: string[], env: NodeJS.ProcessEnv = {}) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, { out: (t: string) => (stdout += t), err: (t: string) => (stderr += t), env });
  return { code, stdout, stderr };
}

describe('help and usage', () => {
  it('prints the tool help with every command', async () => {
    const { code, stdout } = await cli(['--help']);
    expect(code).toBe(0);
    const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    for (const command of commands) expect(stdout).toMatch(new RegExp(`^  ${command.name} +${escape(command.summary)}$`, 'm'));
    expect(stdout).toContain('SUPABASE_SERVICE_ROLE_KEY');
  });

  it('prints each command\'s help, as --help or through "help"', async () => {
    for (const command of commands) {
      const direct = await cli([command.name, '--help']);
      expect(direct.code).toBe(0);
      expect(direct.stdout).toMatch(new RegExp(`^Usage: crm-sync ${command.name}`));
      expect((await cli(['help', command.name])).stdout).toBe(direct.stdout);
    }
  });

  it('shows the help on stderr with exit 2 when no command is given', async () => {
    const { code, stdout, stderr } = await cli([]);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/^crm-sync: /);
  });

  it('refuses an unknown command or option with exit 2 and a pointer to help', async () => {
    expect(await cli(['sync-everything'])).toMatchObject({
      code: 2,
      stderr: 'error: unknown command "sync-everything"\n  how to fix: crm-sync --help lists the commands (connect, disconnect, connections, worker, backfill, sync, reconcile, status, jobs, cancel, resume)\n',
    });
    expect((await cli(['--verbose', 'worker'])).code).toBe(2);
  });

  it('reports usage errors as JSON on stderr with --json', async () => {
    const { code, stdout, stderr } = await cli(['connections', '--json', '--tenant', 'acme']);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(JSON.parse(stderr).error).toMatchObject({ code: 'usage', message: '--tenant must be a uuid, got "acme"' });
  });

  it('prints the version', async () => {
    expect((await cli(['--version'])).stdout).toMatch(/^crm-sync \d+\.\d+\.\d+\n$/);
  });
});

describe('against a functions endpoint', () => {
  // A stand-in for the project's functions: records requests, answers as told.
  const requests: Array<{ method: string; url: string; authorization?: string; body: string }> = [];
  let answer: { status: number; body: unknown } = { status: 200, body: {} };
  let server: http.Server;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        requests.push({ method: req.method!, url: req.url!, authorization: req.headers.authorization, body });
        res.writeHead(answer.status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(answer.body));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    env = { SUPABASE_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, SUPABASE_SERVICE_ROLE_KEY: 'service-key' };
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  it('connect posts the request with the service key and prints the result', async () => {
    const result = {
      connection_id: '11111111-2222-4333-8444-555555555555',
      provider: 'hubspot',
      account_id: '62515001',
      properties: { groupsCreated: ['contacts.forge'], propertiesCreated: ['contacts.forge_local_id'] },
      webhook: { target_url: 'http://127.0.0.1:54321/functions/v1/hubspot-webhook', subscriptions: ['contact.creation', 'contact.deletion'], how: 'Set these.' },
    };
    answer = { status: 201, body: result };
    const { code, stdout } = await cli(['connect', 'hubspot', '--tenant', tenant, '--token', 'pat-na1-token', '--client-secret', 'secret-1234', '--base-url', 'http://127.0.0.1:54340'], env);
    expect(code).toBe(0);
    const request = requests.at(-1)!;
    expect(request).toMatchObject({ method: 'POST', url: '/functions/v1/connections', authorization: 'Bearer service-key' });
    expect(JSON.parse(request.body)).toEqual({ tenant_id: tenant, provider: 'hubspot', access_token: 'pat-na1-token', client_secret: 'secret-1234', api_base_url: 'http://127.0.0.1:54340' });
    expect(stdout).toBe(`${describeConnection(result, tenant).join('\n')}\n`);
    expect(stdout).toContain('contact.creation');

    const json = await cli(['connect', 'hubspot', '--json', '--tenant', tenant, '--token', 'pat-na1-token', '--client-secret', 'secret-1234'], env);
    expect(JSON.parse(json.stdout)).toEqual(result);
  });

  it('connect with a public app\'s refresh token and client id instead of a token', async () => {
    answer = { status: 201, body: { connection_id: '11111111-2222-4333-8444-555555555555', provider: 'hubspot', account_id: '1', properties: {}, webhook: { configured: true } } };
    const { code } = await cli(['connect', 'hubspot', '--tenant', tenant, '--refresh-token', 'refresh-1234', '--client-id', 'client-1',
      '--client-secret', 'secret-1234'], env);
    expect(code).toBe(0);
    expect(JSON.parse(requests.at(-1)!.body)).toEqual({
      tenant_id: tenant, provider: 'hubspot', refresh_token: 'refresh-1234', client_id: 'client-1', client_secret: 'secret-1234',
    });
    const both = await cli(['connect', 'hubspot', '--tenant', tenant, '--token', 'pat-1', '--refresh-token', 'refresh-1234', '--client-id', 'c',
      '--client-secret', 'secret-1234'], env);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('give --token (a private app) or --refresh-token with --client-id');
    const noClient = await cli(['connect', 'hubspot', '--tenant', tenant, '--refresh-token', 'refresh-1234', '--client-secret', 'secret-1234'], env);
    expect(noClient.code).toBe(2);
    expect(noClient.stderr).toContain('--refresh-token needs --client-id');
  });

  it('connect pipedrive posts the API token and prints the company, fields and subscriptions', async () => {
    const result = {
      connection_id: '11111111-2222-4333-8444-555555555555',
      provider: 'pipedrive',
      account_id: '4100001',
      fields_created: ['person.stage'],
      value_maps: 12,
      webhook: { target_url: 'http://127.0.0.1:54321/functions/v1/pipedrive-webhook', subscriptions: ['*.person', '*.deal'], created: 2 },
    };
    answer = { status: 201, body: result };
    const { code, stdout } = await cli(['connect', 'pipedrive', '--tenant', tenant, '--api-token', 'pd-token-123456', '--base-url', 'http://127.0.0.1:54391'], env);
    expect(code).toBe(0);
    expect(JSON.parse(requests.at(-1)!.body)).toEqual({ tenant_id: tenant, provider: 'pipedrive', api_token: 'pd-token-123456', api_base_url: 'http://127.0.0.1:54391' });
    expect(stdout).toBe(`${describePipedriveConnection(result, tenant).join('\n')}\n`);
    expect(stdout).toContain('company id:');
    expect(stdout).toContain('person.stage');
  });

  it('connect pipedrive without an API token is a usage error', async () => {
    const before = requests.length;
    const { code, stderr } = await cli(['connect', 'pipedrive', '--tenant', tenant], env);
    expect(code).toBe(2);
    expect(stderr).toContain('missing --api-token');
    expect(requests.length).toBe(before);
  });

  it('a function error becomes its message, a hint and exit 1', async () => {
    answer = { status: 422, body: { error: { code: 'invalid_credentials', message: 'HubSpot refused the access token: HubSpot 401' } } };
    const text = await cli(['connect', 'hubspot', '--tenant', tenant, '--token', 'pat-wrong', '--client-secret', 'secret-1234'], env);
    expect(text.code).toBe(1);
    expect(text.stderr).toMatch(/^error: HubSpot refused the access token: HubSpot 401\n  how to fix: check the access token/m);
    const json = await cli(['connect', 'hubspot', '--json', '--tenant', tenant, '--token', 'pat-wrong', '--client-secret', 'secret-1234'], env);
    expect(json.code).toBe(1);
    expect(json.stdout).toBe('');
    expect(JSON.parse(json.stderr).error).toMatchObject({ code: 'invalid_credentials', status: 422 });
  });

  it('connections lists with GET ?tenant_id=', async () => {
    const rows = [{ id: '11111111-2222-4333-8444-555555555555', provider: 'hubspot', account_id: '62515001', display_name: 'HubSpot simulator', enabled: true, created_at: '2026-11-25T18:00:00.000Z' }];
    answer = { status: 200, body: { connections: rows } };
    const { code, stdout } = await cli(['connections', '--tenant', tenant], env);
    expect(code).toBe(0);
    expect(requests.at(-1)).toMatchObject({ method: 'GET', url: `/functions/v1/connections?tenant_id=${tenant}` });
    expect(stdout.split('\n')[0]).toMatch(/^ID +PROVIDER +ACCOUNT +NAME +STATUS +CREATED$/);
    expect(stdout).toContain('hubspot   62515001  HubSpot simulator  enabled  2026-11-25 18:00:00');
    answer = { status: 200, body: { connections: [{ ...rows[0], auth_status: 'needs_reauth' }] } };
    expect((await cli(['connections', '--tenant', tenant], env)).stdout).toContain('HubSpot simulator  needs re-auth');
  });

  it('disconnect sends DELETE /connections/<id>', async () => {
    const id = '11111111-2222-4333-8444-555555555555';
    answer = { status: 200, body: { connection_id: id, enabled: false, data: 'kept' } };
    const { code, stdout } = await cli(['disconnect', id], env);
    expect(code).toBe(0);
    expect(requests.at(-1)).toMatchObject({ method: 'DELETE', url: `/functions/v1/connections/${id}` });
    expect(stdout).toBe(`disconnected ${id}: sync stopped, synced records kept\n`);
  });

  it('worker posts a drain and prints the report', async () => {
    const report = {
      batches: 1,
      inbound: { fetched: 2, created: 1, updated: 1, deleted: 0, stale: 0, merged: 0, erased: 0, conflicts: 0 },
      outbound: { created: 0, updated: 1, archived: 0, unchanged: 0, waiting: 0, failed: 0 },
      retried: 0, deadLettered: 0, paused: [], moreWork: false, elapsedMs: 1234,
    };
    answer = { status: 200, body: report };
    const { code, stdout } = await cli(['worker', '--budget-ms', '5000'], env);
    expect(code).toBe(0);
    expect(JSON.parse(requests.at(-1)!.body)).toEqual({ reason: 'crm-sync cli', budget_ms: 5000 });
    expect(stdout).toBe(`${describeWorkerReport(report).join('\n')}\n`);
    expect(stdout).toMatch(/^sync-worker ran 1\.2 s, 1 batch\n  inbound:  fetched 2, created 1/);
  });
});

describe('text reports', () => {
  it('says when a tenant has no connections', () => {
    expect(describeConnections([], tenant)).toEqual([`no connections for tenant ${tenant} (crm-sync connect hubspot --help)`]);
  });
});
