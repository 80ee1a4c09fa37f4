// A HubSpot public (OAuth) app end to end against the simulator's token
// endpoint: the connect fetches the first access token; a token near expiry
// is refreshed before use and written back to Vault; a revoked app (401) or
// a refused refresh token (BAD_REFRESH_TOKEN) marks the connection
// needs_reauth, pauses it with its queued changes kept and raises an alert;
// connecting again with a new install resumes it and drains the queue.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { oauthAccessToken } from '../../functions/_shared/providers/hubspot/oauth.ts';
import { createSyncDb } from '../../functions/_shared/sync/sync-db.ts';
import { type HubSpotSyncHarness, startHubSpotSync } from './hubspot-sync-harness.ts';
import { functionUrl } from './stack-env.ts';

let hs: HubSpotSyncHarness;
const clientId = 'integration-oauth-client';

async function install(sim: HubSpotSyncHarness['sim']) {
  const res = await fetch(`${sim.url}/_sim/oauth/installs`, { method: 'POST' });
  const body = await res.json();
  return { refresh_token: body.refresh_token as string, client_id: clientId };
}

beforeAll(async () => {
  hs = await startHubSpotSync('oauth', { clientId, accessTokenTtlSeconds: 1800 }, install);
}, 60_000);

afterAll(async () => {
  await hs?.close();
});

const credentials = async () =>
  (await hs.sql`select sync.connection_credentials(${hs.connectionId}) as c`)[0].c as Record<string, string>;
const connection = async () =>
  (await hs.sql`select auth_status from sync.connections where id = ${hs.connectionId}`)[0].auth_status as string;
const openAlerts = async () =>
  await hs.sql`select kind, message from sync.alerts where connection_id = ${hs.connectionId} and resolved_at is null`;

/** Makes the stored access token look (and in the simulator, be) expired. */
async function expireAccessToken() {
  await hs.sql`select sync.set_connection_credentials(${hs.connectionId},
                 sync.connection_credentials(${hs.connectionId}) || jsonb_build_object('expires_at', now() - interval '1 minute'))`;
  await hs.control('PUT', '/clock', { advanceMs: 31 * 60_000 });
}

/**
 * Drains until the connection is marked. The insert also kicks a worker run
 * (pg_net) that may claim the change before the test's own run does; either
 * run marks it.
 */
async function untilNeedsReauth() {
  await hs.until('the connection to be marked needs_reauth', async () => {
    await hs.drain();
    return (await connection()) === 'needs_reauth';
  });
}

async function localContact(email: string): Promise<string> {
  const [{ id }] = await hs.sql`insert into crm.contacts (tenant_id, email, first_name) values (${hs.tenantId}, ${email}, 'OAuth')
                                returning id`;
  return id;
}

describe('a HubSpot public app', () => {
  it('connects with a refresh token: the first access token is fetched and kept in Vault', async () => {
    const stored = await credentials();
    expect(stored).toMatchObject({ client_id: clientId, refresh_token: expect.stringMatching(/^sim-refresh-/) });
    expect(stored.access_token).toMatch(/^sim-oauth-/);
    expect(Date.parse(stored.expires_at)).toBeGreaterThan(Date.now() + 25 * 60_000);
    expect((await hs.control('GET', '/oauth')).refreshes).toBe(1);
  });

  it('refreshes an access token near expiry before using it, once, and writes it back', async () => {
    const before = await credentials();
    await expireAccessToken();
    const id = await localContact('refresh@oauth.example');
    await hs.until('the contact to reach HubSpot', async () => {
      await hs.drain();
      return await hs.simByLocalId('contacts', id);
    });
    const after = await credentials();
    expect(after.access_token).not.toBe(before.access_token);
    expect(after.refresh_token).toBe(before.refresh_token);
    expect(Date.parse(after.expires_at)).toBeGreaterThan(Date.now() + 25 * 60_000);
    expect((await hs.control('GET', '/oauth')).refreshes).toBe(2);
    expect(await connection()).toBe('active');
  });

  it('lets one of many concurrent workers refresh; the others use its token', async () => {
    await hs.quiesce(); // no worker run kicked by earlier webhooks refreshes meanwhile
    await expireAccessToken();
    const before = (await hs.control('GET', '/oauth')).refreshes;
    const db = createSyncDb(hs.sql);
    const stale = await credentials();
    const tokens = await Promise.all([1, 2, 3, 4].map(() => oauthAccessToken(db, hs.connectionId, stale, hs.sim.url)));
    expect(new Set(tokens).size).toBe(1);
    expect(tokens[0]).not.toBe(stale.access_token);
    expect((await credentials()).access_token).toBe(tokens[0]);
    expect((await hs.control('GET', '/oauth')).refreshes).toBe(before + 1);
  });

  it('marks the connection needs_reauth when the app is revoked, keeping its queued changes', async () => {
    await hs.quiesce();
    await hs.control('POST', '/oauth/revoke');
    const id = await localContact('revoked@oauth.example');
    await untilNeedsReauth();
    expect(await openAlerts()).toEqual([{ kind: 'needs_reauth', message: expect.stringContaining('401') }]);
    expect(await hs.queued('crm_outbound')).toBeGreaterThan(0);
    await hs.drain();
    expect(await hs.sql`select 1 from sync.dead_letters where connection_id = ${hs.connectionId}`).toEqual([]);
    expect(await hs.simByLocalId('contacts', id)).toBeUndefined();

    // Re-authorized: a new install, connected again; the waiting change goes out.
    const res = await fetch(functionUrl(hs.env, 'connections'), {
      method: 'POST',
      headers: { authorization: `Bearer ${hs.env.serviceRoleKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        tenant_id: hs.tenantId, provider: 'hubspot', client_secret: 'integration-client-secret', api_base_url: hs.sim.url,
        ...(await install(hs.sim)),
      }),
    });
    expect(res.status, await res.clone().text()).toBe(201);
    expect((await res.json()).connection_id).toBe(hs.connectionId);
    expect(await connection()).toBe('active');
    expect(await openAlerts()).toEqual([]);
    await hs.until('the waiting contact to reach HubSpot', async () => {
      await hs.drain();
      return await hs.simByLocalId('contacts', id);
    });
  });

  it('marks the connection needs_reauth when HubSpot refuses the refresh token', async () => {
    await hs.quiesce();
    await hs.control('POST', '/oauth/revoke');
    await expireAccessToken();
    await localContact('refused@oauth.example');
    await untilNeedsReauth();
    expect(await openAlerts()).toEqual([{ kind: 'needs_reauth', message: expect.stringContaining('BAD_REFRESH_TOKEN') }]);
    expect(await hs.queued('crm_outbound')).toBeGreaterThan(0);
  });
});
