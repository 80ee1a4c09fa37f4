// Listing for batch sync: every live record of a type (v2 lists, `cursor`
// paging, 500 a page; notes through v1 `start`/`limit`) and the records
// changed in a window fixed by the first call, [since, until): v2
// `updated_since`/`updated_until` sorted by update_time. Pipedrive's lists
// leave deleted records out, except deals, which `status=deleted` lists: a
// second phase of a deal change listing returns those as deletions. Persons,
// organizations and activities deleted meanwhile are not reported by the API
// (their webhooks are the only sign).
//
// Activities span two objects (v2 activities, v1 notes): the cursor says
// which one it is in. v1 notes have no update filter: they are paged newest
// update first until one is older than the window.
import type { EntityType, RemoteRecord } from '../../model/unified.ts';
import type { RecordPage } from '../adapter.ts';
import type { PipedriveCaller } from './client.ts';
import type { PipedriveObject } from './mappers.ts';
import { toIsoTime } from './mappers.ts';

const PAGE = 500;

interface Cursor {
  /** Index into the entity type's objects (activities: activity, then note). */
  object: number;
  phase: 'live' | 'deleted';
  /** v2 next_cursor, or v1 start as text. */
  at: string | null;
  since?: string;
  until?: string;
}

export const encodeListingCursor = (cursor: Cursor) =>
  btoa(JSON.stringify(cursor)).replaceAll('+', '-').replaceAll('/', '_').replaceAll('=', '');

export function decodeListingCursor(text: string): Cursor {
  try {
    const cursor = JSON.parse(atob(text.replaceAll('-', '+').replaceAll('_', '/'))) as Cursor;
    if (typeof cursor.object !== 'number' || (cursor.phase !== 'live' && cursor.phase !== 'deleted')) throw new Error('bad shape');
    return cursor;
  } catch {
    throw new Error(`not a Pipedrive listing cursor: ${text.slice(0, 40)}`);
  }
}

const objectsOf = (entityType: EntityType): PipedriveObject[] =>
  entityType === 'contact' ? ['person'] : entityType === 'company' ? ['organization'] : entityType === 'deal' ? ['deal']
  : entityType === 'activity' ? ['activity', 'note'] : [];

/** Pipedrive's filters take RFC 3339 without fractions. */
const rfc3339 = (iso: string) => new Date(iso).toISOString().replace(/\.\d{3}Z$/, 'Z');

type Item = Record<string, unknown>;
interface Page {
  data?: Item[] | null;
  additional_data?: { next_cursor?: string | null; pagination?: { more_items_in_collection?: boolean; next_start?: number } } | null;
}

/** `toRecord` maps an item read at `readAt` (ISO 8601, just before the request). */
export function createPipedriveListing(
  api: PipedriveCaller,
  toRecord: (entityType: EntityType, object: PipedriveObject, item: Item, readAt: string) => RemoteRecord,
) {
  const a = api.api;
  const listV2 = (object: PipedriveObject, params: Item): Promise<Page> => api.call((): Promise<unknown> => {
    switch (object) {
      case 'person': return a.persons.getPersons(params as never);
      case 'organization': return a.organizations.getOrganizations(params as never);
      case 'deal': return a.deals.getDeals(params as never);
      default: return a.activities.getActivities(params as never);
    }
  }) as Promise<Page>;

  async function page(entityType: EntityType, cursor: Cursor, window: { since: string; until: string } | null): Promise<RecordPage> {
    const objects = objectsOf(entityType);
    const object = objects[cursor.object];
    if (!object) throw new Error(`${entityType} records are not listed from Pipedrive`);
    const next = (rest: Partial<Cursor> | null): string | null => {
      if (rest) return encodeListingCursor({ ...cursor, ...rest });
      if (window && object === 'deal' && cursor.phase === 'live') return encodeListingCursor({ ...cursor, phase: 'deleted', at: null });
      if (cursor.object + 1 < objects.length) return encodeListingCursor({ ...cursor, object: cursor.object + 1, phase: 'live', at: null });
      return null;
    };

    const readAt = new Date().toISOString();
    if (object === 'note') {
      const start = Number(cursor.at ?? 0);
      const response = await api.call(() => a.notes.getNotes({ start, limit: PAGE, sort: window ? 'update_time DESC' : 'id ASC' } as never)) as Page;
      let items = response.data ?? [];
      let more = response.additional_data?.pagination?.more_items_in_collection === true;
      if (window) {
        // As instants: the window is RFC 3339 without fractions and toIsoTime has them, so as text a note changed in
        // the window's first second sorted before it (and was missed by this window and the one before).
        const since = Date.parse(window.since);
        const until = Date.parse(window.until);
        const timeOf = (item: Item) => {
          const at = toIsoTime(String(item.update_time ?? ''));
          return at === undefined ? undefined : Date.parse(at);
        };
        const inWindow = (item: Item) => {
          const at = timeOf(item);
          return at !== undefined && at >= since && at < until;
        };
        const older = items.some((item) => (timeOf(item) ?? -Infinity) < since);
        items = items.filter(inWindow);
        if (older) more = false;
      }
      return {
        records: items.map((item) => toRecord(entityType, object, item, readAt)),
        nextCursor: next(more ? { at: String(response.additional_data?.pagination?.next_start ?? start + PAGE) } : null),
      };
    }

    const params: Item = { limit: PAGE, ...(cursor.at ? { cursor: cursor.at } : {}) };
    if (window) Object.assign(params, { updated_since: window.since, updated_until: window.until, sort_by: 'update_time', sort_direction: 'asc' });
    if (cursor.phase === 'deleted') params.status = 'deleted';
    const response = await listV2(object, params);
    const nextCursor = response.additional_data?.next_cursor ?? null;
    return {
      records: (response.data ?? []).map((item) => toRecord(entityType, object, item, readAt)),
      nextCursor: next(nextCursor ? { at: nextCursor } : null),
    };
  }

  return {
    listRecords(entityType: EntityType, cursor: string | null): Promise<RecordPage> {
      return page(entityType, cursor ? decodeListingCursor(cursor) : { object: 0, phase: 'live', at: null }, null);
    },
    listChangedSince(entityType: EntityType, since: string, cursor: string | null): Promise<RecordPage> {
      const state = cursor ? decodeListingCursor(cursor) : { object: 0, phase: 'live' as const, at: null, since: rfc3339(since), until: rfc3339(new Date().toISOString()) };
      if (!state.since || !state.until) throw new Error('a change listing cursor carries its window');
      return page(entityType, state, { since: state.since, until: state.until });
    },
  };
}
