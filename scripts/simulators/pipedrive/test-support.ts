// deno-lint-ignore-file no-explicit-any -- tests assert on raw JSON bodies
/**
 * Helpers shared by the simulator's tests: start a simulator, talk to it
 * raw or through the official `pipedrive` client, receive its webhooks.
 */

import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { v1, v2 } from 'pipedrive';
import { rawCall, type RawResponse } from '../common/test-http.ts';
import { createPipedriveSimulator, type PipedriveSimulator, type SimulatorOptions } from './server.ts';

export { control, type RawResponse } from '../common/test-http.ts';

export const TEST_TOKEN = 'test-api-token';
export const TEST_OAUTH_TOKEN = 'test-oauth-token';

/** A simulator with limits high enough not to get in the way. */
export function startSimulator(options: SimulatorOptions = {}): Promise<PipedriveSimulator> {
  return createPipedriveSimulator({
    token: TEST_TOKEN,
    oauthTokens: [TEST_OAUTH_TOKEN],
    ...options,
    rateLimit: { burstLimit: 100_000, searchBurstLimit: 100_000, dailyBudget: 100_000_000, ...options.rateLimit },
  });
}

/** The official client's API v2 classes, pointed at the simulator. */
export function v2Client(sim: PipedriveSimulator, apiKey = TEST_TOKEN) {
  const configuration = new v2.Configuration({ apiKey, basePath: `${sim.url}/api/v2` });
  return {
    persons: new v2.PersonsApi(configuration),
    organizations: new v2.OrganizationsApi(configuration),
    deals: new v2.DealsApi(configuration),
    activities: new v2.ActivitiesApi(configuration),
    pipelines: new v2.PipelinesApi(configuration),
    stages: new v2.StagesApi(configuration),
  };
}

/** The official client's API v1 classes (notes, fields, webhooks, users, merges). */
export function v1Client(sim: PipedriveSimulator, apiKey = TEST_TOKEN) {
  const configuration = new v1.Configuration({ apiKey, basePath: `${sim.url}/v1` });
  return {
    notes: new v1.NotesApi(configuration),
    personFields: new v1.PersonFieldsApi(configuration),
    organizationFields: new v1.OrganizationFieldsApi(configuration),
    dealFields: new v1.DealFieldsApi(configuration),
    webhooks: new v1.WebhooksApi(configuration),
    users: new v1.UsersApi(configuration),
    persons: new v1.PersonsApi(configuration),
    organizations: new v1.OrganizationsApi(configuration),
  };
}

/** An API call with the test token in `x-api-token` (or another token, or none). */
export function api<T = any>(
  sim: PipedriveSimulator,
  method: string,
  path: string,
  body?: unknown,
  token: string | null = TEST_TOKEN,
): Promise<RawResponse<T>> {
  return rawCall<T>(`${sim.url}${path}`, method, body, token === null ? {} : { 'x-api-token': token });
}

/** What the official client rejects with: the response body only (status and headers are lost). */
export async function clientError(promise: Promise<unknown>): Promise<any> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail');
}

export interface ReceivedWebhook {
  url: string;
  headers: IncomingHttpHeaders;
  body: any;
  /** Whether the Basic credentials matched the receiver's (compared in constant time). */
  authorized: boolean;
}

/** A webhook endpoint that checks HTTP Basic auth and records deliveries; `respond` picks the answer per request. */
export class WebhookReceiver {
  received: ReceivedWebhook[] = [];
  respond: (index: number, delivery: ReceivedWebhook) => { status: number; delayMs?: number } = () => ({
    status: 200,
  });
  base = '';
  private server!: Server;

  constructor(readonly user = 'hook-user', readonly password = 'hook-secret') {}

  async start(): Promise<void> {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const given = Buffer.from(String(request.headers.authorization ?? ''));
        const expected = Buffer.from(`Basic ${Buffer.from(`${this.user}:${this.password}`).toString('base64')}`);
        const authorized = given.length === expected.length && timingSafeEqual(given, expected);
        const delivery: ReceivedWebhook = {
          url: request.url ?? '',
          headers: request.headers,
          body: JSON.parse(Buffer.concat(chunks).toString('utf8')),
          authorized,
        };
        const index = this.received.length;
        this.received.push(delivery);
        const { status, delayMs = 0 } = authorized ? this.respond(index, delivery) : { status: 401 };
        setTimeout(() => {
          if (!response.destroyed) response.writeHead(status).end();
        }, delayMs);
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  reset(): void {
    this.received = [];
    this.respond = () => ({ status: 200 });
  }

  /** Payloads of deliveries with the right credentials. */
  events(): any[] {
    return this.received.filter((delivery) => delivery.authorized).map((delivery) => delivery.body);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}
