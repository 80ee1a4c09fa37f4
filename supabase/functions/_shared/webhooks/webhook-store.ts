// Where webhook intake meets the database: the SQL functions of
// 20261125180200_sync_webhook_intake.sql and
// 20261126020000_sync_webhook_delivery_batches.sql. One round trip each.
//
// Lookups and stores have pools of their own: lookups of accounts the cache
// does not hold (a flood of made-up account ids, say) can take at most the
// lookup pool's connections, never the ones that store real deliveries.
import { createSql, type Sql } from '../db.ts';
import type { WebhookConnection } from './connection-cache.ts';
import { groupCommit } from './group-commit.ts';
import type { ReceiveResult } from './webhook-intake.ts';

const LOOKUP_CONNECTIONS = 2;
const STORE_CONNECTIONS = 8;
/**
 * Grouped stores under way at once. Fewer writes in flight make bigger
 * groups (less database and socket work per event) at the price of a little
 * waiting: with 2 writers a delivery waits for at most about one commit of
 * the group before its own.
 */
const GROUP_WRITERS = 2;
const GROUP_MAX_EVENTS = 500;

export interface WebhookStore {
  findConnections(accountIds: string[]): Promise<WebhookConnection[]>;
  /** Deduplicates and queues one connection's events on crm_inbound in one transaction. */
  receiveEvents(connectionId: string, events: unknown[]): Promise<ReceiveResult>;
  /**
   * The same contract, but the events of concurrent calls (any connections)
   * are stored together, in one transaction; each call resolves after the
   * transaction holding its events committed.
   */
  receiveEventsGrouped(connectionId: string, events: unknown[]): Promise<ReceiveResult>;
}

type Outcome = 'accepted' | 'duplicate' | 'unknown_connection';
interface GroupItem {
  connectionId: string;
  events: unknown[];
}

/** Per call of a group: its counts, or why it was not stored. */
export function countOutcomes(items: GroupItem[], outcomes: Outcome[]): (ReceiveResult | Error)[] {
  let next = 0;
  return items.map(({ connectionId, events }) => {
    const mine = outcomes.slice(next, next + events.length);
    next += events.length;
    if (mine.includes('unknown_connection')) return new Error(`connection ${connectionId} does not exist`);
    const accepted = mine.filter((o) => o === 'accepted').length;
    return { accepted, duplicates: mine.length - accepted };
  });
}

export function createWebhookStore(databaseUrl: string, provider: 'hubspot' | 'pipedrive'): WebhookStore {
  const lookups: Sql = createSql(databaseUrl, { max: LOOKUP_CONNECTIONS });
  const stores: Sql = createSql(databaseUrl, { max: STORE_CONNECTIONS });

  const grouped = groupCommit<GroupItem, ReceiveResult | Error>(async (items) => {
    const deliveries = items.flatMap(({ connectionId, events }) =>
      events.map((e) => ({ connection_id: connectionId, ...(e as { dedupe_key: string; event: unknown }) }))
    );
    // Sent as text and cast in SQL: cheaper than postgres.js's jsonb parameter encoding.
    const rows = await stores<{ item: number; outcome: Outcome }[]>`
      select item, outcome from sync.receive_webhook_deliveries((${JSON.stringify(deliveries)}::text)::jsonb)`;
    return countOutcomes(items, rows.map((row) => row.outcome));
  }, { maxConcurrent: GROUP_WRITERS, maxBatch: GROUP_MAX_EVENTS });

  return {
    async findConnections(accountIds) {
      const rows = await lookups<
        { connection_id: string; account_id: string; enabled: boolean; webhook_secret: string | null }[]
      >`select connection_id, account_id, enabled, webhook_secret
          from sync.webhook_connections(${provider}, ${accountIds}::text[])`;
      return rows.map((row) => ({
        connectionId: row.connection_id,
        accountId: row.account_id,
        enabled: row.enabled,
        webhookSecret: row.webhook_secret,
      }));
    },
    async receiveEvents(connectionId, events) {
      // Sent as text and cast in SQL: postgres.js's jsonb parameter encoding
      // costs about 0.3 ms more CPU per 100-event batch than a plain string.
      const [row] = await stores<{ accepted: number; duplicates: number }[]>`
        select accepted, duplicates
          from sync.receive_webhook_events(${connectionId}::uuid, (${JSON.stringify(events)}::text)::jsonb)`;
      return { accepted: row.accepted, duplicates: row.duplicates };
    },
    async receiveEventsGrouped(connectionId, events) {
      const result = await grouped({ connectionId, events });
      if (result instanceof Error) throw result;
      return result;
    },
  };
}
