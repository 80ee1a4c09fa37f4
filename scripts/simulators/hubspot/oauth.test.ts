// deno-lint-ignore-file no-explicit-any -- tests assert on raw JSON bodies
// OAuth for public apps: install, refresh at the form-encoded token
// endpoint, expiry by the simulator clock, revocation.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HubSpotSimulator } from './server.ts';
import { api, control, startSimulator } from './test-support.ts';

let sim: HubSpotSimulator;

beforeAll(async () => {
  sim = await startSimulator({ clientId: 'app-client-id', clientSecret: 'app-client-secret', accessTokenTtlSeconds: 60 });
});
afterAll(() => sim.close());

async function refresh(fields: Record<string, string>) {
  const res = await fetch(`${sim.url}/oauth/v1/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  });
  return { status: res.status, body: await res.json() as any };
}

describe('OAuth', () => {
  it('issues access tokens from a refresh token; they work until they expire', async () => {
    const install = await control(sim, 'POST', '/oauth/installs');
    expect(install.status).toBe(201);
    expect(install.body).toMatchObject({ token_type: 'bearer', expires_in: 60, client_id: 'app-client-id' });
    expect((await api(sim, 'GET', '/crm/v3/objects/contacts', undefined, install.body.access_token)).status).toBe(200);

    const fresh = await refresh({
      grant_type: 'refresh_token', client_id: 'app-client-id', client_secret: 'app-client-secret', refresh_token: install.body.refresh_token,
    });
    expect(fresh.status).toBe(200);
    expect(fresh.body).toMatchObject({ token_type: 'bearer', refresh_token: install.body.refresh_token, expires_in: 60 });
    expect(fresh.body.access_token).not.toBe(install.body.access_token);

    await control(sim, 'PUT', '/clock', { advanceMs: 61_000 });
    const expired = await api(sim, 'GET', '/crm/v3/objects/contacts', undefined, fresh.body.access_token);
    expect(expired.status).toBe(401);
    expect(expired.body).toMatchObject({ category: 'EXPIRED_AUTHENTICATION' });
    expect(expired.body.message).toMatch(/expired \d+ second\(s\) ago/);
    expect((await control(sim, 'GET', '/oauth')).body).toMatchObject({ installs: 1, refreshes: 1 });
  });

  it('refuses a wrong client or refresh token with HubSpot\'s error words', async () => {
    const install = await control(sim, 'POST', '/oauth/installs');
    const base = { grant_type: 'refresh_token', client_id: 'app-client-id', client_secret: 'app-client-secret', refresh_token: install.body.refresh_token };
    expect(await refresh({ ...base, grant_type: 'password' })).toMatchObject({ status: 400, body: { status: 'BAD_GRANT_TYPE' } });
    expect(await refresh({ ...base, client_id: 'other' })).toMatchObject({ status: 400, body: { status: 'BAD_CLIENT_ID' } });
    expect(await refresh({ ...base, client_secret: 'other' })).toMatchObject({ status: 400, body: { status: 'BAD_CLIENT_SECRET' } });
    expect(await refresh({ ...base, refresh_token: 'made-up' })).toMatchObject({ status: 400, body: { status: 'BAD_REFRESH_TOKEN' } });
  });

  it('revoking the app stops its refresh and access tokens', async () => {
    const install = await control(sim, 'POST', '/oauth/installs');
    expect((await control(sim, 'POST', '/oauth/revoke')).body.revoked).toBeGreaterThan(0);
    const res = await refresh({
      grant_type: 'refresh_token', client_id: 'app-client-id', client_secret: 'app-client-secret', refresh_token: install.body.refresh_token,
    });
    expect(res).toMatchObject({ status: 400, body: { status: 'BAD_REFRESH_TOKEN', message: 'missing or invalid refresh token' } });
    const call = await api(sim, 'GET', '/crm/v3/objects/contacts', undefined, install.body.access_token);
    expect(call.status).toBe(401);
    expect(call.body).toMatchObject({ category: 'INVALID_AUTHENTICATION' });
  });
});
