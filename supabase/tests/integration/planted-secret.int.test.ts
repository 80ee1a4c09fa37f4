// Credentials live only in Vault. A distinctive secret is planted as the
// credentials of two connections (a private app token, and a public app's
// refresh and access tokens); connecting with a wrong token, syncing both
// ways, 401s, retries and dead letters run against it; then every table of
// every schema (Vault's encrypted store aside), the queues, the audit trail,
// the alerts, every error message the functions answered and the stack's
// logs (functions and Postgres) are searched for it: no hit.
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HubSpotSyncHarness, startHubSpotSync } from './hubspot-sync-harness.ts';
import { functionUrl } from './stack-env.ts';
import { columnsHolding } from './trace-scan.ts';

const secret = `pat-na1-planted-${randomUUID()}`;
const oauthClientId = 'planted-oauth-client';
let privateApp: HubSpotSyncHarness;
let publicApp: HubSpotSyncHarness;
/** Every secret the test plants or the simulator issues. */
const secrets = [secret];
/** Every response body the functions gave. */
const answers: string[] = [];

beforeAll(async () => {
  privateApp = await startHubSpotSync('secret', { tokens: [secret] }, async () => ({ access_token: secret }));
  publicApp = await startHubSpotSync('secret-oauth', { clientId: oauthClientId }, async (sim) => {
    const res = await fetch(`${sim.url}/_sim/oauth/installs`, { method: 'POST' });
    const install = await res.json();
    secrets.push(install.refresh_token, install.access_token);
    return { refresh_token: install.refresh_token, client_id: oauthClientId };
  });
}, 60_000);

afterAll(async () => {
  await privateApp?.close();
  await publicApp?.close();
});

async function call(hs: HubSpotSyncHarness, name: string, body: unknown) {
  const res = await fetch(functionUrl(hs.env, name), {
    method: 'POST',
    headers: { authorization: `Bearer ${hs.env.serviceRoleKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  answers.push(text);
  return { status: res.status, text };
}

describe('a planted secret', () => {
  it('is refused without being echoed when it is wrong', async () => {
    const wrong = `${secret}-wrong`;
    secrets.push(wrong);
    const res = await call(privateApp, 'connections', {
      tenant_id: privateApp.tenantId, provider: 'hubspot', access_token: wrong, client_secret: 'integration-client-secret',
      api_base_url: privateApp.sim.url,
    });
    expect(res.status).toBe(422);
    expect(res.text).toContain('invalid_credentials');
  });

  it('syncs both ways, then meets 401s, retries and dead letters', async () => {
    for (const hs of [privateApp, publicApp]) {
      const remote = await hs.control('POST', '/objects/contacts', { properties: { email: `in-${hs.portalId}@secret.example` } });
      const [{ id }] = await hs.sql`insert into crm.contacts (tenant_id, email) values (${hs.tenantId}, ${`out-${hs.portalId}@secret.example`})
                                    returning id`;
      await hs.until('both directions', async () => {
        answers.push(JSON.stringify(await hs.drain()));
        const inbound = await hs.sql`select 1 from sync.identity_map where connection_id = ${hs.connectionId} and remote_id = ${remote.id}`;
        return inbound.length > 0 && await hs.simByLocalId('contacts', id);
      });
      await hs.settle();

      // HubSpot fails: retried with the error kept on the message, then dead-lettered.
      await hs.control('POST', '/faults', { mode: 'error', status: 503, count: 50, pathPrefix: '/crm/' });
      // One transaction: a worker run kicked meanwhile (an earlier webhook) must not find the message before the change it sends.
      await hs.sql.begin(async (tx) => {
        await tx`update crm.contacts set first_name = 'Retried' where id = ${id}`;
        await tx`select pgmq.send('crm_outbound', ${tx.json({ connection_id: hs.connectionId, entity_type: 'contact', local_id: id,
                                                               op: 'upsert', attempt: 7 })})`;
      });
      await hs.until('a dead letter', async () => {
        answers.push(JSON.stringify(await hs.drain()));
        return (await hs.sql`select error from sync.dead_letters where connection_id = ${hs.connectionId}`).length > 0;
      });
      await hs.control('DELETE', '/faults');
    }

    // The private app's token stops working (401): needs_reauth with an alert.
    const [{ secret_id }] = await privateApp.sql`select secret_id from sync.connections where id = ${privateApp.connectionId}`;
    expect(secret_id).not.toBeNull();
    await privateApp.sql`update crm.contacts set last_name = 'Unauthorized' where tenant_id = ${privateApp.tenantId}`;
    privateApp.sim.state.options.tokens.splice(0);
    // The public app is uninstalled and its token expired: the refresh is refused.
    await publicApp.control('POST', '/oauth/revoke');
    await publicApp.sql`select sync.set_connection_credentials(${publicApp.connectionId},
                          sync.connection_credentials(${publicApp.connectionId}) || '{"expires_at": "2000-01-01T00:00:00Z"}')`;
    await publicApp.sql`update crm.contacts set last_name = 'Refused' where tenant_id = ${publicApp.tenantId}`;
    for (const hs of [privateApp, publicApp]) {
      await hs.until('the connection to need re-authorization', async () => {
        answers.push(JSON.stringify(await hs.drain()));
        return (await hs.sql`select auth_status from sync.connections where id = ${hs.connectionId}`)[0].auth_status === 'needs_reauth';
      });
      expect((await hs.sql`select message from sync.alerts where connection_id = ${hs.connectionId}`).length).toBe(1);
    }
    const [{ credentials }] = await publicApp.sql`select sync.connection_credentials(${publicApp.connectionId}) as credentials`;
    secrets.push(credentials.access_token, credentials.refresh_token);
  }, 90_000);

  it('is in no table, queue, audit entry, alert, answer or log', async () => {
    const planted = [...new Set(secrets)];
    expect(planted.length).toBeGreaterThanOrEqual(4);
    // Vault's own table holds them encrypted; its decrypted view is the one way in (service role only).
    const hits = (await columnsHolding(privateApp.sql, planted)).filter((c) => !c.startsWith('vault.secrets.'));
    expect(hits).toEqual([]);
    const [{ decrypted }] = await privateApp.sql`select count(*)::int as decrypted from vault.decrypted_secrets
                                                  where decrypted_secret like ${`%${secret}%`}`;
    expect(decrypted).toBe(1);
    for (const answer of answers) for (const s of planted) expect(answer).not.toContain(s);

    const logDir = process.env.CRM_SYNC_LOG_DIR;
    expect(logDir, 'npm test sets CRM_SYNC_LOG_DIR').toBeTruthy();
    const logs = fs.readdirSync(logDir!).filter((f) => f.endsWith('.log'));
    expect(logs).toEqual(expect.arrayContaining(['postgres.log', 'services.log']));
    for (const file of logs) {
      const text = fs.readFileSync(path.join(logDir!, file), 'utf8');
      expect(text.length, file).toBeGreaterThan(0);
      for (const s of planted) expect(text.includes(s), `${file} holds a planted secret`).toBe(false);
    }
  });
});
