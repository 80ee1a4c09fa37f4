/**
 * Everything a running simulator holds: the CRM data, configuration, rate
 * limits, faults, the request log and the webhook dispatcher.
 */

import { z } from 'zod';
import { createClock, type SimulatorClock } from '../common/clock.ts';
import { FaultInjector } from '../common/faults.ts';
import { createPrng, type Prng } from '../common/prng.ts';
import { type RateLimitBuckets, RequestLog } from '../common/request-log.ts';
import { OAuthServer } from './oauth.ts';
import { OwnerDirectory } from './owners.ts';
import { PropertyRegistry } from './property-registry.ts';
import { RateLimiter } from './rate-limit.ts';
import { type ChangeSource, CrmStore } from './store.ts';
import { WebhookDispatcher } from './webhooks.ts';

export const simulatorOptionsSchema = z.object({
  /** 0 picks a free port. */
  port: z.number().int().min(0).max(65_535).default(0),
  host: z.string().default('127.0.0.1'),
  /** Access tokens the API accepts (each has its own rate-limit window). */
  tokens: z.array(z.string().min(1)).min(1).default(['sim-token']),
  portalId: z.number().int().positive().default(62_515_001),
  appId: z.number().int().positive().default(1_160_452),
  /** The developer API key (`hapikey`) of the app, for its webhook settings API. */
  developerApiKey: z.string().min(1).default('sim-developer-key'),
  webhookUrl: z.string().url().nullable().default(null),
  clientSecret: z.string().min(1).default('sim-client-secret'),
  /** The app's OAuth client id (its client secret is clientSecret, as for webhook signatures). */
  clientId: z.string().min(1).default('sim-client-id'),
  /** Lifetime of OAuth access tokens (HubSpot: 1800 s). */
  accessTokenTtlSeconds: z.number().int().min(1).default(1800),
  rateLimit: z.object({
    maxPerInterval: z.number().int().positive().optional(),
    intervalMs: z.number().int().positive().optional(),
    dailyLimit: z.number().int().positive().optional(),
    searchPerSecond: z.number().int().positive().optional(),
  }).default({}),
  /** Seed for fake data and webhook faults. */
  seed: z.number().int().default(1),
  /** Added to every API response, to look like a network round trip. */
  latencyMs: z.number().int().min(0).default(0),
  searchIndexDelayMs: z.number().int().min(0).default(0),
  /** Receives one line per API request when set. */
  logRequest: z.custom<(line: string) => void>((value) => typeof value === 'function').optional(),
});

export type SimulatorOptions = z.input<typeof simulatorOptionsSchema> & { token?: string };
export type ResolvedOptions = z.output<typeof simulatorOptionsSchema>;

export type RateLimitBucket = 'tenSecondly' | 'secondly' | 'daily' | 'injected';

const RATE_LIMIT_BUCKETS: RateLimitBuckets<RateLimitBucket> = {
  names: ['tenSecondly', 'secondly', 'daily', 'injected'],
  classify(entry) {
    if (entry.outcome === 'fault') return 'injected';
    if (entry.policy === 'SECONDLY') return 'secondly';
    if (entry.policy === 'DAILY') return 'daily';
    return 'tenSecondly';
  },
};

export interface SimulatorState {
  options: ResolvedOptions;
  clock: SimulatorClock;
  registry: PropertyRegistry;
  owners: OwnerDirectory;
  store: CrmStore;
  webhooks: WebhookDispatcher;
  rateLimiter: RateLimiter;
  /** Installs of the app as a public (OAuth) app: refresh and access tokens. */
  oauth: OAuthServer;
  faults: FaultInjector;
  log: RequestLog<RateLimitBucket>;
  /** Random sequence for seeded data. */
  dataPrng: Prng;
  /** Base URL once listening (`http://127.0.0.1:54340`). */
  baseUrl: string;
  /** Source of writes made by the app through the API. */
  apiSource(): ChangeSource;
  /** Source of writes made "by a user in HubSpot" through the control API. */
  userSource(userId?: number): ChangeSource;
  /** Back to a fresh portal; webhook settings and tokens stay. */
  reset(): void;
}

export function resolveOptions(options: SimulatorOptions = {}): ResolvedOptions {
  const { token, ...rest } = options;
  return simulatorOptionsSchema.parse(token && !rest.tokens ? { ...rest, tokens: [token] } : rest);
}

export function createSimulatorState(options: ResolvedOptions): SimulatorState {
  const clock = createClock();
  const now = () => clock.now();
  const registry = new PropertyRegistry(now);
  const owners = new OwnerDirectory(now);
  const store = new CrmStore(registry, clock, (ownerId) => owners.exists(ownerId));
  store.searchIndexDelayMs = options.searchIndexDelayMs;
  const webhooks = new WebhookDispatcher({
    portalId: options.portalId,
    appId: options.appId,
    clientSecret: options.clientSecret,
    targetUrl: options.webhookUrl,
  });
  webhooks.configure({ faults: { seed: options.seed } });
  store.onChange((change) => webhooks.handleChange(change));

  const state: SimulatorState = {
    options,
    clock,
    registry,
    owners,
    store,
    webhooks,
    rateLimiter: new RateLimiter(options.rateLimit),
    oauth: new OAuthServer(
      { clientId: options.clientId, clientSecret: options.clientSecret, accessTokenTtlSeconds: options.accessTokenTtlSeconds },
      now,
    ),
    faults: new FaultInjector(),
    log: new RequestLog<RateLimitBucket>(5_000, RATE_LIMIT_BUCKETS),
    dataPrng: createPrng(options.seed),
    baseUrl: '',
    apiSource: () => ({ changeSource: 'INTEGRATION', sourceId: String(state.webhooks.settings.appId) }),
    userSource: (userId) => ({ changeSource: 'CRM_UI', sourceId: `userId:${userId ?? owners.list()[0]?.userId ?? 0}` }),
    reset() {
      clock.reset();
      registry.reset();
      owners.reset();
      store.reset();
      webhooks.reset();
      state.rateLimiter.reset();
      state.faults.reset();
      state.log.clear();
      state.dataPrng = createPrng(options.seed);
    },
  };
  return state;
}
