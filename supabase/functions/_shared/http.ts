// JSON responses with one error shape for every function:
// { error: { code, message, details? } } and a meaningful HTTP status.

export function jsonResponse(status: number, body: unknown, headers: HeadersInit = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });
}

export function errorResponse(status: number, code: string, message: string, details?: unknown): Response {
  return jsonResponse(status, { error: { code, message, ...(details === undefined ? {} : { details }) } });
}

/** Answers a request whose method the endpoint does not support. */
export function methodNotAllowed(allowed: string[]): Response {
  return errorResponse(405, 'method_not_allowed', `Use ${allowed.join(' or ')}`, undefined);
}
