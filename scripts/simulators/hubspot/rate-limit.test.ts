import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RateLimiter } from './rate-limit.ts';
import type { HubSpotSimulator } from './server.ts';
import { api, clientError, control, hubspotClient, startSimulator } from './test-support.ts';

describe('RateLimiter', () => {
  it('rolls the window: requests free up as they age past the interval', () => {
    const limiter = new RateLimiter({ maxPerInterval: 3, intervalMs: 1_000 });
    const at = (ms: number) => limiter.check('t', 'standard', 10_000 + ms);
    expect([at(0).allowed, at(100).allowed, at(200).allowed, at(300).allowed]).toEqual([true, true, true, false]);
    expect(at(999).allowed).toBe(false);
    expect(at(1_000).allowed).toBe(true); // the request at 0 has left the window
    expect(at(1_050).allowed).toBe(false);
  });

  it('keeps a window per token and counts remaining requests in the headers', () => {
    const limiter = new RateLimiter({ maxPerInterval: 2, intervalMs: 10_000, dailyLimit: 10 });
    const first = limiter.check('a', 'standard', 0);
    expect(first.headers['X-HubSpot-RateLimit-Remaining']).toBe('1');
    expect(first.headers['X-HubSpot-RateLimit-Daily-Remaining']).toBe('9');
    limiter.check('a', 'standard', 1);
    expect(limiter.check('a', 'standard', 2).allowed).toBe(false);
    expect(limiter.check('b', 'standard', 2).allowed).toBe(true);
  });

  it('exempt requests use only the daily allowance; the daily limit applies to everything', () => {
    const limiter = new RateLimiter({ maxPerInterval: 1, dailyLimit: 3 });
    expect(limiter.check('t', 'standard', 0).allowed).toBe(true);
    expect(limiter.check('t', 'exempt', 1).allowed).toBe(true);
    expect(limiter.check('t', 'exempt', 2).allowed).toBe(true);
    const daily = limiter.check('t', 'exempt', 3);
    expect(daily).toMatchObject({ allowed: false, policy: 'DAILY' });
  });
});

describe('rate limiting over HTTP', () => {
  let sim: HubSpotSimulator;
  beforeAll(async () => {
    sim = await startSimulator();
  });
  afterAll(() => sim.close());
  beforeEach(async () => {
    sim.state.reset();
    await control(sim, 'PUT', '/rate-limit', { maxPerInterval: 5, intervalMs: 10_000, resetWindows: true });
  });

  it("answers the request over the limit with 429, HubSpot's body and rate-limit headers", async () => {
    const client = hubspotClient(sim);
    for (let n = 0; n < 5; n++) await client.crm.contacts.basicApi.getPage();
    const error = await clientError(client.crm.contacts.basicApi.getPage());
    expect(error.code).toBe(429);
    expect(Object.keys(error.body).sort()).toEqual(['correlationId', 'errorType', 'message', 'policyName', 'status']);
    expect(error.body).toMatchObject({
      status: 'error',
      message: 'You have reached your ten_secondly_rolling limit.',
      errorType: 'RATE_LIMIT',
      policyName: 'TEN_SECONDLY_ROLLING',
    });
    expect(error.body.correlationId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(error.headers['x-hubspot-ratelimit-max']).toBe('5');
    expect(error.headers['x-hubspot-ratelimit-remaining']).toBe('0');
    expect(error.headers['x-hubspot-ratelimit-interval-milliseconds']).toBe('10000');
    expect(Number(error.headers['x-hubspot-ratelimit-daily-remaining'])).toBeGreaterThan(0);
    const counters = await control(sim, 'GET', '/counters');
    expect(counters.body.rateLimited.tenSecondly).toBe(1);
    expect(counters.body.byEndpoint['GET /crm/v3/objects/contacts']).toBe(6);
  });

  it('sends decreasing Remaining headers on successful calls', async () => {
    const first = await api(sim, 'GET', '/crm/v3/objects/contacts');
    const second = await api(sim, 'GET', '/crm/v3/objects/contacts');
    expect(first.headers.get('x-hubspot-ratelimit-remaining')).toBe('4');
    expect(second.headers.get('x-hubspot-ratelimit-remaining')).toBe('3');
  });

  it('does not count association v4 batch calls (exempt from the ten-secondly limit in the specs)', async () => {
    for (let n = 0; n < 8; n++) {
      const response = await api(sim, 'POST', '/crm/v4/associations/contacts/companies/batch/read', { inputs: [] });
      expect(response.status).toBe(200);
    }
    expect((await api(sim, 'GET', '/crm/v3/objects/contacts')).status).toBe(200);
  });
});
