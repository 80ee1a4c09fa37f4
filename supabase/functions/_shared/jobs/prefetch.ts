// Listing ahead: while a job applies one page, the CRM is already asked for
// the next, so the API call and the database write overlap instead of
// taking turns. Only the page right after the one just returned is fetched
// ahead (one call in flight per listing), and only while the caller says the
// run will go on; a page fetched ahead but never asked for costs one call.
import type { CrmAdapter, RecordPage } from '../providers/adapter.ts';

type Listing = (cursor: string | null) => Promise<RecordPage>;

/** Wraps one listing (fixed entity type and arguments but the cursor) so that each page fetches the next. */
function listingAhead(list: Listing, goOn: () => boolean): Listing {
  let ahead: { cursor: string; page: Promise<RecordPage> } | null = null;
  return async (cursor) => {
    const page = ahead && ahead.cursor === cursor ? ahead.page : list(cursor);
    ahead = null;
    const result = await page;
    if (result.nextCursor !== null && goOn()) {
      const next = list(result.nextCursor);
      // A failure surfaces when the page is asked for; until then it must not count as unhandled.
      next.catch(() => {});
      ahead = { cursor: result.nextCursor, page: next };
    }
    return result;
  };
}

/**
 * The adapter with its listings fetching one page ahead. `goOn` is asked
 * after each page: false when the run is about to stop (its time or record
 * budget spent, or an error), so no call is made for a page nobody will read.
 */
export function prefetchingAdapter(adapter: CrmAdapter, goOn: () => boolean): CrmAdapter {
  const listings = new Map<string, Listing>();
  const listing = (key: string, list: Listing) => {
    let found = listings.get(key);
    if (!found) listings.set(key, found = listingAhead(list, goOn));
    return found;
  };
  const overrides: Pick<CrmAdapter, 'listRecords' | 'listChangedSince'> = {
    listRecords: (entityType, cursor) =>
      listing(`all/${entityType}`, (c) => adapter.listRecords(entityType, c))(cursor),
    listChangedSince: (entityType, since, cursor) =>
      listing(`since/${entityType}/${since}`, (c) => adapter.listChangedSince(entityType, since, c))(cursor),
  };
  // Every other member is the adapter's own, called on the adapter itself.
  return new Proxy(adapter, {
    get(target, property) {
      if (property in overrides) return overrides[property as keyof typeof overrides];
      const value = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
