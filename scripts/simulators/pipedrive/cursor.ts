/**
 * API v2 cursor paging. A cursor names the first item of the next page as
 * base64url JSON `{"field","fieldValue","sortDirection","id"}` (the shape of
 * the spec's example cursors), so paging is keyset-based: records created or
 * changed between pages neither shift nor repeat the ones after the cursor.
 */

import { Buffer } from 'node:buffer';
import { badRequest } from './errors.ts';

export type SortDirection = 'asc' | 'desc';
export type SortValue = number | string | null;

export interface CursorPosition {
  field: string;
  fieldValue: SortValue;
  sortDirection: SortDirection;
  id: number;
}

export function encodeCursor(position: CursorPosition): string {
  return Buffer.from(JSON.stringify(position)).toString('base64url');
}

export function decodeCursor(cursor: string): CursorPosition {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw badRequest('Invalid cursor');
  }
  const position = parsed as Partial<CursorPosition>;
  if (
    !position || typeof position !== 'object' || typeof position.field !== 'string' ||
    !Number.isInteger(position.id) || (position.sortDirection !== 'asc' && position.sortDirection !== 'desc') ||
    !(position.fieldValue === null || ['number', 'string'].includes(typeof position.fieldValue))
  ) {
    throw badRequest('Invalid cursor');
  }
  return position as CursorPosition;
}

function compareValues(a: SortValue, b: SortValue): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  return a < b ? -1 : 1;
}

export interface PageRequest<T> {
  items: T[];
  /** The value sorted on, and the id that breaks ties. */
  key: (item: T) => { value: SortValue; id: number };
  field: string;
  direction: SortDirection;
  limit: number;
  cursor?: string;
}

/** Sorts, skips to the cursor and cuts one page; `nextCursor` is null on the last page. */
export function paginate<T>(request: PageRequest<T>): { page: T[]; nextCursor: string | null } {
  const sign = request.direction === 'asc' ? 1 : -1;
  const compare = (a: { value: SortValue; id: number }, b: { value: SortValue; id: number }) =>
    sign * (compareValues(a.value, b.value) || a.id - b.id);
  const keyed = request.items.map((item) => ({ item, key: request.key(item) }));
  keyed.sort((a, b) => compare(a.key, b.key));
  let start = 0;
  if (request.cursor) {
    const position = decodeCursor(request.cursor);
    if (position.field !== request.field || position.sortDirection !== request.direction) {
      throw badRequest('Cursor does not match the requested sort_by and sort_direction');
    }
    const at = { value: position.fieldValue, id: position.id };
    start = keyed.findIndex((entry) => compare(entry.key, at) >= 0);
    if (start < 0) start = keyed.length;
  }
  const slice = keyed.slice(start, start + request.limit + 1);
  const next = slice.length > request.limit ? slice[request.limit] : undefined;
  return {
    page: slice.slice(0, request.limit).map((entry) => entry.item),
    nextCursor: next
      ? encodeCursor({
        field: request.field,
        fieldValue: next.key.value,
        sortDirection: request.direction,
        id: next.key.id,
      })
      : null,
  };
}
