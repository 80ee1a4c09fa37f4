// Listing for batch sync: every live record of a type (the list endpoint,
// `after` paging) and the records changed in a window (search).
//
// Search pages by record id inside a window fixed by the first call,
// [since, until): each page is a fresh query at offset 0 for ids above the
// last one seen, sorted by id. No query ever pages towards the 10,000-result
// cap, and many records sharing one modified time are neither repeated nor
// skipped (a cursor on the timestamp alone does one or the other). `until`
// trails the clock by the search index lag, so a record written a moment ago
// is left to the next run rather than missed. A record modified again during
// the listing moves past `until` and is picked up by the next run.
//
// Search never sees archived records: a second phase lists the archived ones
// and keeps those archived inside the window, as deletions.
import type { EntityType, RemoteRecord } from '../../model/unified.ts';
import type { RecordPage } from '../adapter.ts';
import { type HubSpotCaller, SEARCH_RETRY_MS, SearchRateLimitError } from './client.ts';
import { type HubSpotObjectType, modifiedDateProperty, objectTypesOf, remoteIdOf } from './object-types.ts';

/** HubSpot's page maxima: 100 for lists, 200 for search. */
const LIST_PAGE = 100;
const SEARCH_PAGE = 200;
/** How far `until` trails the clock: HubSpot's search index catches up within seconds. */
const SEARCH_INDEX_LAG_MS = 30_000;
/** Search allows 5 requests per second per account, outside the main budget. */
const SEARCH_INTERVAL_MS = 220;
/** Tries of one search refused by that per-second limit before the run ends on it. */
const SEARCH_ATTEMPTS = 4;

export interface ListedObject {
  id: string;
  properties: Record<string, string | null>;
  createdAt: string;
  updatedAt: string;
  archived?: boolean;
  archivedAt?: string;
}

export interface ListingOptions {
  properties(objectType: HubSpotObjectType): string[];
  /** The object types whose associations carry this type's references (asked for on the list call itself). */
  associations(objectType: HubSpotObjectType): readonly HubSpotObjectType[];
  /**
   * Live objects of one page to records. `withAssociations`: the objects carry
   * their associations already (the list call returned them); otherwise
   * (search) the references are read in bulk.
   */
  toRecords(entityType: EntityType, objectType: HubSpotObjectType, objects: ListedObject[], withAssociations: boolean): Promise<RemoteRecord[]>;
  now?: () => number;
  searchIntervalMs?: number;
}

/** Where a listing stands: the object type (activities span four), the phase, and the position in it. */
interface Cursor {
  type: number;
  phase: 'live' | 'archived';
  /** The list endpoint's `after`, or in the live phase of a change listing, the last id seen. */
  after: string | null;
  since?: number;
  until?: number;
}

export function encodeCursor(cursor: Cursor): string {
  return btoa(JSON.stringify(cursor)).replaceAll('+', '-').replaceAll('/', '_').replaceAll('=', '');
}

export function decodeCursor(text: string): Cursor {
  try {
    const cursor = JSON.parse(atob(text.replaceAll('-', '+').replaceAll('_', '/'))) as Cursor;
    if (typeof cursor.type === 'number' && (cursor.phase === 'live' || cursor.phase === 'archived')) return cursor;
  } catch {
    // reported below
  }
  throw new Error(`not a HubSpot listing cursor: ${text.slice(0, 80)}`);
}

const plain = <T>(value: unknown): T => JSON.parse(JSON.stringify(value)) as T;

interface ListJson {
  results: ListedObject[];
  paging?: { next?: { after?: string } };
}

export function createHubSpotListing(api: HubSpotCaller, options: ListingOptions) {
  const now = options.now ?? Date.now;
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const searchInterval = options.searchIntervalMs ?? SEARCH_INTERVAL_MS;
  let lastSearchAt = -Infinity;

  // Spaced within this run; another run (or worker) searching at the same
  // time can still meet the per-second limit, so a refused search waits out
  // the limit's second and tries again rather than end the run.
  async function pacedSearch<T>(request: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const wait = lastSearchAt + searchInterval - now();
      if (wait > 0) await sleep(wait);
      lastSearchAt = now();
      try {
        return await request();
      } catch (error) {
        if (!(error instanceof SearchRateLimitError) || attempt >= SEARCH_ATTEMPTS) throw error;
        await sleep(SEARCH_RETRY_MS);
      }
    }
  }

  // Live pages ask for the associations on the same call: one request per page of 100, not one more per referenced type.
  async function listPage(objectType: HubSpotObjectType, after: string | null, archived: boolean): Promise<ListJson> {
    const associations = archived ? [] : [...options.associations(objectType)];
    return plain<ListJson>(await api.call((c) =>
      c.crm.objects.basicApi.getPage(
        objectType, LIST_PAGE, after ?? undefined, archived ? ['hs_object_id'] : options.properties(objectType),
        undefined, associations.length ? associations : undefined, archived,
      )
    ));
  }

  /** The next cursor: the same type and phase further on, else the next phase or type, else the end. */
  function advance(entityType: EntityType, cursor: Cursor, after: string | null, phases: Cursor['phase'][]): string | null {
    if (after !== null) return encodeCursor({ ...cursor, after });
    const nextPhase = phases[phases.indexOf(cursor.phase) + 1];
    if (nextPhase) return encodeCursor({ ...cursor, phase: nextPhase, after: null });
    if (cursor.type + 1 < objectTypesOf(entityType).length) {
      return encodeCursor({ ...cursor, type: cursor.type + 1, phase: phases[0], after: null });
    }
    return null;
  }

  return {
    async listRecords(entityType: EntityType, cursorText: string | null): Promise<RecordPage> {
      if (objectTypesOf(entityType).length === 0) return { records: [], nextCursor: null }; // tasks: not synced with HubSpot
      const cursor = cursorText ? decodeCursor(cursorText) : { type: 0, phase: 'live' as const, after: null };
      const objectType = objectTypesOf(entityType)[cursor.type];
      const page = await listPage(objectType, cursor.after, false);
      return {
        records: await options.toRecords(entityType, objectType, page.results, true),
        nextCursor: advance(entityType, cursor, page.paging?.next?.after ?? null, ['live']),
      };
    },

    async listChangedSince(entityType: EntityType, since: string, cursorText: string | null): Promise<RecordPage> {
      const sinceMs = Date.parse(since);
      if (Number.isNaN(sinceMs)) throw new Error(`listChangedSince needs an ISO 8601 time, got ${since}`);
      if (objectTypesOf(entityType).length === 0) return { records: [], nextCursor: null, until: since };
      const cursor: Cursor = cursorText
        ? decodeCursor(cursorText)
        : { type: 0, phase: 'live', after: null, since: sinceMs, until: Math.max(sinceMs, now() - SEARCH_INDEX_LAG_MS) };
      const from = cursor.since ?? sinceMs;
      const until = cursor.until ?? now() - SEARCH_INDEX_LAG_MS;
      const objectType = objectTypesOf(entityType)[cursor.type];
      const window = { records: [] as RemoteRecord[], until: new Date(until).toISOString() };

      if (cursor.phase === 'archived') {
        const page = await listPage(objectType, cursor.after, true);
        for (const object of page.results) {
          const archivedAt = Date.parse(object.archivedAt ?? object.updatedAt);
          if (archivedAt >= from && archivedAt < until) {
            window.records.push({
              entityType, remoteId: remoteIdOf(objectType, String(object.id)), remoteUpdatedAt: new Date(archivedAt).toISOString(),
              archived: true, fields: {}, references: {}, unmapped: [],
            });
          }
        }
        return { ...window, nextCursor: advance(entityType, cursor, page.paging?.next?.after ?? null, ['live', 'archived']) };
      }

      const modified = modifiedDateProperty(objectType);
      const filters = [
        { propertyName: modified, operator: 'GTE', value: String(from) },
        { propertyName: modified, operator: 'LT', value: String(until) },
        ...(cursor.after ? [{ propertyName: 'hs_object_id', operator: 'GT', value: cursor.after }] : []),
      ];
      const page = plain<ListJson>(await pacedSearch(() =>
        api.call((c) =>
          c.crm.objects.searchApi.doSearch(objectType, {
            filterGroups: [{ filters: filters as never }],
            sorts: [{ propertyName: 'hs_object_id', direction: 'ASCENDING' } as never],
            properties: options.properties(objectType),
            limit: SEARCH_PAGE,
            after: '0',
          })
        )
      ));
      window.records = await options.toRecords(entityType, objectType, page.results, false);
      const more = page.results.length === SEARCH_PAGE && page.paging?.next?.after !== undefined;
      const lastId = page.results.at(-1)?.id ?? null;
      return { ...window, nextCursor: advance(entityType, cursor, more ? String(lastId) : null, ['live', 'archived']) };
    },
  };
}
