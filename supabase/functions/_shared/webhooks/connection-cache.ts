// The connections a webhook names, looked up by provider account id and kept
// in memory for a short while, so a steady stream of deliveries costs no
// database round trip for the lookup. Concurrent requests for the same
// accounts share one lookup; unknown accounts are remembered too (a flood of
// deliveries for a portal nobody connected stays off the database), but apart
// from the known ones, so a flood of made-up account ids cannot push the
// connections of real deliveries out of memory. A failed lookup is not
// remembered, and an entry that turned out stale (its connection was removed
// or replaced, e.g. the account was reconnected) can be forgotten at once.

export interface WebhookConnection {
  connectionId: string;
  accountId: string;
  enabled: boolean;
  /** The secret deliveries for this account are signed with; null when none is stored. */
  webhookSecret: string | null;
}

export type ConnectionLookup = (accountIds: string[]) => Promise<WebhookConnection[]>;

export interface CachedConnectionLookup {
  (accountIds: string[]): Promise<Map<string, WebhookConnection>>;
  /**
   * Drops what is held for these accounts if it was looked up at least
   * `minAgeMs` ago (so a stream of bad requests costs at most one lookup per
   * account per `minAgeMs`); the next call looks them up again.
   */
  forget(accountIds: string[], minAgeMs?: number): void;
}

export interface ConnectionCacheOptions {
  ttlMs: number;
  /** Oldest entries are dropped beyond this many accounts. */
  maxEntries: number;
  now: () => number;
}

interface Entry {
  fetchedAt: number;
  expiresAt: number;
  connection: Promise<WebhookConnection | undefined>;
}

/** Returns a lookup with the same contract, answered from memory while fresh. */
export function createConnectionCache(
  lookup: ConnectionLookup,
  options: ConnectionCacheOptions,
): CachedConnectionLookup {
  const entries = new Map<string, Entry>();
  /** Accounts found unknown, with when that answer expires. */
  const unknown = new Map<string, number>();

  const rememberUnknown = (accountId: string, expiresAt: number) => {
    unknown.delete(accountId);
    unknown.set(accountId, expiresAt);
    for (const oldest of unknown.keys()) {
      if (unknown.size <= options.maxEntries) break;
      unknown.delete(oldest);
    }
  };

  /** Drops the oldest entries beyond maxEntries once a lookup found its connection (pending ones settle soon). */
  const trimKnown = () => {
    for (const oldest of entries.keys()) {
      if (entries.size <= options.maxEntries) break;
      entries.delete(oldest);
    }
  };

  const fetchMissing = (accountIds: string[], at: number) => {
    const byAccount = lookup(accountIds).then((rows) => new Map(rows.map((row) => [row.accountId, row])));
    const fetched = new Map<string, Promise<WebhookConnection | undefined>>();
    for (const accountId of accountIds) {
      const entry: Entry = {
        fetchedAt: at,
        expiresAt: at + options.ttlMs,
        connection: byAccount.then((found) => found.get(accountId)),
      };
      entry.connection.then((connection) => {
        if (entries.get(accountId) !== entry) return;
        if (connection) return trimKnown();
        entries.delete(accountId);
        rememberUnknown(accountId, entry.expiresAt);
      }, () => {
        if (entries.get(accountId) === entry) entries.delete(accountId);
      });
      entries.delete(accountId); // re-inserted last: the Map's order is the eviction order
      entries.set(accountId, entry);
      fetched.set(accountId, entry.connection);
    }
    return fetched;
  };

  const find = async (accountIds: string[]) => {
    const at = options.now();
    const wanted = [...new Set(accountIds)];
    const lookups = new Map<string, Promise<WebhookConnection | undefined>>();
    const missing: string[] = [];
    for (const accountId of wanted) {
      const entry = entries.get(accountId);
      if (entry && entry.expiresAt > at) lookups.set(accountId, entry.connection);
      else if ((unknown.get(accountId) ?? 0) <= at) missing.push(accountId);
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

  const forget = (accountIds: string[], minAgeMs = 0) => {
    const at = options.now();
    for (const accountId of accountIds) {
      const entry = entries.get(accountId);
      if (entry && at - entry.fetchedAt >= minAgeMs) entries.delete(accountId);
      const unknownUntil = unknown.get(accountId);
      if (unknownUntil !== undefined && at - (unknownUntil - options.ttlMs) >= minAgeMs) unknown.delete(accountId);
    }
  };

  return Object.assign(find, { forget });
}
