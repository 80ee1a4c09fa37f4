// Access tokens of a HubSpot public (OAuth) app. A connection's Vault
// credentials then hold refresh_token, client_id, client_secret, the current
// access_token and its expires_at. A token within five minutes of expiry is
// refreshed before use, by one worker at a time: the refresher holds the
// connection's credentials lock (a transaction), and the others, once they
// get the lock, find the new token and use it. The new tokens go back to
// Vault. A refresh token HubSpot refuses (the app was uninstalled or access
// revoked) is an 'unauthorized' ProviderError: the worker marks the
// connection needs_reauth. Error messages never carry a token.
import { Client } from '@hubspot/api-client';
import { z } from 'zod';
import { ProviderError } from '../adapter.ts';

export const refreshMarginMs = 5 * 60_000;

const oauthCredentialsSchema = z.object({
  refresh_token: z.string().min(1),
  client_id: z.string().min(1),
  client_secret: z.string().min(1),
  access_token: z.string().optional(),
  expires_at: z.string().optional(),
}).passthrough();
export type OAuthCredentials = z.infer<typeof oauthCredentialsSchema>;

/** Reads and replaces a connection's credentials while holding its lock. */
export interface CredentialLock {
  withLockedCredentials<T>(
    connectionId: string,
    work: (credentials: Record<string, unknown>, save: (next: Record<string, unknown>) => Promise<void>) => Promise<T>,
  ): Promise<T>;
}

export interface TokenGrant {
  accessToken: string;
  expiresInSeconds: number;
}

export type RequestToken = (credentials: OAuthCredentials, basePath: string | undefined) => Promise<TokenGrant>;

export const isOAuthCredentials = (credentials: Record<string, unknown>): boolean => typeof credentials.refresh_token === 'string';

const fresh = (credentials: Record<string, unknown>, now: number) =>
  typeof credentials.access_token === 'string' && typeof credentials.expires_at === 'string' &&
  Date.parse(credentials.expires_at) - now > refreshMarginMs;

/** The access token to call HubSpot with: the stored one while it is fresh, else a refreshed one. */
export async function oauthAccessToken(
  lock: CredentialLock,
  connectionId: string,
  credentials: Record<string, unknown>,
  basePath: string | undefined,
  requestToken: RequestToken = requestTokenFromHubSpot,
  now: () => number = Date.now,
): Promise<string> {
  if (fresh(credentials, now())) return credentials.access_token as string;
  return await lock.withLockedCredentials(connectionId, async (current, save) => {
    if (fresh(current, now())) return current.access_token as string; // another worker refreshed meanwhile
    const parsed = oauthCredentialsSchema.safeParse(current);
    if (!parsed.success) {
      throw new ProviderError(`connection ${connectionId} has incomplete OAuth credentials (refresh_token, client_id, client_secret)`, 'unauthorized');
    }
    const grant = await requestToken(parsed.data, basePath);
    await save({ ...current, access_token: grant.accessToken, expires_at: new Date(now() + grant.expiresInSeconds * 1000).toISOString() });
    return grant.accessToken;
  });
}

/** POST /oauth/v1/token (grant_type=refresh_token) through the official client. */
export async function requestTokenFromHubSpot(credentials: OAuthCredentials, basePath: string | undefined): Promise<TokenGrant> {
  const client = new Client({ ...(basePath ? { basePath } : {}), numberOfApiCallRetries: 0 });
  try {
    const response = await client.oauth.tokensApi.create(
      'refresh_token', undefined, undefined, credentials.client_id, credentials.client_secret, credentials.refresh_token,
    );
    return { accessToken: response.accessToken, expiresInSeconds: response.expiresIn };
  } catch (error) {
    throw classifyTokenError(error);
  }
}

/** A refused grant needs a person to re-authorize; an outage is retried. Only HubSpot's error word and message are kept. */
export function classifyTokenError(error: unknown): ProviderError {
  const code = (error as { code?: unknown })?.code;
  if (typeof code !== 'number') {
    return new ProviderError(`HubSpot token endpoint unreachable: ${error instanceof Error ? error.message : String(error)}`, 'unavailable');
  }
  if (code >= 500 || code === 429) return new ProviderError(`HubSpot token endpoint ${code}`, 'unavailable');
  const body = parseBody((error as { body?: unknown }).body);
  const word = String(body.status ?? body.error ?? 'error').slice(0, 60);
  const message = String(body.message ?? body.error_description ?? '').slice(0, 200);
  const refused = word === 'BAD_REFRESH_TOKEN' || word === 'invalid_grant';
  return new ProviderError(
    `HubSpot refused the ${refused ? 'refresh token (app uninstalled or access revoked)' : 'token request'}: ${word} ${message}`.trim(),
    'unauthorized',
  );
}

function parseBody(body: unknown): Record<string, unknown> {
  if (typeof body === 'string') {
    try {
      return JSON.parse(body);
    } catch {
      return {};
    }
  }
  return body && typeof body === 'object' ? body as Record<string, unknown> : {};
}
