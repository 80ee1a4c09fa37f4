import { describe, expect, it } from 'vitest';
import { ProviderError } from '../adapter.ts';
import { createPipedriveCaller, PipedriveNotFoundError, tokenCost } from './client.ts';

/** A budget that records what it was charged and how it was paused. */
function recordingBudget() {
  const taken: { requests: number; tokens: number }[] = [];
  const pauses: { ms: number; reason: string }[] = [];
  return {
    taken,
    pauses,
    take: async (requests = 1, tokens = 0) => {
      taken.push({ requests, tokens });
    },
    pause: async (ms: number, reason: string) => {
      pauses.push({ ms, reason });
    },
  };
}

function answering(status: number, body: unknown, headers: Record<string, string> = {}) {
  const calls: { url: string; method: string; headers: Record<string, string>; body?: string }[] = [];
  const fetchImpl = (async (url: string, init: RequestInit) => {
    calls.push({ url, method: String(init.method), headers: init.headers as Record<string, string>, body: init.body as string | undefined });
    return new Response(typeof body === 'string' ? body : JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
  }) as unknown as typeof fetch;
  return { calls, fetchImpl };
}

describe('tokenCost', () => {
  it.each([
    ['GET', 'https://x/api/v2/persons/5', 1],
    ['GET', 'https://x/api/v2/persons?ids=1,2', 10],
    ['GET', 'https://x/api/v2/persons/search?term=a', 20],
    ['POST', 'https://x/api/v2/deals', 5],
    ['PATCH', 'https://x/api/v2/deals/3', 5],
    ['DELETE', 'https://x/api/v2/activities/3', 3],
    ['GET', 'https://x/api/v1/notes?start=0', 20],
    ['GET', 'https://x/api/v1/notes/4', 2],
    ['PUT', 'https://x/api/v1/persons/4/merge', 10],
    ['DELETE', 'https://x/api/v1/notes/4', 6],
  ])('%s %s costs %i', (method, url, cost) => {
    expect(tokenCost(method, url)).toBe(cost);
  });
});

describe('createPipedriveCaller', () => {
  it('charges each call to the budget with its cost and sends the token to the simulator base', async () => {
    const budget = recordingBudget();
    const { calls, fetchImpl } = answering(200, { success: true, data: { id: 7, name: 'Ann', update_time: '2026-01-01T00:00:00Z' } });
    const api = createPipedriveCaller({ apiToken: 'tok-123', basePath: 'http://127.0.0.1:9/', budget, fetch: fetchImpl });
    const result = await api.call((a) => a.persons.addPerson({ AddPersonRequest: { name: 'Ann' } as never }));
    expect((result as { data: { id: number } }).data.id).toBe(7);
    expect(budget.taken).toEqual([{ requests: 1, tokens: 5 }]);
    expect(calls[0]).toMatchObject({ url: 'http://127.0.0.1:9/api/v2/persons', method: 'POST' });
    expect(calls[0].headers['x-api-token']).toBe('tok-123');
    expect(JSON.parse(calls[0].body!)).toEqual({ name: 'Ann' });
  });

  it('recovers a 429 the client would hide: the connection pauses until x-ratelimit-reset', async () => {
    const budget = recordingBudget();
    const { fetchImpl } = answering(429, { success: false, error: 'Request over limit' }, { 'x-ratelimit-reset': '2' });
    const api = createPipedriveCaller({ apiToken: 'tok-123', basePath: 'http://x', budget, fetch: fetchImpl });
    const error = await api.call((a) => a.persons.getPersons({})).catch((e) => e);
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ kind: 'rate_limited', retryAfterMs: 2_000 });
    expect(budget.pauses).toEqual([{ ms: 2_000, reason: 'Pipedrive 429: Request over limit' }]);
  });

  it('a spent daily budget pauses until the next UTC day', async () => {
    const budget = recordingBudget();
    const { fetchImpl } = answering(429, { success: false, error: 'Daily API token budget exceeded' }, { 'x-ratelimit-reset': '1' });
    const api = createPipedriveCaller({ apiToken: 'tok-123', basePath: 'http://x', budget, fetch: fetchImpl });
    const error = await api.call((a) => a.deals.getDeals({})).catch((e) => e);
    expect(error.kind).toBe('rate_limited');
    expect(error.retryAfterMs).toBeGreaterThan(1_000);
    expect(error.retryAfterMs).toBeLessThanOrEqual(86_400_000);
  });

  it.each([
    [500, { success: false, error: 'Internal' }, 'unavailable'],
    [503, 'Service Unavailable', 'unavailable'],
    [401, { success: false, error: 'unauthorized access', errorCode: 401 }, 'unauthorized'],
    [400, { success: false, error: 'Validation failed: title' }, 'invalid'],
    [403, '<html><body>Forbidden</body></html>', 'rate_limited'],
  ])('maps %i to %s', async (status, body, kind) => {
    const { fetchImpl } = answering(status, body);
    const api = createPipedriveCaller({ apiToken: 'tok-123', basePath: 'http://x', budget: recordingBudget(), fetch: fetchImpl });
    const error = await api.call((a) => a.deals.getDeals({})).catch((e) => e);
    expect(error).toBeInstanceOf(ProviderError);
    expect(error.kind).toBe(kind);
  });

  it('a 404 is a not-found error (for reads: the record is gone)', async () => {
    const { fetchImpl } = answering(404, { success: false, error: 'Note not found' });
    const api = createPipedriveCaller({ apiToken: 'tok-123', basePath: 'http://x', budget: recordingBudget(), fetch: fetchImpl });
    const error = await api.call((a) => a.notes.getNote({ id: 4 })).catch((e) => e);
    expect(error).toBeInstanceOf(PipedriveNotFoundError);
    expect(error.message).toContain('Note not found');
  });

  it('a network failure is unavailable', async () => {
    const fetchImpl = (async () => {
      throw new TypeError('fetch failed');
    }) as unknown as typeof fetch;
    const api = createPipedriveCaller({ apiToken: 'tok-123', basePath: 'http://x', budget: recordingBudget(), fetch: fetchImpl });
    const error = await api.call((a) => a.deals.getDeals({})).catch((e) => e);
    expect(error).toMatchObject({ kind: 'unavailable' });
  });

  it('counts a call from its answer where the budget can: granted before the request, answered after it, failures too', async () => {
    for (const status of [200, 500]) {
      const events: string[] = [];
      const budget = {
        ...recordingBudget(),
        takeForCall: async (tokens = 0) => {
          events.push(`grant ${tokens}`);
          return { answered: async () => void events.push('answered') };
        },
      };
      const fetchImpl = (async () => {
        events.push('request');
        return new Response(JSON.stringify({ success: status === 200, data: { id: 1 } }), { status });
      }) as unknown as typeof fetch;
      const api = createPipedriveCaller({ apiToken: 'tok-123', basePath: 'http://x', budget, fetch: fetchImpl });
      await api.call((a) => a.persons.getPerson({ id: 1 })).catch(() => {});
      expect(events).toEqual(['grant 1', 'request', 'answered']);
      expect(budget.taken).toEqual([]);
    }
  });
});
