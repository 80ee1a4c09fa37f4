// Access tokens of OAuth connections: used while fresh, refreshed near
// expiry by one caller at a time, refused refresh tokens reported as
// unauthorized without the token in the message.
import { describe, expect, it } from 'vitest';
import { ProviderError } from '../adapter.ts';
import { classifyTokenError, type CredentialLock, oauthAccessToken, type RequestToken } from './oauth.ts';

const NOW = Date.parse('2026-11-25T12:00:00Z');
const CONNECTION = 'c1c1c1c1-0000-4000-8000-000000000001';

/** An in-memory credentials store whose lock serializes callers, like the advisory lock does. */
function store(initial: Record<string, unknown>) {
  let credentials = initial;
  let chain = Promise.resolve();
  const lock: CredentialLock = {
    withLockedCredentials(_id, work) {
      const run = chain.then(() => work(credentials, async (next) => void (credentials = next)));
      chain = run.then(() => undefined, () => undefined);
      return run;
    },
  };
  return { lock, current: () => credentials };
}

const oauth = (expiresAt: string) => ({
  refresh_token: 'refresh-secret-123', client_id: 'client', client_secret: 'client-secret', access_token: 'old-access', expires_at: expiresAt,
});

describe('oauthAccessToken', () => {
  it('uses the stored token while it is more than five minutes from expiry', async () => {
    const { lock } = store(oauth('2026-11-25T12:06:00Z'));
    const requestToken: RequestToken = () => Promise.reject(new Error('must not refresh'));
    expect(await oauthAccessToken(lock, CONNECTION, oauth('2026-11-25T12:06:00Z'), undefined, requestToken, () => NOW)).toBe('old-access');
  });

  it('refreshes a token near expiry once for concurrent callers, and stores the new one', async () => {
    const stale = oauth('2026-11-25T12:04:00Z');
    const { lock, current } = store(stale);
    let calls = 0;
    const requestToken: RequestToken = async () => {
      calls++;
      await new Promise((r) => setTimeout(r, 10));
      return { accessToken: `new-access-${calls}`, expiresInSeconds: 1800 };
    };
    const tokens = await Promise.all([1, 2, 3].map(() => oauthAccessToken(lock, CONNECTION, stale, undefined, requestToken, () => NOW)));
    expect(tokens).toEqual(['new-access-1', 'new-access-1', 'new-access-1']);
    expect(calls).toBe(1);
    expect(current()).toMatchObject({ access_token: 'new-access-1', expires_at: '2026-11-25T12:30:00.000Z', refresh_token: 'refresh-secret-123' });
  });

  it('reports incomplete OAuth credentials as unauthorized', async () => {
    const broken = { refresh_token: 'refresh-secret-123' };
    const { lock } = store(broken);
    await expect(oauthAccessToken(lock, CONNECTION, broken, undefined, () => Promise.reject(new Error('no')), () => NOW))
      .rejects.toMatchObject({ kind: 'unauthorized' });
  });
});

describe('classifyTokenError', () => {
  it('turns a refused refresh token into unauthorized, keeping only HubSpot\'s words', () => {
    const error = classifyTokenError({ code: 400, body: { status: 'BAD_REFRESH_TOKEN', message: 'missing or invalid refresh token' } });
    expect(error).toBeInstanceOf(ProviderError);
    expect(error.kind).toBe('unauthorized');
    expect(error.message).toBe('HubSpot refused the refresh token (app uninstalled or access revoked): BAD_REFRESH_TOKEN missing or invalid refresh token');
    expect(classifyTokenError({ code: 400, body: '{"error":"invalid_grant"}' }).message).toContain('refresh token (app uninstalled');
  });

  it('retries an outage or a network failure', () => {
    expect(classifyTokenError({ code: 503, body: {} }).kind).toBe('unavailable');
    expect(classifyTokenError(new TypeError('fetch failed')).kind).toBe('unavailable');
  });
});
