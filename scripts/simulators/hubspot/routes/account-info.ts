/** Account info v3: portal details (a cheap credential check) and daily API usage. */

import type { RouteDefinition } from './route.ts';

const details: RouteDefinition = {
  method: 'GET',
  pattern: '/account-info/v3/details',
  rateLimit: 'standard',
  handler(_request, state) {
    return {
      status: 200,
      body: {
        portalId: state.options.portalId,
        accountType: 'STANDARD',
        timeZone: 'US/Eastern',
        companyCurrency: 'USD',
        additionalCurrencies: [],
        utcOffset: '-05:00',
        utcOffsetMilliseconds: -18_000_000,
        uiDomain: 'app.hubspot.com',
        dataHostingLocation: 'na1',
      },
    };
  },
};

const dailyUsage: RouteDefinition = {
  method: 'GET',
  pattern: '/account-info/v3/api-usage/daily/private-apps',
  rateLimit: 'standard',
  handler(request, state) {
    const now = new Date();
    const midnight = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1));
    const limit = state.rateLimiter.settings.dailyLimit;
    return {
      status: 200,
      body: {
        results: [{
          name: 'api-calls-daily',
          usageLimit: limit,
          currentUsage: state.rateLimiter.dailyUsed(request.token),
          collectedAt: now.toISOString(),
          fetchStatus: 'SUCCESS',
          resetsAt: midnight.toISOString(),
        }],
      },
    };
  },
};

export const accountInfoRoutes: RouteDefinition[] = [details, dailyUsage];
