import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PipedriveSimulator } from './server.ts';
import { api, clientError, startSimulator, TEST_OAUTH_TOKEN, TEST_TOKEN, v1Client, v2Client } from './test-support.ts';

let sim: PipedriveSimulator;

beforeAll(async () => {
  sim = await startSimulator({ companyId: 8_800_001, companyDomain: 'acme-sim' });
});
afterAll(() => sim.close());

describe('authentication', () => {
  it('accepts the API token as x-api-token header or api_token query, and OAuth bearer tokens', async () => {
    expect((await api(sim, 'GET', '/v1/users/me')).status).toBe(200);
    expect((await fetch(`${sim.url}/v1/users/me?api_token=${TEST_TOKEN}`)).status).toBe(200);
    const bearer = await fetch(`${sim.url}/api/v2/persons`, {
      headers: { Authorization: `Bearer ${TEST_OAUTH_TOKEN}` },
    });
    expect(bearer.status).toBe(200);
  });

  it('answers 401 with the documented body to a wrong, missing or misplaced token', async () => {
    const wrong = await api(sim, 'GET', '/api/v2/persons', undefined, 'nope');
    expect(wrong.status).toBe(401);
    expect(wrong.body).toMatchObject({ success: false, error: 'unauthorized access', errorCode: 401 });
    expect((await api(sim, 'GET', '/v1/users/me', undefined, null)).status).toBe(401);
    // An API token is not an OAuth token.
    const swapped = await fetch(`${sim.url}/v1/users/me`, { headers: { Authorization: `Bearer ${TEST_TOKEN}` } });
    expect(swapped.status).toBe(401);
    // Through the official client the 401 arrives as the body alone.
    const fromClient = await clientError(v2Client(sim, 'nope').persons.getPersons());
    expect(fromClient).toMatchObject({ success: false, error: 'unauthorized access', errorCode: 401 });
  });

  it('tells who is calling on /v1/users/me: the cheap credential check', async () => {
    const me = await v1Client(sim).users.getCurrentUser();
    expect(me.data).toMatchObject({
      id: sim.state.users.me().id,
      company_id: 8_800_001,
      company_domain: 'acme-sim',
      is_you: true,
    });
  });
});

describe('routing', () => {
  it('answers unknown paths and wrong methods in the v1 error shape', async () => {
    const unknown = await api(sim, 'GET', '/api/v2/leads');
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ success: false, error: 'Unknown method .', data: null });
    const wrongMethod = await api(sim, 'PUT', '/api/v2/persons/1', { name: 'x' });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('GET, PATCH, DELETE');
  });

  it('rejects malformed JSON with 400', async () => {
    const response = await fetch(`${sim.url}/api/v2/persons`, {
      method: 'POST',
      headers: { 'x-api-token': TEST_TOKEN, 'Content-Type': 'application/json' },
      body: '{"name":',
    });
    expect(response.status).toBe(400);
    expect((await response.json()).success).toBe(false);
  });

  it('sends a correlation id with every response', async () => {
    const response = await api(sim, 'GET', '/api/v2/pipelines');
    expect(response.headers.get('x-correlation-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});
