/**
 * Webhook subscriptions as `/v1/webhooks` manages them. Only version 2.0
 * payloads are sent; the v1 action names `added`, `updated` and `deleted`
 * are accepted as the v2 ones they became (`merged` has no v2 counterpart:
 * a merge sends a delete and a change).
 */

import { PipedriveApiError } from './errors.ts';

export const EVENT_ACTIONS = ['create', 'change', 'delete', '*'] as const;
export type EventAction = (typeof EVENT_ACTIONS)[number];
const V1_ACTIONS: Record<string, EventAction> = { added: 'create', updated: 'change', deleted: 'delete' };

export const EVENT_OBJECTS = [
  'activity',
  'deal',
  'lead',
  'note',
  'organization',
  'person',
  'pipeline',
  'product',
  'stage',
  'user',
  '*',
] as const;

/** Pipedrive allows 40 webhooks per user. */
export const MAX_WEBHOOKS_PER_USER = 40;

export interface WebhookSubscription {
  id: number;
  userId: number;
  name: string;
  eventAction: EventAction;
  eventObject: string;
  subscriptionUrl: string;
  httpAuthUser: string | null;
  httpAuthPassword: string | null;
  addTime: number;
  lastDeliveryTime: number | null;
  lastHttpStatus: number | null;
}

export interface SubscriptionInput {
  subscription_url?: unknown;
  event_action?: unknown;
  event_object?: unknown;
  name?: unknown;
  user_id?: unknown;
  http_auth_user?: unknown;
  http_auth_password?: unknown;
  version?: unknown;
}

/** The 400 of `POST /v1/webhooks`: `{status: "error", success: false, errors: {field: [message]}}`. */
function invalid(errors: Record<string, string[]>): PipedriveApiError {
  return new PipedriveApiError(400, Object.values(errors).flat().join('; '), {
    body: { status: 'error', success: false, errors },
  });
}

export function validateSubscription(
  input: SubscriptionInput,
  defaults: { userId: number },
): Omit<WebhookSubscription, 'id' | 'addTime' | 'lastDeliveryTime' | 'lastHttpStatus'> {
  const errors: Record<string, string[]> = {};
  let url: URL | undefined;
  try {
    url = typeof input.subscription_url === 'string' ? new URL(input.subscription_url) : undefined;
  } catch {
    url = undefined;
  }
  if (!url || !['http:', 'https:'].includes(url.protocol)) {
    errors.subscription_url = ['invalid or non-reachable URL'];
  }
  const rawAction = typeof input.event_action === 'string' ? input.event_action : '';
  const action = (EVENT_ACTIONS as readonly string[]).includes(rawAction)
    ? rawAction as EventAction
    : V1_ACTIONS[rawAction];
  if (!action) errors.event_action = [`must be one of ${EVENT_ACTIONS.join(', ')}`];
  if (typeof input.event_object !== 'string' || !(EVENT_OBJECTS as readonly string[]).includes(input.event_object)) {
    errors.event_object = [`must be one of ${EVENT_OBJECTS.join(', ')}`];
  }
  if (input.version !== undefined && input.version !== '2.0') {
    errors.version = ['the simulator sends webhooks version 2.0 only'];
  }
  for (const field of ['http_auth_user', 'http_auth_password', 'name'] as const) {
    if (input[field] !== undefined && input[field] !== null && typeof input[field] !== 'string') {
      errors[field] = ['must be a string'];
    }
  }
  if (input.user_id !== undefined && !Number.isInteger(input.user_id)) errors.user_id = ['must be an integer'];
  if (Object.keys(errors).length) throw invalid(errors);
  return {
    userId: (input.user_id as number | undefined) ?? defaults.userId,
    name: (input.name as string | undefined) ?? `${input.event_action}.${input.event_object}`,
    eventAction: action!,
    eventObject: input.event_object as string,
    subscriptionUrl: url!.toString(),
    httpAuthUser: (input.http_auth_user as string | null | undefined) ?? null,
    httpAuthPassword: (input.http_auth_password as string | null | undefined) ?? null,
  };
}

export function subscriptionMatches(subscription: WebhookSubscription, action: string, entity: string): boolean {
  return (subscription.eventAction === '*' || subscription.eventAction === action) &&
    (subscription.eventObject === '*' || subscription.eventObject === entity);
}

/** A subscription as `/v1/webhooks` returns it. */
export function subscriptionJson(
  subscription: WebhookSubscription,
  companyId: number,
  adminId: number,
): Record<string, unknown> {
  return {
    id: subscription.id,
    company_id: companyId,
    owner_id: subscription.userId,
    user_id: subscription.userId,
    event_action: subscription.eventAction,
    event_object: subscription.eventObject,
    subscription_url: subscription.subscriptionUrl,
    version: '2.0',
    name: subscription.name,
    is_active: 1,
    add_time: new Date(subscription.addTime).toISOString(),
    remove_time: null,
    type: 'general',
    http_auth_user: subscription.httpAuthUser,
    http_auth_password: subscription.httpAuthPassword,
    additional_data: {},
    remove_reason: null,
    last_delivery_time: subscription.lastDeliveryTime === null
      ? null
      : new Date(subscription.lastDeliveryTime).toISOString(),
    last_http_status: subscription.lastHttpStatus,
    admin_id: adminId,
  };
}
