/**
 * Webhooks v3 for a public app: the target URL and the subscriptions, set
 * through the API with the app's developer API key, as HubSpot's developer
 * platform does. They drive the same dispatcher the control API configures.
 */

import { z } from 'zod';
import type { ApiRequest } from '../../common/router.ts';
import { notFound, validationError } from '../errors.ts';
import type { RouteDefinition } from './route.ts';
import type { SimulatorState } from '../state.ts';
import type { WebhookSubscription } from '../webhooks.ts';

const settingsBody = z.object({
  targetUrl: z.string().url(),
  throttling: z.object({ maxConcurrentRequests: z.number().int().min(1).max(100), period: z.string().optional() }),
});

const subscriptionBody = z.object({
  eventType: z.string().regex(/^[a-z_]+\.[a-zA-Z]+$/, 'eventType looks like contact.creation'),
  propertyName: z.string().optional(),
  objectTypeId: z.string().optional(),
  active: z.boolean().optional(),
});

function checkApp(request: ApiRequest, state: SimulatorState): void {
  if (request.params.appId !== String(state.webhooks.settings.appId)) {
    throw notFound(`app ${request.params.appId} not found`);
  }
}

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    throw validationError(
      `Invalid input: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  }
  return parsed.data;
}

const at = new Date(0).toISOString();
const settingsJson = (state: SimulatorState) => ({
  targetUrl: state.webhooks.settings.targetUrl,
  throttling: { maxConcurrentRequests: state.webhooks.settings.maxConcurrentRequests, period: 'SECONDLY' },
  createdAt: at,
});
const subscriptionJson = (subscription: WebhookSubscription) => ({
  id: String(subscription.id),
  eventType: subscription.subscriptionType,
  ...(subscription.propertyName ? { propertyName: subscription.propertyName } : {}),
  ...(subscription.objectTypeId ? { objectTypeId: subscription.objectTypeId } : {}),
  active: subscription.active,
  createdAt: at,
});

const base = '/webhooks/v3/{appId}';
const route = (
  method: RouteDefinition['method'],
  pattern: string,
  handler: RouteDefinition['handler'],
): RouteDefinition => ({
  method,
  pattern: `${base}${pattern}`,
  rateLimit: 'standard',
  auth: 'developer',
  handler: (request, state) => {
    checkApp(request, state);
    return handler(request, state);
  },
});

export const webhooksApiRoutes: RouteDefinition[] = [
  route('GET', '/settings', (_request, state) => {
    if (!state.webhooks.settings.targetUrl) throw notFound('no webhook settings for this app');
    return { status: 200, body: settingsJson(state) };
  }),
  route('PUT', '/settings', (request, state) => {
    const input = parse(settingsBody, request.body);
    state.webhooks.configure({
      targetUrl: input.targetUrl,
      maxConcurrentRequests: input.throttling.maxConcurrentRequests,
    });
    return { status: 200, body: settingsJson(state) };
  }),
  route('DELETE', '/settings', (_request, state) => {
    state.webhooks.configure({ targetUrl: null });
    return { status: 204 };
  }),
  route('GET', '/subscriptions', (_request, state) => ({
    status: 200,
    body: { results: state.webhooks.settings.subscriptions.map(subscriptionJson) },
  })),
  route('POST', '/subscriptions', (request, state) => {
    const input = parse(subscriptionBody, request.body);
    if (input.eventType.startsWith('object.') && !input.objectTypeId) {
      throw validationError('object.* subscriptions need an objectTypeId');
    }
    const existing = state.webhooks.settings.subscriptions;
    state.webhooks.configure({
      subscriptions: [...existing, {
        subscriptionType: input.eventType,
        ...(input.propertyName ? { propertyName: input.propertyName } : {}),
        ...(input.objectTypeId ? { objectTypeId: input.objectTypeId } : {}),
        active: input.active ?? false,
      }],
    });
    return { status: 201, body: subscriptionJson(state.webhooks.settings.subscriptions.at(-1)!) };
  }),
  route('DELETE', '/subscriptions/{subscriptionId}', (request, state) => {
    const existing = state.webhooks.settings.subscriptions;
    const kept = existing.filter((s) => String(s.id) !== request.params.subscriptionId);
    if (kept.length === existing.length) throw notFound(`subscription ${request.params.subscriptionId} not found`);
    state.webhooks.configure({ subscriptions: kept });
    return { status: 204 };
  }),
];
