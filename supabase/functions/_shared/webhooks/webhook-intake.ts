// What every webhook endpoint shares: the outcome of one request and its log
// line, the checks that cost no database work (method, content type, body
// size, JSON), the cached connection lookup and a deadline on database work.
// Cheap checks come first, so a flood of bad requests never reaches the
// database or waits for it.
import { errorResponse, methodNotAllowed } from '../http.ts';
import { type CachedConnectionLookup, type ConnectionLookup, createConnectionCache } from './connection-cache.ts';
import { readBodyWithLimit } from './request-body.ts';

export const CONNECTION_CACHE_TTL_MS = 30_000;
/** A cached connection that refused a request is looked up again only if held at least this long. */
export const CONNECTION_REFRESH_MIN_AGE_MS = 1_000;
const CONNECTION_CACHE_MAX_ENTRIES = 10_000;

export interface ReceiveResult {
  accepted: number;
  duplicates: number;
}

export interface ReceiveCounts extends ReceiveResult {
  ignored: number;
}

/** One line per request; never secrets or event contents. */
export interface WebhookRequestLog {
  function: string;
  status: number;
  code?: string;
  events: number;
  accepted?: number;
  duplicates?: number;
  ignored?: number;
  ms: number;
  error?: string;
}

export interface IntakeOutcome {
  response: Response;
  events: number;
  code?: string;
  counts?: ReceiveCounts;
  error?: string;
}

export function fail(status: number, code: string, message: string, events = 0, details?: unknown): IntakeOutcome {
  return { response: errorResponse(status, code, message, details), events, code };
}

function describeError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.slice(0, 200);
}

/** 503 when the database failed or was too slow: the sender retries and deduplication absorbs a late commit. */
export function storeUnavailable(message: string, events: number, error: unknown): IntakeOutcome {
  return { ...fail(503, 'store_unavailable', message, events), error: describeError(error) };
}

export class DeadlineExceeded extends Error {}

/**
 * Settles with `work`, or rejects with DeadlineExceeded after `ms`, so the
 * answer comes within the sender's timeout even when the database hangs.
 */
export function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineExceeded(`no answer from the database within ${ms} ms`)), ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

/** Connection lookups answered from memory for a while, unknown accounts included. */
export function cachedConnectionLookup(
  lookup: ConnectionLookup,
  options: { now: () => number; ttlMs?: number },
): CachedConnectionLookup {
  return createConnectionCache(lookup, {
    ttlMs: options.ttlMs ?? CONNECTION_CACHE_TTL_MS,
    maxEntries: CONNECTION_CACHE_MAX_ENTRIES,
    now: options.now,
  });
}

/** `application/json`, with or without parameters such as `charset=utf-8`. */
export function isJsonContentType(value: string | null): boolean {
  return value !== null && /^application\/json\s*(;|$)/i.test(value.trim());
}

/** Rejects what is not a JSON POST before the body is read. */
export function checkJsonPost(req: Request): IntakeOutcome | null {
  if (req.method !== 'POST') return { response: methodNotAllowed(['POST']), events: 0, code: 'method_not_allowed' };
  if (!isJsonContentType(req.headers.get('content-type'))) {
    return fail(415, 'unsupported_media_type', 'The body must be sent as Content-Type: application/json');
  }
  return null;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

export type JsonBody = { ok: true; bytes: Uint8Array; value: unknown } | { ok: false; outcome: IntakeOutcome };

/** Deeper JSON than any CRM sends; Postgres' jsonb parser would run out of stack long after this. */
export const MAX_JSON_DEPTH = 64;

/**
 * Why Postgres could not store this JSON value as jsonb, or null: nesting
 * deeper than MAX_JSON_DEPTH, or a string with U+0000 or a lone surrogate
 * (valid JSON escapes that jsonb rejects). Found here, such a request is a
 * 400; found by the database, it would be a 503 retried for days.
 */
export function unstorableJson(value: unknown): string | null {
  const pending: [unknown, number][] = [[value, 0]];
  while (pending.length > 0) {
    const [item, depth] = pending.pop()!;
    if (typeof item === 'string') {
      if (item.includes('\u0000') || !item.isWellFormed()) return 'a string holds U+0000 or a lone surrogate';
    } else if (item !== null && typeof item === 'object') {
      if (depth >= MAX_JSON_DEPTH) return `nesting deeper than ${MAX_JSON_DEPTH} levels`;
      if (Array.isArray(item)) {
        for (const child of item) pending.push([child, depth + 1]);
      } else {
        for (const key in item) {
          if (!Object.hasOwn(item, key)) continue;
          pending.push([key, depth + 1], [(item as Record<string, unknown>)[key], depth + 1]);
        }
      }
    }
  }
  return null;
}

/** Reads at most maxBytes (413 beyond) and parses them as UTF-8 JSON that jsonb can hold (400 otherwise). */
export async function readJsonBody(req: Request, maxBytes: number): Promise<JsonBody> {
  const body = await readBodyWithLimit(req, maxBytes);
  if (!body.ok) return { ok: false, outcome: fail(413, 'payload_too_large', `The body exceeds ${maxBytes} bytes`) };
  let value: unknown;
  try {
    value = JSON.parse(utf8.decode(body.bytes));
  } catch {
    return { ok: false, outcome: fail(400, 'invalid_json', 'The body is not valid UTF-8 JSON') };
  }
  const problem = unstorableJson(value);
  if (problem) return { ok: false, outcome: fail(400, 'unstorable_json', `The body cannot be stored: ${problem}`) };
  return { ok: true, bytes: body.bytes, value };
}

/** The request handler around an intake: catches what it throws (500) and logs one line per request. */
export function serveIntake(
  functionName: string,
  deps: { now(): number; log(entry: WebhookRequestLog): void },
  intake: (req: Request) => Promise<IntakeOutcome>,
): (req: Request) => Promise<Response> {
  return async (req) => {
    const started = deps.now();
    let outcome: IntakeOutcome;
    try {
      outcome = await intake(req);
    } catch (error) {
      outcome = { ...fail(500, 'internal_error', 'The webhook could not be processed'), error: describeError(error) };
    }
    const { response, events, code, counts, error } = outcome;
    deps.log({
      function: functionName,
      status: response.status,
      ...(code ? { code } : {}),
      events,
      ...counts,
      ms: deps.now() - started,
      ...(error ? { error } : {}),
    });
    return response;
  };
}

const MAX_LISTED_ISSUES = 50;

/** A schema failure as a 400's details: the first issues (path and message) and how many there were. */
export function schemaIssues(error: { issues: { path: PropertyKey[]; message: string }[] }) {
  const issues = error.issues.map((issue) => ({ path: issue.path, message: issue.message }));
  return { issues: issues.slice(0, MAX_LISTED_ISSUES), issueCount: issues.length };
}
