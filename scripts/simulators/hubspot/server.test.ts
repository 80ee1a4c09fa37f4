import type { Client } from '@hubspot/api-client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { HubSpotSimulator } from './server.ts';
import { api, clientError, control, hubspotClient, startSimulator } from './test-support.ts';

let sim: HubSpotSimulator;
let client: Client;

beforeAll(async () => {
  sim = await startSimulator();
  client = hubspotClient(sim);
});
afterAll(() => sim.close());
beforeEach(() => sim.state.reset());

describe('authentication', () => {
  it("answers 401 with HubSpot's error body to a wrong token", async () => {
    const error = await clientError(hubspotClient(sim, 'wrong-token').crm.contacts.basicApi.getPage());
    expect(error.code).toBe(401);
    expect(error.body).toMatchObject({ status: 'error', category: 'INVALID_AUTHENTICATION' });
    expect(error.body.message).toContain('Authentication credentials not found');
  });

  it('answers 401 without an Authorization header', async () => {
    const response = await api(sim, 'GET', '/account-info/v3/details', undefined, null);
    expect(response.status).toBe(401);
    expect(response.body.correlationId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('accepts the token and reports the portal id (a cheap credential check)', async () => {
    const response = await client.apiRequest({ method: 'GET', path: '/account-info/v3/details' });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ portalId: sim.state.options.portalId });
  });
});

describe('owners and pipelines', () => {
  it('lists owners, including through the trailing-slash path the client uses', async () => {
    const owners = await client.crm.owners.ownersApi.getPage();
    expect(owners.results.length).toBeGreaterThanOrEqual(3);
    expect(owners.results[0]).toMatchObject({ email: expect.stringContaining('@'), archived: false });
    const one = await client.crm.owners.ownersApi.getById(Number(owners.results[0].id));
    expect(one.email).toBe(owners.results[0].email);
  });

  it('serves the default deal pipeline and its stages', async () => {
    const pipelines = await client.crm.pipelines.pipelinesApi.getAll('deals');
    expect(pipelines.results[0].id).toBe('default');
    expect(pipelines.results[0].stages.map((stage) => stage.id)).toEqual([
      'appointmentscheduled',
      'qualifiedtobuy',
      'presentationscheduled',
      'decisionmakerboughtin',
      'contractsent',
      'closedwon',
      'closedlost',
    ]);
    expect(pipelines.results[0].stages.find((stage) => stage.id === 'closedwon')?.metadata).toEqual({
      isClosed: 'true',
      probability: '1.0',
    });
  });
});

describe('routing', () => {
  it('answers 404 with an error body to unknown paths and 405 to a wrong method', async () => {
    const missing = await api(sim, 'GET', '/crm/v3/nothing-here');
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ status: 'error', category: 'OBJECT_NOT_FOUND' });
    expect((await api(sim, 'PUT', '/crm/v3/objects/contacts')).status).toBe(405);
    expect(
      (await api(sim, 'POST', '/crm/v3/objects/notes/merge', { primaryObjectId: '1', objectIdToMerge: '2' })).status,
    )
      .toBe(404);
  });

  it('answers 400 to malformed JSON', async () => {
    const response = await fetch(`${sim.url}/crm/v3/objects/contacts`, {
      method: 'POST',
      headers: { Authorization: 'Bearer test-token', 'Content-Type': 'application/json' },
      body: '{not json',
    });
    expect(response.status).toBe(400);
    expect((await response.json()).message).toContain('Invalid input JSON');
  });
});

describe('injected faults', () => {
  it('fails the next N matching requests with a 5xx, then recovers', async () => {
    await control(sim, 'POST', '/faults', {
      mode: 'error',
      status: 503,
      count: 2,
      pathPrefix: '/crm/v3/objects/contacts',
    });
    expect((await clientError(client.crm.contacts.basicApi.getPage())).code).toBe(503);
    expect((await api(sim, 'GET', '/crm/v3/objects/companies')).status).toBe(200);
    expect((await clientError(client.crm.contacts.basicApi.getPage())).code).toBe(503);
    expect((await client.crm.contacts.basicApi.getPage()).results).toEqual([]);
    const counters = await control(sim, 'GET', '/counters');
    expect(counters.body.faultsInjected).toBe(2);
  });

  it('can answer with an HTML gateway page instead of JSON', async () => {
    await control(sim, 'POST', '/faults', { mode: 'error', status: 502, body: 'html' });
    const response = await api(sim, 'GET', '/crm/v3/objects/contacts');
    expect(response.status).toBe(502);
    expect(response.headers.get('content-type')).toContain('text/html');
  });

  it('hangs and then closes the connection for a timeout fault', async () => {
    await control(sim, 'POST', '/faults', { mode: 'timeout', hangMs: 100 });
    const started = Date.now();
    await expect(api(sim, 'GET', '/crm/v3/objects/contacts')).rejects.toThrow();
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
  });

  it('can let the request take effect before hanging (a write whose answer is lost)', async () => {
    await control(sim, 'POST', '/faults', { mode: 'timeout', hangMs: 100, applyFirst: true, method: 'POST' });
    await expect(api(sim, 'POST', '/crm/v3/objects/companies', { properties: { name: 'Lost answer Ltd' } })).rejects
      .toThrow();
    const { body } = await control(sim, 'GET', '/objects/companies');
    expect(body.results.filter((r: any) => r.properties.name === 'Lost answer Ltd')).toHaveLength(1);
    const requests = await control(sim, 'GET', '/requests');
    expect(requests.body.results.at(-1)).toMatchObject({
      path: '/crm/v3/objects/companies',
      status: 0,
      outcome: 'fault',
    });
  });

  it('answers an injected 429 with the ten-secondly body', async () => {
    await control(sim, 'POST', '/faults', { mode: 'rate-limit', method: 'POST' });
    expect((await api(sim, 'GET', '/crm/v3/objects/contacts')).status).toBe(200);
    const limited = await api(sim, 'POST', '/crm/v3/objects/contacts', { properties: {} });
    expect(limited.status).toBe(429);
    expect(limited.body.policyName).toBe('TEN_SECONDLY_ROLLING');
  });
});

describe('latency', () => {
  it('adds the configured latency to API responses', async () => {
    await control(sim, 'PUT', '/config', { latencyMs: 80 });
    const started = Date.now();
    await api(sim, 'GET', '/crm/v3/objects/contacts');
    expect(Date.now() - started).toBeGreaterThanOrEqual(75);
    await control(sim, 'PUT', '/config', { latencyMs: 0 });
  });
});
