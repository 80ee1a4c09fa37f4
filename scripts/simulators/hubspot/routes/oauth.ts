/** `POST /oauth/v1/token`: form-encoded, no bearer token; errors are HubSpot's 400 with a status code word. */

import type { RouteDefinition } from './route.ts';

const token: RouteDefinition = {
  method: 'POST',
  pattern: '/oauth/v1/token',
  rateLimit: 'exempt',
  auth: 'oauth',
  handler(request, state) {
    const result = state.oauth.token(new URLSearchParams(typeof request.body === 'string' ? request.body : ''));
    if (result.ok) return { status: 200, body: result.grant };
    return { status: 400, body: { ...result.error, correlationId: crypto.randomUUID() } };
  },
};

export const oauthRoutes: RouteDefinition[] = [token];
