// deno-lint-ignore-file no-explicit-any -- tests assert on raw JSON bodies
/** Helpers shared by the simulator's tests: start a simulator, talk to it raw or through the official client. */

import { Client } from '@hubspot/api-client';
import { createHubSpotSimulator, type HubSpotSimulator, type SimulatorOptions } from './server.ts';

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

export interface RawResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

async function call<T>(
  url: string,
  method: string,
  body: unknown,
  headers: Record<string, string>,
): Promise<RawResponse<T>> {
  const response = await fetch(url, {
    method,
    headers: { 'Content-Type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: unknown = undefined;
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = text;
    }
  }
  return { status: response.status, headers: response.headers, body: parsed as T };
}

/** A HubSpot API call with the test token (or another one). */
export function api<T = any>(
  sim: HubSpotSimulator,
  method: string,
  path: string,
  body?: unknown,
  token: string | null = TEST_TOKEN,
): Promise<RawResponse<T>> {
  return call<T>(`${sim.url}${path}`, method, body, token === null ? {} : { Authorization: `Bearer ${token}` });
}

/** A control API call (`/_sim/...`). */
export function control<T = any>(
  sim: HubSpotSimulator,
  method: string,
  path: string,
  body?: unknown,
): Promise<RawResponse<T>> {
  return call<T>(`${sim.url}/_sim${path}`, method, body, {});
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
