/** v1 webhook subscriptions: list, create (v2 payloads), delete. */

import { PipedriveApiError } from '../errors.ts';
import { MAX_WEBHOOKS_PER_USER, type SubscriptionInput, subscriptionJson } from '../webhook-subscriptions.ts';
import { idParam } from './params.ts';
import { type PipedriveRoute, v1Cost } from './route.ts';

export const webhookRoutes: PipedriveRoute[] = [
  {
    method: 'GET',
    pattern: '/v1/webhooks',
    api: 'v1',
    rateLimit: 'standard',
    cost: v1Cost('GET', false),
    handler: (_request, state) => ({
      status: 200,
      body: {
        success: true,
        status: 'ok',
        data: state.webhooks.list().map((subscription) =>
          subscriptionJson(subscription, state.options.companyId, state.users.me().id)
        ),
      },
    }),
  },
  {
    method: 'POST',
    pattern: '/v1/webhooks',
    api: 'v1',
    rateLimit: 'standard',
    cost: v1Cost('POST', true),
    handler(request, state) {
      const input = (request.body ?? {}) as SubscriptionInput;
      const userId = typeof input.user_id === 'number' ? input.user_id : state.users.me().id;
      if (
        state.webhooks.list().filter((subscription) => subscription.userId === userId).length >= MAX_WEBHOOKS_PER_USER
      ) {
        throw new PipedriveApiError(400, 'Webhooks limit reached', {
          body: {
            status: 'error',
            success: false,
            errors: { user_id: [`at most ${MAX_WEBHOOKS_PER_USER} webhooks per user`] },
          },
        });
      }
      const subscription = state.webhooks.subscribe(input, { userId: state.users.me().id });
      return {
        status: 201,
        body: {
          success: true,
          status: 'ok',
          data: subscriptionJson(subscription, state.options.companyId, state.users.me().id),
        },
      };
    },
  },
  {
    method: 'DELETE',
    pattern: '/v1/webhooks/{id}',
    api: 'v1',
    rateLimit: 'standard',
    cost: v1Cost('DELETE', true),
    handler(request, state) {
      if (!state.webhooks.unsubscribe(idParam(request.params.id))) {
        throw new PipedriveApiError(404, 'Webhook not found', {
          body: { success: false, status: 'error', errors: { id: ['Webhook not found'] } },
        });
      }
      return { status: 200, body: { success: true, status: 'ok' } };
    },
  },
];
