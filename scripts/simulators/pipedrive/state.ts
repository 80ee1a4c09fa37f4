/**
 * Everything a running simulator holds: the company's data and fields,
 * users, pipelines, rate limits, faults, the request log and the webhook
 * dispatcher. One simulator is one Pipedrive company (account).
 */

import { z } from 'zod';
import { createClock, type SimulatorClock } from '../common/clock.ts';
import { FaultInjector } from '../common/faults.ts';
import { createPrng, type Prng } from '../common/prng.ts';
import { type RateLimitBuckets, RequestLog } from '../common/request-log.ts';
import { FieldRegistry } from './field-registry.ts';
import { PipelineDirectory } from './pipelines.ts';
import { RateLimiter } from './rate-limit.ts';
import { type Actor, EntityStore } from './store.ts';
import { type CompanyInfo, UserDirectory } from './users.ts';
import { WebhookDispatcher } from './webhooks.ts';

export const simulatorOptionsSchema = z.object({
  /** 0 picks a free port. */
  port: z.number().int().min(0).max(65_535).default(0),
  host: z.string().default('127.0.0.1'),
  /** API tokens (`x-api-token` header or `api_token` query); each has its own burst window. */
  tokens: z.array(z.string().min(1)).min(1).default(['sim-api-token']),
  /** OAuth access tokens (`Authorization: Bearer`), with the larger OAuth burst limit. */
  oauthTokens: z.array(z.string().min(1)).default(['sim-oauth-token']),
  companyId: z.number().int().positive().default(7_100_001),
  companyName: z.string().min(1).default('Simulated Company'),
  /** The company's subdomain (`<domain>.pipedrive.com`); default `sim-<companyId>`. */
  companyDomain: z.string().regex(/^[a-z0-9-]+$/).optional(),
  rateLimit: z.object({
    burstLimit: z.number().int().positive().optional(),
    burstWindowMs: z.number().int().positive().optional(),
    searchBurstLimit: z.number().int().positive().optional(),
    oauthMultiplier: z.number().positive().optional(),
    dailyBudget: z.number().int().positive().optional(),
  }).default({}),
  webhooks: z.object({
    timeScale: z.number().positive().optional(),
    requestTimeoutMs: z.number().int().positive().optional(),
  }).default({}),
  /** Seed for fake data, custom field keys and webhook faults. */
  seed: z.number().int().default(1),
  /** Added to every API response, to look like a network round trip. */
  latencyMs: z.number().int().min(0).default(0),
  /** Receives one line per API request when set. */
  logRequest: z.custom<(line: string) => void>((value) => typeof value === 'function').optional(),
});

export type SimulatorOptions = z.input<typeof simulatorOptionsSchema> & { token?: string };
export type ResolvedOptions = z.output<typeof simulatorOptionsSchema> & { companyDomain: string };

export type RateLimitBucket = 'burst' | 'searchBurst' | 'daily' | 'injected';

const RATE_LIMIT_BUCKETS: RateLimitBuckets<RateLimitBucket> = {
  names: ['burst', 'searchBurst', 'daily', 'injected'],
  classify(entry) {
    if (entry.outcome === 'fault') return 'injected';
    if (entry.policy === 'SEARCH_BURST') return 'searchBurst';
    if (entry.policy === 'DAILY') return 'daily';
    return 'burst';
  },
};

export interface SimulatorState {
  options: ResolvedOptions;
  clock: SimulatorClock;
  users: UserDirectory;
  pipelines: PipelineDirectory;
  fields: FieldRegistry;
  store: EntityStore;
  webhooks: WebhookDispatcher;
  rateLimiter: RateLimiter;
  faults: FaultInjector;
  log: RequestLog<RateLimitBucket>;
  /** Tokens spent per endpoint since the last reset. */
  tokensByEndpoint: Record<string, number>;
  /** Random sequence for seeded data. */
  dataPrng: Prng;
  /** Base URL once listening (`http://127.0.0.1:54391`). */
  baseUrl: string;
  company(): CompanyInfo;
  /** Who writes through the API: the token's user, change_source `api`. */
  apiActor(correlationId?: string): Actor;
  /** A user in the Pipedrive web app (the control API), change_source `app`. */
  appActor(userId?: number): Actor;
  /** Back to a fresh company: data, fields, users, webhooks, limits' usage, faults, log, clock. */
  reset(): void;
}

export function resolveOptions(options: SimulatorOptions = {}): ResolvedOptions {
  const { token, ...rest } = options;
  const parsed = simulatorOptionsSchema.parse(token && !rest.tokens ? { ...rest, tokens: [token] } : rest);
  return { ...parsed, companyDomain: parsed.companyDomain ?? `sim-${parsed.companyId}` };
}

export function createSimulatorState(options: ResolvedOptions): SimulatorState {
  const clock = createClock();
  const now = () => clock.now();
  const users = new UserDirectory(now);
  const pipelines = new PipelineDirectory(now);
  const fields = new FieldRegistry(options.companyId, options.seed, now, () => users.me().id);
  const store = new EntityStore({ clock, fields, users, pipelines });
  const webhooks = new WebhookDispatcher({
    companyId: options.companyId,
    companyDomain: options.companyDomain,
    clockNow: now,
    settings: { ...options.webhooks, faults: { seed: options.seed } },
  });
  store.onChange((change) => webhooks.handleChange(change));

  const state: SimulatorState = {
    options,
    clock,
    users,
    pipelines,
    fields,
    store,
    webhooks,
    rateLimiter: new RateLimiter(options.rateLimit),
    faults: new FaultInjector(),
    log: new RequestLog<RateLimitBucket>(5_000, RATE_LIMIT_BUCKETS),
    tokensByEndpoint: {},
    dataPrng: createPrng(options.seed),
    baseUrl: '',
    company: () => ({
      companyId: options.companyId,
      companyName: options.companyName,
      companyDomain: options.companyDomain,
    }),
    apiActor: (correlationId) => ({ source: 'api', userId: users.me().id, correlationId }),
    appActor: (userId) => ({ source: 'app', userId: userId ?? users.me().id }),
    reset() {
      clock.reset();
      users.reset();
      pipelines.reset();
      fields.reset();
      store.reset();
      webhooks.reset();
      state.rateLimiter.reset();
      state.faults.reset();
      state.log.clear();
      state.tokensByEndpoint = {};
      state.dataPrng = createPrng(options.seed);
    },
  };
  return state;
}
