/**
 * OAuth for a public app, as HubSpot's v1 token endpoint does it: an install
 * yields a refresh token (it does not change on refresh) and a short-lived
 * access token; `POST /oauth/v1/token` (form-encoded,
 * grant_type=refresh_token, client_id, client_secret, refresh_token) issues
 * a new access token. Uninstalling the app (revoke) invalidates the refresh
 * tokens and every access token issued from them. Expiry follows the
 * simulator clock, so tests can move time instead of waiting.
 */

import { randomUUID } from 'node:crypto';

export interface OAuthSettings {
  clientId: string;
  clientSecret: string;
  accessTokenTtlSeconds: number;
}

export interface TokenGrant {
  token_type: 'bearer';
  refresh_token: string;
  access_token: string;
  expires_in: number;
}

/** HubSpot's token endpoint error body: `{status, message, correlationId}`. */
export interface TokenError {
  status: 'BAD_GRANT_TYPE' | 'BAD_CLIENT_ID' | 'BAD_CLIENT_SECRET' | 'BAD_REFRESH_TOKEN';
  message: string;
}

export type AccessCheck = { ok: true } | { ok: false; expiredMsAgo?: number };

export class OAuthServer {
  private readonly refreshTokens = new Set<string>();
  private readonly accessTokens = new Map<string, { expiresAt: number; refreshToken: string }>();
  refreshes = 0;

  constructor(public settings: OAuthSettings, private readonly now: () => number) {}

  /** A user installs the app: a refresh token and a first access token. */
  install(): TokenGrant {
    const refreshToken = `sim-refresh-${randomUUID()}`;
    this.refreshTokens.add(refreshToken);
    return this.grant(refreshToken);
  }

  /** The app is uninstalled (or its tokens revoked): nothing issued so far works. */
  revoke(): number {
    const revoked = this.refreshTokens.size;
    this.refreshTokens.clear();
    this.accessTokens.clear();
    return revoked;
  }

  /** The token endpoint. */
  token(form: URLSearchParams): { ok: true; grant: TokenGrant } | { ok: false; error: TokenError } {
    if (form.get('grant_type') !== 'refresh_token') {
      return { ok: false, error: { status: 'BAD_GRANT_TYPE', message: 'grant_type must be refresh_token' } };
    }
    if (form.get('client_id') !== this.settings.clientId) {
      return { ok: false, error: { status: 'BAD_CLIENT_ID', message: 'missing or unknown client id' } };
    }
    if (form.get('client_secret') !== this.settings.clientSecret) {
      return { ok: false, error: { status: 'BAD_CLIENT_SECRET', message: 'missing or invalid client secret' } };
    }
    const refreshToken = form.get('refresh_token') ?? '';
    if (!this.refreshTokens.has(refreshToken)) {
      return { ok: false, error: { status: 'BAD_REFRESH_TOKEN', message: 'missing or invalid refresh token' } };
    }
    this.refreshes++;
    return { ok: true, grant: this.grant(refreshToken) };
  }

  /** Whether an API call may use this access token; an expired one says how long ago it expired. */
  check(accessToken: string): AccessCheck {
    const issued = this.accessTokens.get(accessToken);
    if (!issued) return { ok: false };
    const now = this.now();
    return issued.expiresAt > now ? { ok: true } : { ok: false, expiredMsAgo: now - issued.expiresAt };
  }

  describe() {
    return {
      clientId: this.settings.clientId,
      accessTokenTtlSeconds: this.settings.accessTokenTtlSeconds,
      installs: this.refreshTokens.size,
      refreshes: this.refreshes,
    };
  }

  private grant(refreshToken: string): TokenGrant {
    const accessToken = `sim-oauth-${randomUUID()}`;
    this.accessTokens.set(accessToken, { expiresAt: this.now() + this.settings.accessTokenTtlSeconds * 1000, refreshToken });
    return { token_type: 'bearer', refresh_token: refreshToken, access_token: accessToken, expires_in: this.settings.accessTokenTtlSeconds };
  }
}
