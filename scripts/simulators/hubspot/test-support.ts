// deno-lint-ignore-file no-explicit-any -- tests assert on raw JSON bodies
/** Helpers shared by the simulator's tests: start a simulator, talk to it raw or through the official client. */

import { Client } from '@hubspot/api-client';
import { rawCall, type RawResponse } from '../common/test-http.ts';
import { createHubSpotSimulator, type HubSpotSimulator, type SimulatorOptions } from './server.ts';

export { control, type RawResponse } from '../common/test-http.ts';

export const TEST_TOKEN = 'test-token';

export function startSimulator(options: SimulatorOptions = {}): Promise<HubSpotSimulator> {
  return createHubSpotSimulator({
    token: TEST_TOKEN,
    rateLimit: { maxPerInterval: 100_000, searchPerSecond: 10_000 },
    ...options,
  });
}

/** The official client pointed at the simulator, without its own retries. */
export function hubspotClient(sim: HubSpotSimulator, accessToken = TEST_TOKEN): Client {
  return new Client({ accessToken, basePath: sim.url, numberOfApiCallRetries: 0 });
}

/** A HubSpot API call with the test token (or another one). */
export function api<T = any>(
  sim: HubSpotSimulator,
  method: string,
  path: string,
  body?: unknown,
  token: string | null = TEST_TOKEN,
): Promise<RawResponse<T>> {
  return rawCall<T>(`${sim.url}${path}`, method, body, token === null ? {} : { Authorization: `Bearer ${token}` });
}

/** The error the official client throws, for assertions on code, body and headers. */
export async function clientError(
  promise: Promise<unknown>,
): Promise<{ code: number; body: any; headers: Record<string, string> }> {
  try {
    await promise;
  } catch (error) {
    const { code, body, headers } = error as { code: number; body: any; headers: Record<string, string> };
    if (typeof code !== 'number') throw error;
    return { code, body, headers };
  }
  throw new Error('expected the call to fail');
}
