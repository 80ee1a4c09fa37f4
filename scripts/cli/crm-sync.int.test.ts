// The crm-sync CLI as a user runs it: a child process against the test
// stack (SUPABASE_URL / SUPABASE_SERVICE_ROLE_KEY), with the HubSpot
// simulator as the account to connect.
import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHubSpotSimulator, type HubSpotSimulator } from '../simulators/hubspot/server.ts';
import { functionUrl, stackEnv } from '../../supabase/tests/integration/stack-env.ts';

const env = stackEnv();
const cliPath = path.join(path.dirname(fileURLToPath(import.meta.url)), 'crm-sync.mjs');
const sql = postgres(env.dbUrl, { max: 2, onnotice: () => {} });
const token = 'pat-na1-cli-test-token';
const clientSecret = 'cli-test-client-secret';
const portalId = 80_000_000 + Math.floor(Math.random() * 1_000_000);
let sim: HubSpotSimulator;
let tenantId: string;
let connectionId: string;

/** Runs the CLI with the test stack's project settings; resolves with its exit code and output. */
function crmSync(args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliPath, ...args], {
      env: { PATH: process.env.PATH, SUPABASE_URL: env.apiUrl, SUPABASE_SERVICE_ROLE_KEY: env.serviceRoleKey, ...extraEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A port nothing listens on (it was free a moment ago). */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

beforeAll(async () => {
  sim = await createHubSpotSimulator({ token, portalId, clientSecret, webhookUrl: functionUrl(env, 'hubspot-webhook') });
  [{ id: tenantId }] = await sql`insert into crm.tenants (name, slug) values ('CLI test', ${`cli-${portalId}`}) returning id`;
}, 60_000);

afterAll(async () => {
  if (tenantId) await sql`delete from crm.tenants where id = ${tenantId}`;
  await sql.end();
  await sim?.close();
});

describe('crm-sync against the stack', () => {
  it('connect hubspot connects the tenant and prints what to configure', async () => {
    const { code, stdout, stderr } = await crmSync(['connect', 'hubspot', '--tenant', tenantId, '--token', token,
      '--client-secret', clientSecret, '--base-url', sim.url, '--name', 'CLI test portal']);
    expect(code, stderr).toBe(0);
    expect(stdout).toMatch(new RegExp(`^connected HubSpot portal ${portalId} to tenant ${tenantId}\n`));
    expect(stdout).toMatch(/connection id: +[0-9a-f-]{36}/);
    expect(stdout).toContain('forge_local_id');
    expect(stdout).toContain(`webhook target URL:  ${functionUrl(env, 'hubspot-webhook')}`);
    expect(stdout).toMatch(/^ {4}contact\.creation$/m);
    connectionId = /connection id: +([0-9a-f-]{36})/.exec(stdout)![1];
    const [row] = await sql`select tenant_id, account_id, display_name, enabled from sync.connections where id = ${connectionId}`;
    expect(row).toEqual({ tenant_id: tenantId, account_id: String(portalId), display_name: 'CLI test portal', enabled: true });
  });

  it('connecting again with --json updates the same connection and prints JSON only', async () => {
    const { code, stdout, stderr } = await crmSync(['connect', 'hubspot', '--json', '--tenant', tenantId, '--base-url', sim.url],
      { HUBSPOT_ACCESS_TOKEN: token, HUBSPOT_CLIENT_SECRET: clientSecret });
    expect(code, stderr).toBe(0);
    const result = JSON.parse(stdout);
    expect(result).toMatchObject({ connection_id: connectionId, provider: 'hubspot', account_id: String(portalId) });
    expect(result.properties.propertiesCreated).toEqual([]);
    expect(result.webhook.subscriptions).toContain('contact.propertyChange');
  });

  it('a wrong token fails with HubSpot\'s refusal, a hint and exit 1', async () => {
    const { code, stdout, stderr } = await crmSync(['connect', 'hubspot', '--tenant', tenantId, '--token', 'pat-na1-wrong-token',
      '--client-secret', clientSecret, '--base-url', sim.url]);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/^error: HubSpot refused the access token: HubSpot 401/m);
    expect(stderr).toMatch(/^ {2}how to fix: check the access token/m);
  });

  it('an unknown tenant is the function\'s 404 message', async () => {
    const { code, stderr } = await crmSync(['connect', 'hubspot', '--json', '--tenant', '00000000-0000-4000-8000-0000000dead0',
      '--token', token, '--client-secret', clientSecret, '--base-url', sim.url]);
    expect(code).toBe(1);
    expect(JSON.parse(stderr).error).toMatchObject({ code: 'not_found', status: 404, message: expect.stringMatching(/tenant .* does not exist/) });
  });

  it('connections lists the tenant\'s connections', async () => {
    const text = await crmSync(['connections', '--tenant', tenantId]);
    expect(text.code, text.stderr).toBe(0);
    // Connecting again without --name gave it the default name.
    expect(text.stdout, text.stdout).toMatch(new RegExp(`^${connectionId} +hubspot +${portalId} +HubSpot ${portalId} +enabled +\\d{4}-\\d\\d-\\d\\d `, 'm'));
    const json = await crmSync(['connections', '--json', '--tenant', tenantId]);
    expect(JSON.parse(json.stdout).connections).toEqual([expect.objectContaining({ id: connectionId, enabled: true })]);
  });

  it('worker runs one drain and prints its report', async () => {
    const { code, stdout, stderr } = await crmSync(['worker', '--json', '--budget-ms', '3000']);
    expect(code, stderr).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ inbound: expect.any(Object), outbound: expect.any(Object), moreWork: expect.any(Boolean) });
  });

  it('disconnect disables the connection and keeps it listed', async () => {
    const { code, stdout, stderr } = await crmSync(['disconnect', connectionId]);
    expect(code, stderr).toBe(0);
    expect(stdout).toBe(`disconnected ${connectionId}: sync stopped, synced records kept\n`);
    const list = await crmSync(['connections', '--json', '--tenant', tenantId]);
    expect(JSON.parse(list.stdout).connections).toEqual([expect.objectContaining({ id: connectionId, enabled: false })]);
  });

  it('disconnecting a connection that does not exist fails with the function\'s message', async () => {
    const { code, stderr } = await crmSync(['disconnect', '00000000-0000-4000-8000-0000000dead0']);
    expect(code).toBe(1);
    expect(stderr).toMatch(/^error: connection 00000000-0000-4000-8000-0000000dead0 does not exist/m);
  });

  it('a wrong key is refused by the gateway with a hint', async () => {
    const { code, stderr } = await crmSync(['connections', '--tenant', tenantId], { SUPABASE_SERVICE_ROLE_KEY: env.anonKey });
    expect(code).toBe(1);
    expect(stderr).toMatch(/^error: connections are managed with the service role key/m);
    expect(stderr).toMatch(/how to fix: use the service_role key/);
  });

  it('a stack that is not there is named, with what to do', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const { code, stderr } = await crmSync(['connections', '--tenant', tenantId], { SUPABASE_URL: url });
    expect(code).toBe(1);
    expect(stderr).toBe(`error: cannot reach ${url} (ECONNREFUSED)\n  how to fix: check SUPABASE_URL and your network\n`);
  });
});
