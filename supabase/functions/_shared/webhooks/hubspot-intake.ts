// POST /functions/v1/hubspot-webhook: HubSpot's event deliveries. Verifies
// the v3 signature over the exact raw body, validates the batch, stores it
// per connection (deduplicated and queued on crm_inbound in one transaction)
// and acknowledges only after that committed. HubSpot retries any non-2xx
// answer, so: 2xx for everything stored or deliberately ignored, 4xx for a
// request that can never succeed, 503 when the store failed.
import { errorResponse, jsonResponse, methodNotAllowed } from '../http.ts';
import { dedupeKey, hubSpotWebhookBatchSchema, type HubSpotWebhookEvent } from '../providers/hubspot/webhook-events.ts';
import {
  checkHubSpotTimestamp,
  HUBSPOT_SIGNATURE_HEADER,
  HUBSPOT_TIMESTAMP_HEADER,
  type HubSpotVerifyInput,
  type SignatureFailure,
  type SignatureVerdict,
  verifyHubSpotSignatureV3,
} from '../providers/hubspot/webhook-signature.ts';
import { createConnectionCache, type WebhookConnection } from './connection-cache.ts';
import { readBodyWithLimit } from './request-body.ts';

export type { WebhookConnection } from './connection-cache.ts';

export const HUBSPOT_WEBHOOK_FUNCTION = 'hubspot-webhook';

/**
 * 100 events are typically 30-60 kB, but a propertyChange carries the whole
 * new value (text properties hold up to 65,536 characters), so the limit
 * leaves room for a batch of long values.
 */
export const DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024;

export const CONNECTION_CACHE_TTL_MS = 30_000;
const CONNECTION_CACHE_MAX_ENTRIES = 10_000;
const MAX_LISTED_ISSUES = 50;

export interface ReceivedEvent {
  dedupe_key: string;
  event: HubSpotWebhookEvent;
}

export interface ReceiveResult {
  accepted: number;
  duplicates: number;
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

export interface HubSpotWebhookDeps {
  /** Connections of these HubSpot portal ids (unknown ones are absent). */
  findConnections(accountIds: string[]): Promise<WebhookConnection[]>;
  /** Stores one connection's events in one transaction; resolves after commit. */
  receiveEvents(connectionId: string, events: ReceivedEvent[]): Promise<ReceiveResult>;
  /** The functions base URL as HubSpot calls it, e.g. https://<ref>.supabase.co/functions/v1. */
  publicFunctionsUrl: string;
  maxBodyBytes: number;
  now(): number;
  log(entry: WebhookRequestLog): void;
  connectionCacheTtlMs?: number;
}

interface Outcome {
  response: Response;
  events: number;
  code?: string;
  counts?: { accepted: number; duplicates: number; ignored: number };
  error?: string;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function fail(status: number, code: string, message: string, events = 0, details?: unknown): Outcome {
  return { response: errorResponse(status, code, message, details), events, code };
}

/** The distinct portal ids an (unvalidated) payload names, as account ids. */
function portalIdsOf(payload: unknown[]): string[] {
  const ids = new Set<string>();
  for (const item of payload) {
    const portalId = (item as { portalId?: unknown } | null)?.portalId;
    if (typeof portalId === 'number' && Number.isSafeInteger(portalId) && portalId > 0) ids.add(String(portalId));
  }
  return [...ids];
}

function describeError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.slice(0, 200);
}

/**
 * The accounts whose connection's secret produced the signature. HubSpot
 * signs a delivery with the app's client secret, which each connection
 * stores; a connection whose secret does not match gets none of the events.
 */
async function verifiedAccounts(
  connections: Map<string, WebhookConnection>,
  request: Omit<HubSpotVerifyInput, 'clientSecret'>,
): Promise<{ ok: true; accounts: Set<string> } | { ok: false; reason: SignatureFailure }> {
  const verdicts = new Map<string, Promise<SignatureVerdict>>();
  const accounts = new Set<string>();
  let reason: SignatureFailure = 'missing_secret';
  for (const connection of connections.values()) {
    const secret = connection.webhookSecret ?? '';
    if (!verdicts.has(secret)) verdicts.set(secret, verifyHubSpotSignatureV3({ ...request, clientSecret: secret }));
    const verdict = await verdicts.get(secret)!;
    if (verdict.ok) accounts.add(connection.accountId);
    else reason = verdict.reason;
  }
  return accounts.size > 0 ? { ok: true, accounts } : { ok: false, reason };
}

/** One batch per enabled, verified connection; every other event is counted as ignored. */
function groupByConnection(
  events: HubSpotWebhookEvent[],
  connections: Map<string, WebhookConnection>,
  verified: Set<string>,
): { byConnection: Map<string, ReceivedEvent[]>; ignored: number } {
  const byConnection = new Map<string, ReceivedEvent[]>();
  let ignored = 0;
  for (const event of events) {
    const connection = connections.get(String(event.portalId));
    if (!connection || !connection.enabled || !verified.has(connection.accountId)) {
      ignored++;
      continue;
    }
    const batch = byConnection.get(connection.connectionId) ?? [];
    batch.push({ dedupe_key: dedupeKey(event), event });
    byConnection.set(connection.connectionId, batch);
  }
  return { byConnection, ignored };
}

export function createHubSpotWebhookHandler(deps: HubSpotWebhookDeps): (req: Request) => Promise<Response> {
  const findConnections = createConnectionCache(deps.findConnections, {
    ttlMs: deps.connectionCacheTtlMs ?? CONNECTION_CACHE_TTL_MS,
    maxEntries: CONNECTION_CACHE_MAX_ENTRIES,
    now: deps.now,
  });
  const signedUrlBase = `${deps.publicFunctionsUrl.replace(/\/+$/, '')}/${HUBSPOT_WEBHOOK_FUNCTION}`;

  async function intake(req: Request): Promise<Outcome> {
    if (req.method !== 'POST') return { response: methodNotAllowed(['POST']), events: 0, code: 'method_not_allowed' };

    const signature = req.headers.get(HUBSPOT_SIGNATURE_HEADER);
    const timestamp = req.headers.get(HUBSPOT_TIMESTAMP_HEADER);
    if (!signature || !timestamp) {
      return fail(401, 'missing_signature', 'X-HubSpot-Signature-v3 and X-HubSpot-Request-Timestamp are required');
    }
    const fresh = checkHubSpotTimestamp(timestamp, deps.now());
    if (!fresh.ok) {
      return fail(401, 'invalid_signature', 'The request signature is not valid', 0, { reason: fresh.reason });
    }

    const body = await readBodyWithLimit(req, deps.maxBodyBytes);
    if (!body.ok) return fail(413, 'payload_too_large', `The body exceeds ${deps.maxBodyBytes} bytes`);

    let payload: unknown;
    try {
      payload = JSON.parse(utf8.decode(body.bytes));
    } catch {
      return fail(400, 'invalid_json', 'The body is not valid UTF-8 JSON');
    }
    if (!Array.isArray(payload)) return fail(400, 'invalid_batch', 'Expected a JSON array of events');
    const events = payload.length;
    const portalIds = portalIdsOf(payload);
    if (portalIds.length === 0) return fail(400, 'missing_portal_id', 'No event names a portalId', events);

    let connections: Map<string, WebhookConnection>;
    try {
      connections = await findConnections(portalIds);
    } catch (error) {
      return {
        ...fail(503, 'store_unavailable', 'Could not look up the connections; retry later', events),
        error: describeError(error),
      };
    }
    if (connections.size === 0) {
      return fail(404, 'unknown_portal', 'No connection for the portal(s) in this batch', events, { portalIds });
    }

    const signed = await verifiedAccounts(connections, {
      method: req.method,
      uri: signedUrlBase + new URL(req.url).search,
      rawBody: body.bytes,
      timestamp,
      signature,
      nowMs: deps.now(),
    });
    if (!signed.ok) {
      return fail(401, 'invalid_signature', 'The request signature is not valid', events, { reason: signed.reason });
    }

    const parsed = hubSpotWebhookBatchSchema.safeParse(payload);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((issue) => ({ path: issue.path, message: issue.message }));
      return fail(400, 'invalid_events', 'The batch does not match the HubSpot webhook event schema', events, {
        issues: issues.slice(0, MAX_LISTED_ISSUES),
        issueCount: issues.length,
      });
    }

    const { byConnection, ignored } = groupByConnection(parsed.data, connections, signed.accounts);
    let results: ReceiveResult[];
    try {
      results = await Promise.all(
        [...byConnection].map(([connectionId, batch]) => deps.receiveEvents(connectionId, batch)),
      );
    } catch (error) {
      return {
        ...fail(503, 'store_unavailable', 'The events could not be stored; retry later', events),
        error: describeError(error),
      };
    }
    const counts = {
      accepted: results.reduce((sum, r) => sum + r.accepted, 0),
      duplicates: results.reduce((sum, r) => sum + r.duplicates, 0),
      ignored,
    };
    return { response: jsonResponse(200, counts), events, counts };
  }

  return async (req) => {
    const started = deps.now();
    let outcome: Outcome;
    try {
      outcome = await intake(req);
    } catch (error) {
      outcome = { ...fail(500, 'internal_error', 'The webhook could not be processed'), error: describeError(error) };
    }
    const { response, events, code, counts, error } = outcome;
    deps.log({
      function: HUBSPOT_WEBHOOK_FUNCTION,
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
