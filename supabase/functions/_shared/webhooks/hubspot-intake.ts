// POST /functions/v1/hubspot-webhook: HubSpot's event deliveries. Verifies
// the v3 signature over the exact raw body, validates the batch, stores it
// per connection (deduplicated and queued on crm_inbound in one transaction)
// and acknowledges only after that committed. HubSpot retries any non-2xx
// answer, so: 2xx for everything stored or deliberately ignored, 4xx for a
// request that can never succeed, 503 when the database failed or was slow.
// Everything that needs no database (headers, size, JSON, schema) is checked
// first; the signature needs the connections' secrets.
import { jsonResponse } from '../http.ts';
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
import type { WebhookConnection } from './connection-cache.ts';
import {
  cachedConnectionLookup,
  checkJsonPost,
  fail,
  type IntakeOutcome,
  readJsonBody,
  schemaIssues,
  type ReceiveResult,
  serveIntake,
  storeUnavailable,
  type WebhookRequestLog,
  withDeadline,
} from './webhook-intake.ts';

export const HUBSPOT_WEBHOOK_FUNCTION = 'hubspot-webhook';

/**
 * 100 events are typically 30-60 kB, but a propertyChange carries the whole
 * new value (text properties hold up to 65,536 characters), so the limit
 * leaves room for a batch of long values.
 */
export const DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024;

/**
 * HubSpot gives up on a request after 5 s. The lookup and the store get this
 * long each, so a slow database still gets a 503 answer (and a retry) in time.
 */
export const HUBSPOT_STORE_DEADLINE_MS = 2_000;

export interface ReceivedEvent {
  dedupe_key: string;
  event: HubSpotWebhookEvent;
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
  storeDeadlineMs?: number;
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
  const findConnections = cachedConnectionLookup(deps.findConnections, {
    now: deps.now,
    ttlMs: deps.connectionCacheTtlMs,
  });
  const deadlineMs = deps.storeDeadlineMs ?? HUBSPOT_STORE_DEADLINE_MS;
  const signedUrlBase = `${deps.publicFunctionsUrl.replace(/\/+$/, '')}/${HUBSPOT_WEBHOOK_FUNCTION}`;

  async function intake(req: Request): Promise<IntakeOutcome> {
    const notJsonPost = checkJsonPost(req);
    if (notJsonPost) return notJsonPost;

    const signature = req.headers.get(HUBSPOT_SIGNATURE_HEADER);
    const timestamp = req.headers.get(HUBSPOT_TIMESTAMP_HEADER);
    if (!signature || !timestamp) {
      return fail(401, 'missing_signature', 'X-HubSpot-Signature-v3 and X-HubSpot-Request-Timestamp are required');
    }
    const fresh = checkHubSpotTimestamp(timestamp, deps.now());
    if (!fresh.ok) {
      return fail(401, 'invalid_signature', 'The request signature is not valid', 0, { reason: fresh.reason });
    }

    const body = await readJsonBody(req, deps.maxBodyBytes);
    if (!body.ok) return body.outcome;
    const payload = body.value;
    if (!Array.isArray(payload)) return fail(400, 'invalid_batch', 'Expected a JSON array of events');
    const events = payload.length;
    // Validated before any database work, so malformed floods cost CPU only.
    const parsed = hubSpotWebhookBatchSchema.safeParse(payload);
    if (!parsed.success) {
      return fail(400, 'invalid_events', 'The batch does not match the HubSpot webhook event schema', events, schemaIssues(parsed.error));
    }
    const portalIds = [...new Set(parsed.data.map((event) => String(event.portalId)))];

    let connections: Map<string, WebhookConnection>;
    try {
      connections = await withDeadline(findConnections(portalIds), deadlineMs);
    } catch (error) {
      return storeUnavailable('Could not look up the connections; retry later', events, error);
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

    const { byConnection, ignored } = groupByConnection(parsed.data, connections, signed.accounts);
    let results: ReceiveResult[];
    try {
      results = await withDeadline(
        Promise.all([...byConnection].map(([connectionId, batch]) => deps.receiveEvents(connectionId, batch))),
        deadlineMs,
      );
    } catch (error) {
      // Perhaps the connection held in memory is gone (the portal was reconnected): the retry looks it up again.
      findConnections.forget(portalIds);
      return storeUnavailable('The events could not be stored; retry later', events, error);
    }
    const counts = {
      accepted: results.reduce((sum, r) => sum + r.accepted, 0),
      duplicates: results.reduce((sum, r) => sum + r.duplicates, 0),
      ignored,
    };
    return { response: jsonResponse(200, counts), events, counts };
  }

  return serveIntake(HUBSPOT_WEBHOOK_FUNCTION, deps, intake);
}
