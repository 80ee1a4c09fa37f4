// deno-lint-ignore-file no-explicit-any -- tests assert on raw JSON bodies
/** Raw HTTP calls for the simulators' tests: JSON in, JSON (or text) out, status and headers kept. */

export interface RawResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

/** Sends `body` as JSON and parses the answer as JSON, falling back to its text. */
export async function rawCall<T>(
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

/** A control API call (`/_sim/...`). */
export function control<T = any>(
  sim: { url: string },
  method: string,
  path: string,
  body?: unknown,
): Promise<RawResponse<T>> {
  return rawCall<T>(`${sim.url}/_sim${path}`, method, body, {});
}
