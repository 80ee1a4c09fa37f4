// POST /functions/v1/pipedrive-webhook: Pipedrive's webhook v2 deliveries,
// one event per request. Checks the HTTP Basic credentials against the
// connection's webhook secret in constant time, validates the event, stores
// it deduplicated by its event id and queued on crm_inbound in one
// transaction, and acknowledges only after that committed.
//
// Pipedrive counts a non-2xx answer or no answer within 10 s as a failure,
// retries after 3, 30 and 150 s, and bans a webhook after 10 failed first
// attempts. So: 2xx for everything stored or deliberately ignored, 4xx for a
// request that can never succeed, 503 (before the 10 s) when the database is
// failing or slow. Everything that needs no database is checked first.
import { jsonResponse } from '../http.ts';
import { credentialsMatch, parseBasicAuthorization } from '../providers/pipedrive/webhook-auth.ts';
import { dedupeKey, pipedriveWebhookEventSchema } from '../providers/pipedrive/webhook-events.ts';
import type { WebhookConnection } from './connection-cache.ts';
import {
  cachedConnectionLookup,
  CONNECTION_REFRESH_MIN_AGE_MS,
  checkJsonPost,
  fail,
  type IntakeOutcome,
  readJsonBody,
  type ReceiveResult,
  schemaIssues,
  serveIntake,
  storeUnavailable,
  type WebhookRequestLog,
  withDeadline,
} from './webhook-intake.ts';

export const PIPEDRIVE_WEBHOOK_FUNCTION = 'pipedrive-webhook';

/**
 * One event is one record twice at most (data and previous): a few kB
 * usually, more with long notes or large text fields. 1 MiB leaves room for
 * those and keeps a flood of big bodies cheap to refuse.
 */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

/**
 * The oldest `meta.timestamp` accepted. Pipedrive's last retry comes about
 * 3 minutes after the first attempt; a day leaves room for delays on its
 * side. It must stay well inside the 3 days that sync.webhook_receipts keeps
 * event ids: then a replayed delivery is either still remembered (stored
 * nothing new) or too old (refused), never taken for a new event.
 */
export const PIPEDRIVE_MAX_EVENT_AGE_MS = 24 * 60 * 60 * 1000;
/** How far ahead of our clock an event may be: clock skew, not more. */
export const PIPEDRIVE_MAX_CLOCK_SKEW_MS = 5 * 60 * 1000;

/** The lookup and the store get this long each: both together stay well inside Pipedrive's 10 s. */
export const PIPEDRIVE_STORE_DEADLINE_MS = 4_000;

export interface ReceivedPipedriveEvent {
  dedupe_key: string;
  /** The delivery's body as received: `{ meta, data, previous }`. */
  event: unknown;
}

export interface PipedriveWebhookDeps {
  /** Connections of these Pipedrive company ids (unknown ones are absent). */
  findConnections(accountIds: string[]): Promise<WebhookConnection[]>;
  /** Stores one connection's events in one transaction; resolves after commit. */
  receiveEvents(connectionId: string, events: ReceivedPipedriveEvent[]): Promise<ReceiveResult>;
  maxBodyBytes: number;
  now(): number;
  log(entry: WebhookRequestLog): void;
  connectionCacheTtlMs?: number;
  storeDeadlineMs?: number;
}

/** Why an event time is outside the accepted window, or null when it is inside. */
export function eventTimeProblem(timestamp: string, nowMs: number): 'too_old' | 'in_future' | null {
  const at = Date.parse(timestamp);
  if (nowMs - at > PIPEDRIVE_MAX_EVENT_AGE_MS) return 'too_old';
  if (at - nowMs > PIPEDRIVE_MAX_CLOCK_SKEW_MS) return 'in_future';
  return null;
}

const invalidCredentials = (events: number) =>
  fail(401, 'invalid_credentials', 'The webhook credentials are not valid', events);

export function createPipedriveWebhookHandler(deps: PipedriveWebhookDeps): (req: Request) => Promise<Response> {
  const findConnections = cachedConnectionLookup(deps.findConnections, {
    now: deps.now,
    ttlMs: deps.connectionCacheTtlMs,
  });
  const deadlineMs = deps.storeDeadlineMs ?? PIPEDRIVE_STORE_DEADLINE_MS;

  async function intake(req: Request): Promise<IntakeOutcome> {
    const notJsonPost = checkJsonPost(req);
    if (notJsonPost) return notJsonPost;

    const auth = parseBasicAuthorization(req.headers.get('authorization'));
    if (!auth.ok) {
      return auth.reason === 'missing_credentials'
        ? fail(401, 'missing_credentials', 'HTTP Basic credentials are required', 0)
        : invalidCredentials(0);
    }

    const body = await readJsonBody(req, deps.maxBodyBytes);
    if (!body.ok) return body.outcome;
    const parsed = pipedriveWebhookEventSchema.safeParse(body.value);
    if (!parsed.success) {
      return fail(400, 'invalid_event', 'The body is not a Pipedrive webhook v2 event', 1, schemaIssues(parsed.error));
    }
    const event = parsed.data;
    const timeProblem = eventTimeProblem(event.meta.timestamp, deps.now());
    if (timeProblem) {
      return fail(400, 'event_outside_window', 'meta.timestamp is outside the accepted window', 1, {
        reason: timeProblem,
      });
    }

    const companyId = event.meta.company_id;
    const lookUp = async () => (await withDeadline(findConnections([companyId]), deadlineMs)).get(companyId);
    let connection: WebhookConnection | undefined;
    try {
      connection = await lookUp();
      if (connection && !(await credentialsMatch(auth.credentials, connection.webhookSecret))) {
        // The connection held in memory may be stale (the company was reconnected with new webhook
        // credentials): looked up again, at most once a second per company.
        findConnections.forget([companyId], CONNECTION_REFRESH_MIN_AGE_MS);
        connection = await lookUp();
      }
    } catch (error) {
      return storeUnavailable('Could not look up the connection; retry later', 1, error);
    }
    if (!connection) {
      return fail(404, 'unknown_company', 'No connection for this Pipedrive company', 1, { companyId });
    }
    if (!(await credentialsMatch(auth.credentials, connection.webhookSecret))) return invalidCredentials(1);
    if (!connection.enabled) {
      const counts = { accepted: 0, duplicates: 0, ignored: 1 };
      return { response: jsonResponse(200, counts), events: 1, counts };
    }

    let result: ReceiveResult;
    try {
      result = await withDeadline(
        deps.receiveEvents(connection.connectionId, [{ dedupe_key: dedupeKey(event), event: body.value }]),
        deadlineMs,
      );
    } catch (error) {
      // Perhaps the connection held in memory is gone: the retry looks it up again.
      findConnections.forget([companyId]);
      return storeUnavailable('The event could not be stored; retry later', 1, error);
    }
    const counts = { ...result, ignored: 0 };
    return { response: jsonResponse(200, counts), events: 1, counts };
  }

  return serveIntake(PIPEDRIVE_WEBHOOK_FUNCTION, deps, intake);
}
