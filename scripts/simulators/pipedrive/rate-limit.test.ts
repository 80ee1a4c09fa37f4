import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RateLimiter } from './rate-limit.ts';
import type { PipedriveSimulator } from './server.ts';
import { api, clientError, control, startSimulator, TEST_OAUTH_TOKEN, v2Client } from './test-support.ts';

const DAY = 86_400_000;

describe('RateLimiter', () => {
  const at = (limiter: RateLimiter, ms: number, extra: Partial<Parameters<RateLimiter['check']>[0]> = {}) =>
    limiter.check({ token: 't', tokenKind: 'api_token', kind: 'standard', cost: 1, now: ms, clockNow: 0, ...extra });

  it('rolls the 2-second burst window per token', () => {
    const limiter = new RateLimiter({ burstLimit: 3 });
    expect([0, 100, 200, 300].map((ms) => at(limiter, ms).allowed)).toEqual([true, true, true, false]);
    expect(at(limiter, 1_999).allowed).toBe(false);
    expect(at(limiter, 2_000).allowed).toBe(true); // the request at 0 has left the window
    expect(at(limiter, 2_000, { token: 'other' }).allowed).toBe(true);
  });

  it('gives OAuth tokens four times the API token burst', () => {
    const limiter = new RateLimiter({ burstLimit: 2 });
    const oauth = Array.from({ length: 9 }, () => at(limiter, 0, { tokenKind: 'oauth' }).allowed);
    expect(oauth.filter(Boolean)).toHaveLength(8);
  });

  it('limits search separately (10 per window) and counts it in the general window too', () => {
    const limiter = new RateLimiter({ burstLimit: 20, searchBurstLimit: 10 });
    const search = Array.from({ length: 11 }, () => at(limiter, 0, { kind: 'search' }));
    expect(search.filter((decision) => decision.allowed)).toHaveLength(10);
    expect(search[10]).toMatchObject({ allowed: false, policy: 'SEARCH_BURST' });
    const standard = Array.from({ length: 11 }, () => at(limiter, 0));
    expect(standard.filter((decision) => decision.allowed)).toHaveLength(10);
  });

  it('spends the daily budget by cost and starts afresh on the next (clock) day', () => {
    const limiter = new RateLimiter({ burstLimit: 1_000, dailyBudget: 25 });
    expect(at(limiter, 0, { cost: 10 }).allowed).toBe(true);
    expect(at(limiter, 1, { cost: 10 }).allowed).toBe(true);
    expect(at(limiter, 2, { cost: 10 })).toMatchObject({ allowed: false, policy: 'DAILY' });
    expect(at(limiter, 3, { cost: 5 }).allowed).toBe(true);
    expect(limiter.spentToday(0)).toBe(25);
    expect(at(limiter, 4, { cost: 10, clockNow: DAY }).allowed).toBe(true);
    expect(limiter.spentToday(DAY)).toBe(10);
  });
});

describe('rate limiting over HTTP', () => {
  let sim: PipedriveSimulator;
  beforeAll(async () => {
    sim = await startSimulator();
  });
  afterAll(() => sim.close());
  beforeEach(async () => {
    await control(sim, 'POST', '/reset');
    await control(sim, 'PUT', '/rate-limit', {
      burstLimit: 5,
      searchBurstLimit: 3,
      dailyBudget: 1_000_000,
      resetWindows: true,
    });
  });

  it('answers the request over the burst with 429 and x-ratelimit headers', async () => {
    const statuses: number[] = [];
    const remaining: Array<string | null> = [];
    for (let n = 0; n < 6; n++) {
      const response = await api(sim, 'GET', '/api/v2/persons');
      statuses.push(response.status);
      remaining.push(response.headers.get('x-ratelimit-remaining'));
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    expect(remaining).toEqual(['4', '3', '2', '1', '0', '0']);
    const limited = await api(sim, 'GET', '/api/v2/persons');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('x-ratelimit-limit')).toBe('5');
    expect(Number(limited.headers.get('x-ratelimit-reset'))).toBeGreaterThanOrEqual(1);
    expect(Number(limited.headers.get('x-ratelimit-reset'))).toBeLessThanOrEqual(2);
    expect(limited.body).toEqual({
      success: false,
      error: 'Request over limit',
      errorCode: 429,
      error_info: expect.stringContaining('developers.pipedrive.com'),
      data: null,
      additional_data: null,
    });

    // The official client rejects with the body only: status and headers are gone.
    const fromClient = await clientError(v2Client(sim).persons.getPersons());
    expect(fromClient).toMatchObject({ success: false, errorCode: 429 });
    expect(fromClient.status).toBeUndefined();

    const counters = (await control(sim, 'GET', '/counters')).body;
    expect(counters.rateLimited).toMatchObject({ burst: 3, searchBurst: 0, daily: 0 });
    expect(counters.byEndpoint['GET /api/v2/persons']).toBe(8);
  });

  it('frees the burst after the window and gives OAuth tokens their own larger window', async () => {
    await control(sim, 'PUT', '/rate-limit', { burstLimit: 2, burstWindowMs: 1_000, resetWindows: true });
    expect((await api(sim, 'GET', '/api/v2/deals')).status).toBe(200);
    expect((await api(sim, 'GET', '/api/v2/deals')).status).toBe(200);
    expect((await api(sim, 'GET', '/api/v2/deals')).status).toBe(429);
    const oauth = await fetch(`${sim.url}/api/v2/deals`, { headers: { Authorization: `Bearer ${TEST_OAUTH_TOKEN}` } });
    expect(oauth.status).toBe(200);
    expect(oauth.headers.get('x-ratelimit-limit')).toBe('8');
    await new Promise((resolve) => setTimeout(resolve, 1_050));
    expect((await api(sim, 'GET', '/api/v2/deals')).status).toBe(200);
  });

  it('limits search to its own burst', async () => {
    const statuses: number[] = [];
    for (let n = 0; n < 4; n++) statuses.push((await api(sim, 'GET', '/api/v2/persons/search?term=ann')).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect((await control(sim, 'GET', '/counters')).body.rateLimited.searchBurst).toBe(1);
  });

  it("spends the company's daily token budget by each call's x-token-cost and 429s once it is gone", async () => {
    await control(sim, 'PUT', '/rate-limit', { burstLimit: 1_000, dailyBudget: 30 });
    expect((await api(sim, 'POST', '/api/v2/persons', { name: 'A' })).status).toBe(200); // 5
    expect((await api(sim, 'GET', '/api/v2/persons/1')).status).toBe(200); // 1
    expect((await api(sim, 'GET', '/api/v2/persons')).status).toBe(200); // 10
    expect((await api(sim, 'PATCH', '/api/v2/persons/1', { name: 'B' })).status).toBe(200); // 5
    expect((await api(sim, 'DELETE', '/api/v2/persons/1')).status).toBe(200); // 3
    let counters = (await control(sim, 'GET', '/counters')).body;
    expect(counters.tokens).toMatchObject({ spentToday: 24, remainingToday: 6, dailyBudget: 30 });
    expect(counters.tokens.byEndpoint).toEqual({
      'POST /api/v2/persons': 5,
      'GET /api/v2/persons/{id}': 1,
      'GET /api/v2/persons': 10,
      'PATCH /api/v2/persons/{id}': 5,
      'DELETE /api/v2/persons/{id}': 3,
    });

    const exhausted = await api(sim, 'GET', '/api/v2/deals'); // 10 > 6 left
    expect(exhausted.status).toBe(429);
    expect(exhausted.body).toMatchObject({ success: false, error: 'Daily API token budget exceeded', errorCode: 429 });
    expect(exhausted.headers.get('x-ratelimit-limit')).toBe('1000');
    expect((await api(sim, 'GET', '/api/v2/deals/1')).status).toBe(404); // 1 token still fits
    counters = (await control(sim, 'GET', '/counters')).body;
    expect(counters.rateLimited.daily).toBe(1);
    expect(counters.tokens.spentToday).toBe(25);

    await control(sim, 'PUT', '/clock', { advanceMs: DAY });
    expect((await api(sim, 'GET', '/api/v2/deals')).status).toBe(200);
  });

  it('does not count requests with a wrong token', async () => {
    for (let n = 0; n < 7; n++) expect((await api(sim, 'GET', '/api/v2/persons', undefined, 'wrong')).status).toBe(401);
    expect((await api(sim, 'GET', '/api/v2/persons')).status).toBe(200);
    expect((await control(sim, 'GET', '/counters')).body.unauthorized).toBe(7);
  });
});
