import { describe, expect, it, test } from 'vitest';
import { signHubSpotV3 } from '../providers/hubspot/webhook-signature.ts';
import type { WebhookConnection } from './connection-cache.ts';
import { createHubSpotWebhookHandler, type ReceivedEvent, type WebhookRequestLog } from './hubspot-intake.ts';

const publicFunctionsUrl = 'https://abc.supabase.co/functions/v1';
/** What the function sees behind the gateway: another scheme, host and path. */
const internalUrl = 'http://127.0.0.1:9000/hubspot-webhook';
const secret = 'app-client-secret';
const startMs = 1_790_000_000_000;

const acme: WebhookConnection = { connectionId: 'conn-acme', accountId: '1001', enabled: true, webhookSecret: secret };
const globex: WebhookConnection = {
  connectionId: 'conn-globex',
  accountId: '1002',
  enabled: true,
  webhookSecret: secret,
};
const paused: WebhookConnection = {
  connectionId: 'conn-paused',
  accountId: '1003',
  enabled: false,
  webhookSecret: secret,
};
const otherApp: WebhookConnection = {
  connectionId: 'conn-other',
  accountId: '1004',
  enabled: true,
  webhookSecret: 'other-secret',
};
const noSecret: WebhookConnection = {
  connectionId: 'conn-nosecret',
  accountId: '1005',
  enabled: true,
  webhookSecret: null,
};

function event(portalId: number, eventId: number, extra: Record<string, unknown> = {}) {
  return {
    eventId,
    subscriptionId: 7,
    portalId,
    appId: 55,
    occurredAt: startMs - 1000,
    subscriptionType: 'contact.propertyChange',
    attemptNumber: 0,
    objectId: 500 + eventId,
    propertyName: 'email',
    propertyValue: `person${eventId}@example.com`,
    changeSource: 'CRM_UI',
    ...extra,
  };
}
const batch = (portalId: number, n: number, first = 1) =>
  Array.from({ length: n }, (_, i) => event(portalId, first + i));

interface HarnessOptions {
  connections?: WebhookConnection[];
  failLookup?: boolean;
  failStore?: boolean;
  hangStore?: boolean;
  maxBodyBytes?: number;
}

function harness(options: HarnessOptions = {}) {
  const clock = { ms: startMs };
  const lookups: string[][] = [];
  const stored: { connectionId: string; events: ReceivedEvent[] }[] = [];
  const keys = new Map<string, Set<string>>();
  const logs: WebhookRequestLog[] = [];
  let failLookup = options.failLookup ?? false;
  let connections = options.connections ?? [acme];
  const handler = createHubSpotWebhookHandler({
    async findConnections(accountIds) {
      lookups.push(accountIds);
      if (failLookup) throw new Error('connection refused');
      return connections.filter((c) => accountIds.includes(c.accountId));
    },
    async receiveEvents(connectionId, events) {
      if (options.failStore) throw new Error('could not serialize access');
      if (!connections.some((c) => c.connectionId === connectionId)) throw new Error(`connection ${connectionId} does not exist`);
      if (options.hangStore) return new Promise(() => {});
      stored.push({ connectionId, events });
      const seen = keys.get(connectionId) ?? new Set();
      keys.set(connectionId, seen);
      let accepted = 0;
      for (const { dedupe_key } of events) {
        if (!seen.has(dedupe_key)) accepted++;
        seen.add(dedupe_key);
      }
      return { accepted, duplicates: events.length - accepted };
    },
    publicFunctionsUrl,
    maxBodyBytes: options.maxBodyBytes ?? 64 * 1024,
    storeDeadlineMs: 50,
    now: () => clock.ms,
    log: (entry) => logs.push(entry),
  });
  return {
    handler,
    clock,
    lookups,
    stored,
    logs,
    setLookupFailing: (value: boolean) => {
      failLookup = value;
    },
    /** What the database holds from now on (a portal reconnected: a new connection for it). */
    setConnections: (value: WebhookConnection[]) => {
      connections = value;
    },
    async send(req: Request) {
      const res = await handler(req);
      return { status: res.status, body: await res.json() };
    },
  };
}

interface SignOptions {
  search?: string;
  signedUrl?: string;
  clientSecret?: string;
  timestamp?: number;
  headers?: Record<string, string>;
  method?: string;
}

async function signed(payload: unknown, options: SignOptions = {}): Promise<Request> {
  const rawBody = typeof payload === 'string' ? payload : JSON.stringify(payload);
  const search = options.search ?? '';
  const timestamp = String(options.timestamp ?? startMs);
  const signature = await signHubSpotV3({
    method: 'POST',
    uri: options.signedUrl ?? `${publicFunctionsUrl}/hubspot-webhook${search}`,
    rawBody,
    timestamp,
    clientSecret: options.clientSecret ?? secret,
  });
  return new Request(internalUrl + search, {
    method: options.method ?? 'POST',
    body: rawBody,
    headers: {
      'content-type': 'application/json',
      'x-hubspot-signature-v3': signature,
      'x-hubspot-request-timestamp': timestamp,
      ...options.headers,
    },
  });
}

describe('hubspot-webhook intake', () => {
  it('stores a signed batch and answers 200 with the counts', async () => {
    const h = harness();
    const res = await h.send(await signed(batch(1001, 100)));
    expect(res).toEqual({ status: 200, body: { accepted: 100, duplicates: 0, ignored: 0 } });
    expect(h.stored).toHaveLength(1);
    expect(h.stored[0].connectionId).toBe('conn-acme');
    expect(h.stored[0].events).toHaveLength(100);
    expect(h.stored[0].events[0]).toEqual({
      dedupe_key: `contact.propertyChange|501|${startMs - 1000}|1|email`,
      event: event(1001, 1),
    });
  });

  it('verifies against the public URL with the query string, not the URL the function sees', async () => {
    const h = harness();
    expect((await h.send(await signed(batch(1001, 1), { search: '?source=hubspot%3Aprod' }))).status).toBe(200);
    const asSeen = await h.send(await signed(batch(1001, 1), { signedUrl: internalUrl }));
    expect(asSeen.status).toBe(401);
  });

  it('counts a redelivery (higher attemptNumber) as duplicates', async () => {
    const h = harness();
    await h.send(await signed(batch(1001, 100)));
    const retry = batch(1001, 100).map((e) => ({ ...e, attemptNumber: 1 }));
    const res = await h.send(await signed(retry));
    expect(res).toEqual({ status: 200, body: { accepted: 0, duplicates: 100, ignored: 0 } });
    expect(h.stored[1].events.map((e) => e.dedupe_key)).toEqual(h.stored[0].events.map((e) => e.dedupe_key));
  });

  it('splits a mixed batch per connection and counts unknown and disabled portals as ignored', async () => {
    const h = harness({ connections: [acme, globex, paused] });
    const events = [...batch(1001, 3), ...batch(1002, 2, 10), ...batch(1003, 4, 20), ...batch(9999, 5, 30)];
    const res = await h.send(await signed(events));
    expect(res).toEqual({ status: 200, body: { accepted: 5, duplicates: 0, ignored: 9 } });
    expect(h.lookups).toEqual([['1001', '1002', '1003', '9999']]);
    expect(h.stored.map((s) => [s.connectionId, s.events.length])).toEqual([['conn-acme', 3], ['conn-globex', 2]]);
  });

  it('answers 200 and stores nothing when the only connection is disabled', async () => {
    const h = harness({ connections: [paused] });
    const res = await h.send(await signed(batch(1003, 4)));
    expect(res).toEqual({ status: 200, body: { accepted: 0, duplicates: 0, ignored: 4 } });
    expect(h.stored).toEqual([]);
  });

  it('ignores the events of a connection whose secret did not make the signature', async () => {
    const h = harness({ connections: [acme, otherApp] });
    const res = await h.send(await signed([...batch(1001, 2), ...batch(1004, 3, 10)]));
    expect(res).toEqual({ status: 200, body: { accepted: 2, duplicates: 0, ignored: 3 } });
    expect(h.stored.map((s) => s.connectionId)).toEqual(['conn-acme']);
  });

  describe('answers 415 without a database call to a body not declared JSON', () => {
    test.each([['text/plain'], ['application/x-www-form-urlencoded'], ['']])('%j', async (contentType) => {
      const h = harness();
      const req = await signed(batch(1001, 1));
      if (contentType) req.headers.set('content-type', contentType);
      else req.headers.delete('content-type');
      const res = await h.send(req);
      expect(res.status).toBe(415);
      expect(res.body.error.code).toBe('unsupported_media_type');
      expect(h.lookups).toEqual([]);
    });
  });

  describe('answers 405 for other methods', () => {
    test.each(['GET', 'PUT', 'DELETE'])('%s', async (method) => {
      const h = harness();
      const res = await h.send(new Request(internalUrl, { method }));
      expect(res.status).toBe(405);
      expect(res.body.error.code).toBe('method_not_allowed');
      expect(h.lookups).toEqual([]);
    });
  });

  describe('answers 401 without a database call when a header is missing or stale', () => {
    test.each<[string, Record<string, string>, string]>([
      ['no signature', { 'x-hubspot-signature-v3': '' }, 'missing_signature'],
      ['no timestamp', { 'x-hubspot-request-timestamp': '' }, 'missing_signature'],
      [
        'a timestamp over five minutes old',
        { 'x-hubspot-request-timestamp': String(startMs - 300_001) },
        'invalid_signature',
      ],
      [
        'a timestamp over five minutes ahead',
        { 'x-hubspot-request-timestamp': String(startMs + 300_001) },
        'invalid_signature',
      ],
      ['a timestamp that is not epoch ms', { 'x-hubspot-request-timestamp': 'yesterday' }, 'invalid_signature'],
    ])('%s', async (_label, headers, code) => {
      const h = harness();
      const req = await signed(batch(1001, 1));
      for (const [name, value] of Object.entries(headers)) {
        if (value) req.headers.set(name, value);
        else req.headers.delete(name);
      }
      const res = await h.send(req);
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe(code);
      expect(h.lookups).toEqual([]);
      expect(h.stored).toEqual([]);
    });
  });

  describe('answers 401 and stores nothing when the signature does not verify', () => {
    test.each<[string, () => Promise<Request>, string]>([
      ['signed with another secret', () => signed(batch(1001, 2), { clientSecret: 'guess' }), 'signature_mismatch'],
      ['a body changed after signing', async () => {
        const original = await signed(batch(1001, 2));
        return new Request(original.url, {
          method: 'POST',
          headers: original.headers,
          body: JSON.stringify(batch(1001, 2, 50)),
        });
      }, 'signature_mismatch'],
      ['a query string added after signing', async () => {
        const original = await signed(batch(1001, 2));
        return new Request(`${original.url}?replay=1`, {
          method: 'POST',
          headers: original.headers,
          body: await original.text(),
        });
      }, 'signature_mismatch'],
    ])('%s', async (_label, makeRequest, reason) => {
      const h = harness();
      const res = await h.send(await makeRequest());
      expect(res).toEqual({
        status: 401,
        body: {
          error: { code: 'invalid_signature', message: 'The request signature is not valid', details: { reason } },
        },
      });
      expect(h.stored).toEqual([]);
    });

    it('a portal whose connection has no webhook secret stored', async () => {
      const h = harness({ connections: [noSecret] });
      const res = await h.send(await signed(batch(1005, 1)));
      expect(res.status).toBe(401);
      expect(res.body.error.details.reason).toBe('missing_secret');
      expect(h.stored).toEqual([]);
    });
  });

  describe('answers 400 and stores nothing for a malformed body', () => {
    test.each<[string, unknown, string]>([
      ['not JSON', '[{"eventId": 1,', 'invalid_json'],
      ['empty', '', 'invalid_json'],
      ['a JSON object instead of an array', event(1001, 1), 'invalid_batch'],
      ['an empty array', [], 'invalid_events'],
      ['events without a portalId', [{ ...event(1001, 1), portalId: undefined }], 'invalid_events'],
      ['a portalId as a string', [{ ...event(1001, 1), portalId: '1001' }], 'invalid_events'],
    ])('%s', async (_label, payload, code) => {
      const h = harness();
      const res = await h.send(await signed(payload));
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe(code);
      expect(h.lookups).toEqual([]);
      expect(h.stored).toEqual([]);
    });

    it('invalid UTF-8', async () => {
      const h = harness();
      const req = await signed('x');
      const res = await h.send(
        new Request(internalUrl, {
          method: 'POST',
          headers: req.headers,
          body: new Uint8Array([0x5b, 0xff, 0xfe, 0x5d]),
        }),
      );
      expect(res.body.error.code).toBe('invalid_json');
    });
  });

  it('answers 400 with the issues listed when a signed batch breaks the schema', async () => {
    const h = harness();
    const events = batch(1001, 3);
    events[1] = { ...events[1], occurredAt: '2026-11-25T18:00:00Z' as unknown as number };
    events[2] = { ...events[2], objectId: 'abc' as unknown as number };
    const res = await h.send(await signed(events));
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_events');
    expect(res.body.error.details.issueCount).toBe(2);
    expect(res.body.error.details.issues.map((i: { path: unknown[] }) => i.path)).toEqual([[1, 'occurredAt'], [
      2,
      'objectId',
    ]]);
    expect(h.stored).toEqual([]);
  });

  it('answers 400 for more than 100 events', async () => {
    const h = harness();
    const res = await h.send(await signed(batch(1001, 101)));
    expect(res.status).toBe(400);
    expect(res.body.error.details.issues[0].message).toMatch(/at most 100 events/);
    expect(h.stored).toEqual([]);
  });

  it('answers 404 when no portal in the batch is connected', async () => {
    const h = harness();
    const res = await h.send(await signed(batch(4242, 2)));
    expect(res).toEqual({
      status: 404,
      body: {
        error: {
          code: 'unknown_portal',
          message: 'No connection for the portal(s) in this batch',
          details: { portalIds: ['4242'] },
        },
      },
    });
    expect(h.stored).toEqual([]);
  });

  describe('answers 413 without storing when the body is over the limit', () => {
    it('by its declared Content-Length, without reading it', async () => {
      const h = harness({ maxBodyBytes: 1000 });
      let pulled = 0;
      const body = new ReadableStream({
        pull(controller) {
          pulled++;
          controller.enqueue(new Uint8Array(100));
        },
      });
      const req = await signed(batch(1001, 1));
      const res = await h.send(
        new Request(internalUrl, {
          method: 'POST',
          headers: { ...Object.fromEntries(req.headers), 'content-length': '1001' },
          body,
          duplex: 'half',
        } as RequestInit),
      );
      expect(res.status).toBe(413);
      expect(res.body.error.code).toBe('payload_too_large');
      expect(pulled).toBeLessThanOrEqual(1);
      expect(h.lookups).toEqual([]);
    });

    it('by the bytes of a stream without Content-Length, stopping the read past the limit', async () => {
      const h = harness({ maxBodyBytes: 1000 });
      let pulled = 0;
      const body = new ReadableStream({
        pull(controller) {
          pulled++;
          controller.enqueue(new Uint8Array(300));
        },
      });
      const req = await signed(batch(1001, 1));
      const res = await h.send(
        new Request(internalUrl, { method: 'POST', headers: req.headers, body, duplex: 'half' } as RequestInit),
      );
      expect(res.status).toBe(413);
      expect(pulled).toBeLessThan(10);
      expect(h.lookups).toEqual([]);
      expect(h.stored).toEqual([]);
    });

    it('but takes a body of exactly the limit', async () => {
      const payload = JSON.stringify(batch(1001, 1));
      const h = harness({ maxBodyBytes: new TextEncoder().encode(payload).length });
      expect((await h.send(await signed(payload))).status).toBe(200);
    });
  });

  describe('answers 503 so HubSpot retries when the database fails', () => {
    it('while storing', async () => {
      const h = harness({ failStore: true });
      const res = await h.send(await signed(batch(1001, 5)));
      expect(res.status).toBe(503);
      expect(res.body.error.code).toBe('store_unavailable');
      expect(h.logs[0]).toMatchObject({ status: 503, error: 'could not serialize access' });
    });

    it('when the store does not answer within the deadline', async () => {
      const h = harness({ hangStore: true });
      const res = await h.send(await signed(batch(1001, 5)));
      expect(res.status).toBe(503);
      expect(h.logs[0].error).toMatch(/within 50 ms/);
    });

    it('while looking up the connections, without caching the failure', async () => {
      const h = harness({ failLookup: true });
      expect((await h.send(await signed(batch(1001, 5)))).status).toBe(503);
      h.setLookupFailing(false);
      expect((await h.send(await signed(batch(1001, 5)))).status).toBe(200);
      expect(h.lookups).toHaveLength(2);
    });
  });

  describe('connection cache', () => {
    it('looks a portal up once for a stream of requests', async () => {
      const h = harness();
      await h.send(await signed(batch(1001, 10)));
      h.clock.ms += 29_000;
      await h.send(await signed(batch(1001, 10, 11), { timestamp: h.clock.ms }));
      expect(h.lookups).toEqual([['1001']]);
      expect(h.stored).toHaveLength(2);
    });

    it('looks it up again after 30 s', async () => {
      const h = harness();
      await h.send(await signed(batch(1001, 10)));
      h.clock.ms += 30_001;
      await h.send(await signed(batch(1001, 10, 11), { timestamp: h.clock.ms }));
      expect(h.lookups).toEqual([['1001'], ['1001']]);
    });

    it('shares one lookup between concurrent requests', async () => {
      const h = harness();
      const requests = await Promise.all([1, 11, 21, 31].map((first) => signed(batch(1001, 10, first))));
      const results = await Promise.all(requests.map((req) => h.send(req)));
      expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200]);
      expect(h.lookups).toHaveLength(1);
    });

    it('remembers unknown portals too', async () => {
      const h = harness();
      await h.send(await signed(batch(4242, 1)));
      await h.send(await signed(batch(4242, 1)));
      expect(h.lookups).toEqual([['4242']]);
    });

    it('forgets a connection that is gone (the portal was reconnected): the retry reaches the new one', async () => {
      const h = harness();
      await h.send(await signed(batch(1001, 1)));
      h.setConnections([{ ...acme, connectionId: 'conn-acme-reconnected' }]);
      h.clock.ms += 1_000;
      const delivery = batch(1001, 2, 2);
      expect((await h.send(await signed(delivery, { timestamp: h.clock.ms }))).status).toBe(503);
      expect(await h.send(await signed(delivery, { timestamp: h.clock.ms }))).toEqual({
        status: 200, body: { accepted: 2, duplicates: 0, ignored: 0 },
      });
      expect(h.stored.map((s) => s.connectionId)).toEqual(['conn-acme', 'conn-acme-reconnected']);
      expect(h.lookups).toEqual([['1001'], ['1001']]);
    });
  });

  it('logs one line per request without secrets or event contents', async () => {
    const h = harness();
    await h.send(await signed(batch(1001, 3)));
    await h.send(await signed(batch(1001, 3), { clientSecret: 'wrong' }));
    expect(h.logs).toEqual([
      { function: 'hubspot-webhook', status: 200, events: 3, accepted: 3, duplicates: 0, ignored: 0, ms: 0 },
      { function: 'hubspot-webhook', status: 401, code: 'invalid_signature', events: 3, ms: 0 },
    ]);
    const text = JSON.stringify(h.logs);
    expect(text).not.toContain(secret);
    expect(text).not.toContain('example.com');
  });
});
