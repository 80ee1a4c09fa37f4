// The connections a webhook names, looked up by provider account id and kept
// in memory for a short while, so a steady stream of deliveries costs no
// database round trip for the lookup. Concurrent requests for the same
// accounts share one lookup; unknown accounts are remembered too (a flood of
// deliveries for a portal nobody connected stays off the database). A failed
// lookup is not remembered.

export interface WebhookConnection {
  connectionId: string;
  accountId: string;
  enabled: boolean;
  /** The secret deliveries for this account are signed with; null when none is stored. */
  webhookSecret: string | null;
}

export type ConnectionLookup = (accountIds: string[]) => Promise<WebhookConnection[]>;

export interface ConnectionCacheOptions {
  ttlMs: number;
  /** Oldest entries are dropped beyond this many accounts. */
  maxEntries: number;
  now: () => number;
}

interface Entry {
  expiresAt: number;
  connection: Promise<WebhookConnection | undefined>;
}

/** Returns a lookup with the same contract, answered from memory while fresh. */
export function createConnectionCache(
  lookup: ConnectionLookup,
  options: ConnectionCacheOptions,
): (accountIds: string[]) => Promise<Map<string, WebhookConnection>> {
  const entries = new Map<string, Entry>();

  const fetchMissing = (accountIds: string[], at: number) => {
    const byAccount = lookup(accountIds).then((rows) => new Map(rows.map((row) => [row.accountId, row])));
    const fetched = new Map<string, Promise<WebhookConnection | undefined>>();
    for (const accountId of accountIds) {
      const entry: Entry = {
        expiresAt: at + options.ttlMs,
        connection: byAccount.then((found) => found.get(accountId)),
      };
      entry.connection.catch(() => {
        if (entries.get(accountId) === entry) entries.delete(accountId);
      });
      entries.delete(accountId); // re-inserted last: the Map's order is the eviction order
      entries.set(accountId, entry);
      fetched.set(accountId, entry.connection);
    }
    for (const oldest of entries.keys()) {
      if (entries.size <= options.maxEntries) break;
      entries.delete(oldest);
    }
    return fetched;
  };

  return async (accountIds) => {
    const at = options.now();
    const wanted = [...new Set(accountIds)];
    const lookups = new Map<string, Promise<WebhookConnection | undefined>>();
    const missing: string[] = [];
    for (const accountId of wanted) {
      const entry = entries.get(accountId);
      if (entry && entry.expiresAt > at) lookups.set(accountId, entry.connection);
      else missing.push(accountId);
    }
    if (missing.length > 0) {
      for (const [accountId, connection] of fetchMissing(missing, at)) lookups.set(accountId, connection);
    }
    const found = new Map<string, WebhookConnection>();
    for (const accountId of wanted) {
      const connection = await lookups.get(accountId);
      if (connection) found.set(accountId, connection);
    }
    return found;
  };
}
