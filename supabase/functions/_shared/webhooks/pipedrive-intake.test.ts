import { describe, expect, it, test } from 'vitest';
import { basicAuthorization } from '../providers/pipedrive/webhook-auth.ts';
import type { WebhookConnection } from './connection-cache.ts';
import {
  createPipedriveWebhookHandler,
  PIPEDRIVE_MAX_CLOCK_SKEW_MS,
  PIPEDRIVE_MAX_EVENT_AGE_MS,
  type ReceivedPipedriveEvent,
} from './pipedrive-intake.ts';
import type { WebhookRequestLog } from './webhook-intake.ts';

const url = 'http://127.0.0.1:9000/pipedrive-webhook';
const startMs = Date.parse('2026-11-25T20:00:00Z');
const user = 'crm-sync';
const password = 'pd-webhook-password-7f3a';

const acme: WebhookConnection = {
  connectionId: 'conn-acme',
  accountId: '4100001',
  enabled: true,
  webhookSecret: `${user}:${password}`,
};
const paused: WebhookConnection = { ...acme, connectionId: 'conn-paused', accountId: '4100002', enabled: false };
const noSecret: WebhookConnection = {
  ...acme,
  connectionId: 'conn-nosecret',
  accountId: '4100003',
  webhookSecret: null,
};

let nextEvent = 1;
function event(overrides: { meta?: Record<string, unknown>; data?: unknown; previous?: unknown } = {}) {
  const n = nextEvent++;
  return {
    meta: {
      action: 'change',
      change_source: 'app',
      company_id: '4100001',
      correlation_id: `0b5e2c1a-0000-4000-8000-${String(n).padStart(12, '0')}`,
      entity_id: '42',
      entity: 'person',
      id: `7d2f8a10-0000-4000-8000-${String(n).padStart(12, '0')}`,
      is_bulk_edit: false,
      timestamp: new Date(startMs - 2_000).toISOString(),
      type: 'general',
      user_id: '1',
      version: '2.0',
      webhook_id: '3',
      webhook_owner_id: '1',
      host: 'acme.pipedrive.com',
      attempt: 1,
      ...overrides.meta,
    },
    data: 'data' in overrides ? overrides.data : { id: 42, name: 'Zoë Ågren', emails: [{ value: 'zoe@example.com' }] },
    previous: 'previous' in overrides ? overrides.previous : { name: 'Zoe Agren' },
  };
}

function harness(options: { connections?: WebhookConnection[]; failLookup?: boolean; store?: 'fail' | 'hang' } = {}) {
  const clock = { ms: startMs };
  const lookups: string[][] = [];
  const stored: { connectionId: string; events: ReceivedPipedriveEvent[] }[] = [];
  const seen = new Set<string>();
  const logs: WebhookRequestLog[] = [];
  let connections = options.connections ?? [acme, paused, noSecret];
  const handler = createPipedriveWebhookHandler({
    async findConnections(accountIds) {
      lookups.push(accountIds);
      if (options.failLookup) throw new Error('connection refused');
      return connections.filter((c) => accountIds.includes(c.accountId));
    },
    receiveEvents(connectionId, events) {
      if (options.store === 'fail') return Promise.reject(new Error('could not serialize access'));
      if (options.store === 'hang') return new Promise(() => {});
      stored.push({ connectionId, events });
      const fresh = events.filter((e) => !seen.has(e.dedupe_key));
      for (const e of events) seen.add(e.dedupe_key);
      return Promise.resolve({ accepted: fresh.length, duplicates: events.length - fresh.length });
    },
    maxBodyBytes: 64 * 1024,
    now: () => clock.ms,
    log: (entry) => logs.push(entry),
    storeDeadlineMs: 50,
  });
  return {
    clock,
    lookups,
    stored,
    logs,
    /** What the database holds from now on (a company reconnected: a new connection with new webhook credentials). */
    setConnections: (value: WebhookConnection[]) => {
      connections = value;
    },
    async send(req: Request) {
      const res = await handler(req);
      return { status: res.status, body: await res.json() };
    },
  };
}

function delivery(payload: unknown, headers: Record<string, string | null> = {}, method = 'POST'): Request {
  const all: Record<string, string | null> = {
    'content-type': 'application/json',
    'user-agent': 'Pipedrive Webhooks',
    authorization: basicAuthorization(user, password),
    ...headers,
  };
  return new Request(url, {
    method,
    body: method === 'GET' ? undefined : typeof payload === 'string' ? payload : JSON.stringify(payload),
    headers: Object.entries(all).filter((entry): entry is [string, string] => entry[1] !== null),
  });
}

describe('pipedrive-webhook intake', () => {
  it('stores a delivery exactly as received, keyed by its event id, and answers 200', async () => {
    const h = harness();
    const payload = event();
    const res = await h.send(delivery(payload));
    expect(res).toEqual({ status: 200, body: { accepted: 1, duplicates: 0, ignored: 0 } });
    expect(h.stored).toEqual([
      { connectionId: 'conn-acme', events: [{ dedupe_key: `event:${payload.meta.id}`, event: payload }] },
    ]);
  });

  test.each(
    [
      ['create', { previous: null }],
      ['delete', { data: null, previous: { id: 42, name: 'Zoë Ågren' } }],
      ['delete', { data: null, previous: { id: 42 }, meta: { merged_to_id: '77' } }],
      ['change', { meta: { merged_from_id: '42', entity_id: '77' } }],
      ['change', { meta: { user_id: 1, webhook_id: 3, merged_from_id: 42, unknown_field: { x: 1 } } }],
      ['create', { previous: null, meta: { timestamp: '2026-11-25T21:59:58+02:00', change_source: 'api' } }],
    ] as const,
  )('accepts a %s event', async (action, overrides) => {
    const h = harness();
    const payload = event({ ...overrides, meta: { action, ...('meta' in overrides ? overrides.meta : {}) } });
    expect((await h.send(delivery(payload))).status).toBe(200);
    expect(h.stored[0].events[0].event).toEqual(payload);
  });

  it('takes a retry (same event id, higher attempt) and a duplicate for the event already stored', async () => {
    const h = harness();
    const first = event();
    await h.send(delivery(first));
    const retry = { ...first, meta: { ...first.meta, attempt: 2 } };
    expect((await h.send(delivery(retry))).body).toEqual({ accepted: 0, duplicates: 1, ignored: 0 });
    expect((await h.send(delivery(first))).body).toEqual({ accepted: 0, duplicates: 1, ignored: 0 });
    expect(new Set(h.stored.map((s) => s.events[0].dedupe_key)).size).toBe(1);
  });

  it('answers 200 and stores nothing for a disabled connection with the right credentials', async () => {
    const h = harness();
    const res = await h.send(delivery(event({ meta: { company_id: '4100002' } })));
    expect(res).toEqual({ status: 200, body: { accepted: 0, duplicates: 0, ignored: 1 } });
    expect(h.stored).toEqual([]);
  });

  describe('answers 401 without reading the body or asking the database when the credentials are absent or malformed', () => {
    test.each<[string, string | null, string]>([
      ['no Authorization header', null, 'missing_credentials'],
      ['an empty header', '', 'missing_credentials'],
      ['a Bearer token', 'Bearer abc.def.ghi', 'invalid_credentials'],
      ['Basic without credentials', 'Basic ', 'invalid_credentials'],
      ['bad base64', 'Basic !!!notbase64', 'invalid_credentials'],
      ['base64 of the wrong length', 'Basic Y3JtLXN5bmM6cGFzcw', 'invalid_credentials'],
      ['credentials without a colon', `Basic ${btoa('crm-syncpassword')}`, 'invalid_credentials'],
      ['a huge header', `Basic ${'QUFB'.repeat(1_000)}`, 'invalid_credentials'],
    ])('%s', async (_label, authorization, code) => {
      const h = harness();
      const res = await h.send(delivery(event(), { authorization }));
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe(code);
      expect(h.lookups).toEqual([]);
      expect(h.stored).toEqual([]);
    });
  });

  describe('answers 401 and stores nothing when the credentials do not match', () => {
    test.each<[string, string, string[]]>([
      ['a wrong password', basicAuthorization(user, 'guess'), ['4100001']],
      ['a wrong user', basicAuthorization('admin', password), ['4100001']],
      ['the password with a trailing space', basicAuthorization(user, `${password} `), ['4100001']],
      ['a password that is a prefix', basicAuthorization(user, password.slice(0, -1)), ['4100001']],
    ])('%s', async (_label, authorization) => {
      const h = harness();
      const res = await h.send(delivery(event(), { authorization }));
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe('invalid_credentials');
      expect(h.stored).toEqual([]);
    });

    it('when the connection has no webhook secret', async () => {
      const h = harness();
      const res = await h.send(delivery(event({ meta: { company_id: '4100003' } })));
      expect(res.status).toBe(401);
      expect(h.stored).toEqual([]);
    });

    it('for a disabled connection', async () => {
      const h = harness();
      const req = delivery(event({ meta: { company_id: '4100002' } }), {
        authorization: basicAuthorization(user, 'x'),
      });
      expect((await h.send(req)).status).toBe(401);
    });
  });

  describe('answers 400 without asking the database for a malformed body', () => {
    const valid = event();
    test.each<[string, unknown, string]>([
      ['not JSON', '{"meta": {', 'invalid_json'],
      ['an empty body', '', 'invalid_json'],
      ['a JSON array (a HubSpot batch)', [valid], 'invalid_event'],
      ['no meta', { data: valid.data, previous: null }, 'invalid_event'],
      [
        'a v1 payload',
        { current: valid.data, previous: null, meta: { ...valid.meta, version: '1.0' } },
        'invalid_event',
      ],
      ['an unknown action', event({ meta: { action: 'merged' } }), 'invalid_event'],
      ['company_id as a number', event({ meta: { company_id: 4100001 } }), 'invalid_event'],
      ['company_id that is not numeric', event({ meta: { company_id: "4100001' or 1=1" } }), 'invalid_event'],
      ['an event id that is not a uuid', event({ meta: { id: 'abc' } }), 'invalid_event'],
      ['a timestamp that is not RFC 3339', event({ meta: { timestamp: 'yesterday' } }), 'invalid_event'],
      ['a timestamp in epoch ms', event({ meta: { timestamp: startMs } }), 'invalid_event'],
      ['a change without data', event({ data: null }), 'invalid_event'],
      ['data as a string', event({ data: 'x' }), 'invalid_event'],
      ['entity_id with a slash', event({ meta: { entity_id: '../1' } }), 'invalid_event'],
    ])('%s', async (_label, payload, code) => {
      const h = harness();
      const res = await h.send(delivery(payload));
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe(code);
      expect(h.lookups).toEqual([]);
      expect(h.stored).toEqual([]);
    });

    it('invalid UTF-8', async () => {
      const h = harness();
      const req = delivery('x');
      const res = await h.send(
        new Request(url, { method: 'POST', headers: req.headers, body: new Uint8Array([0x7b, 0xff, 0x7d]) }),
      );
      expect(res.body.error.code).toBe('invalid_json');
    });

    it('lists the issues', async () => {
      const h = harness();
      const res = await h.send(delivery(event({ meta: { id: 1, attempt: 'one' } })));
      expect(res.body.error.details.issues.map((i: { path: unknown[] }) => i.path)).toEqual([
        ['meta', 'id'],
        ['meta', 'attempt'],
      ]);
      expect(res.body.error.details.issueCount).toBe(2);
    });
  });

  describe('refuses an event outside the time window before asking the database', () => {
    test.each<[string, number, string | null]>([
      ['a day old', PIPEDRIVE_MAX_EVENT_AGE_MS + 1, 'too_old'],
      ['just inside a day', PIPEDRIVE_MAX_EVENT_AGE_MS - 1_000, null],
      ['a retry three minutes later', 183_000, null],
      ['six minutes ahead', -(PIPEDRIVE_MAX_CLOCK_SKEW_MS + 60_000), 'in_future'],
      ['four minutes ahead', -(PIPEDRIVE_MAX_CLOCK_SKEW_MS - 60_000), null],
    ])('%s', async (_label, ageMs, reason) => {
      const h = harness();
      const res = await h.send(delivery(event({ meta: { timestamp: new Date(startMs - ageMs).toISOString() } })));
      if (reason === null) {
        expect(res.status).toBe(200);
      } else {
        expect(res.status).toBe(400);
        expect(res.body.error).toMatchObject({ code: 'event_outside_window', details: { reason } });
        expect(h.lookups).toEqual([]);
      }
    });
  });

  it('answers 404 for a company without a connection, and remembers it', async () => {
    const h = harness();
    const stranger = () => delivery(event({ meta: { company_id: '999' } }));
    const res = await h.send(stranger());
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('unknown_company');
    await h.send(stranger());
    expect(h.lookups).toEqual([['999']]);
  });

  it('looks a company up again when the held connection refuses the credentials (reconnected), at most once a second', async () => {
    const h = harness();
    expect((await h.send(delivery(event()))).status).toBe(200);
    const reconnected = { ...acme, connectionId: 'conn-acme-reconnected', webhookSecret: 'crm-sync:new-password' };
    h.setConnections([reconnected]);
    h.clock.ms += 1_000;
    const newCredentials = { authorization: basicAuthorization('crm-sync', 'new-password') };
    expect((await h.send(delivery(event(), newCredentials))).status).toBe(200);
    expect(h.stored.map((s) => s.connectionId)).toEqual(['conn-acme', 'conn-acme-reconnected']);
    // Wrong credentials against the freshly looked-up connection: refused without another lookup.
    for (let i = 0; i < 3; i++) expect((await h.send(delivery(event()))).status).toBe(401);
    expect(h.lookups).toEqual([['4100001'], ['4100001']]);
  });

  it('answers 413 to a body over the limit, declared or streamed', async () => {
    const h = harness();
    const big = event({ data: { id: 42, notes: 'x'.repeat(70 * 1024) } });
    expect((await h.send(delivery(big))).status).toBe(413);
    const streamed = new Request(url, {
      method: 'POST',
      headers: delivery('').headers,
      body: new ReadableStream({
        pull(controller) {
          controller.enqueue(new Uint8Array(16 * 1024).fill(0x20));
        },
      }),
      duplex: 'half',
    } as RequestInit);
    const res = await h.send(streamed);
    expect(res).toMatchObject({ status: 413, body: { error: { code: 'payload_too_large' } } });
    expect(h.lookups).toEqual([]);
  });

  describe('answers 415 to a body that is not declared JSON', () => {
    test.each<[string | null]>([[null], ['text/plain'], ['application/x-www-form-urlencoded'], ['application/jsonp']])(
      '%s',
      async (contentType) => {
        const h = harness();
        const res = await h.send(delivery(event(), { 'content-type': contentType }));
        expect(res.status).toBe(415);
        expect(res.body.error.code).toBe('unsupported_media_type');
      },
    );

    it('but takes application/json with a charset', async () => {
      const h = harness();
      const res = await h.send(delivery(event(), { 'content-type': 'Application/JSON; charset=utf-8' }));
      expect(res.status).toBe(200);
    });
  });

  test.each(['GET', 'PUT', 'DELETE'])('answers 405 to %s', async (method) => {
    const h = harness();
    const res = await h.send(delivery(event(), {}, method));
    expect(res.status).toBe(405);
  });

  describe('answers 503 so Pipedrive retries when the database fails', () => {
    it('while looking up the connection', async () => {
      const h = harness({ failLookup: true });
      const res = await h.send(delivery(event()));
      expect(res).toMatchObject({ status: 503, body: { error: { code: 'store_unavailable' } } });
      expect(h.logs[0]).toMatchObject({ status: 503, error: 'connection refused' });
    });

    it('while storing', async () => {
      const h = harness({ store: 'fail' });
      expect((await h.send(delivery(event()))).status).toBe(503);
    });

    it('when the store does not answer within the deadline', async () => {
      const h = harness({ store: 'hang' });
      const res = await h.send(delivery(event()));
      expect(res.status).toBe(503);
      expect(h.logs[0].error).toMatch(/within 50 ms/);
    });
  });

  it('logs one line per request without credentials or event contents', async () => {
    const h = harness();
    await h.send(delivery(event()));
    await h.send(delivery(event(), { authorization: basicAuthorization(user, 'wrong-password') }));
    expect(h.logs).toEqual([
      { function: 'pipedrive-webhook', status: 200, events: 1, accepted: 1, duplicates: 0, ignored: 0, ms: 0 },
      { function: 'pipedrive-webhook', status: 401, code: 'invalid_credentials', events: 1, ms: 0 },
    ]);
    const text = JSON.stringify(h.logs);
    expect(text).not.toContain(password);
    expect(text).not.toContain('example.com');
  });
});
