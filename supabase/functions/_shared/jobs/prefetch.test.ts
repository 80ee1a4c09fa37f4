import { describe, expect, it } from 'vitest';
import type { CrmAdapter, RecordPage } from '../providers/adapter.ts';
import { prefetchingAdapter } from './prefetch.ts';

/** A CRM of three pages ("a", "b", "c") that records every listing call. */
function pagedAdapter(failAt?: string) {
  const calls: string[] = [];
  const pages: Record<string, RecordPage> = {
    start: { records: [{ remoteId: '1' }] as never, nextCursor: 'b' },
    b: { records: [{ remoteId: '2' }] as never, nextCursor: 'c' },
    c: { records: [{ remoteId: '3' }] as never, nextCursor: null },
  };
  class Fake {
    #secret = 'own';
    listRecords(entityType: string, cursor: string | null) {
      calls.push(`${entityType}:${cursor ?? 'start'}`);
      if (cursor === failAt) return Promise.reject(new Error(`page ${cursor} failed`));
      return Promise.resolve(pages[cursor ?? 'start']);
    }
    listChangedSince(entityType: string, since: string, cursor: string | null) {
      calls.push(`${entityType}@${since}:${cursor ?? 'start'}`);
      return Promise.resolve(pages[cursor ?? 'start']);
    }
    fetchRecords() {
      return Promise.resolve(this.#secret);
    }
  }
  return { adapter: new Fake() as unknown as CrmAdapter, calls };
}

describe('prefetchingAdapter', () => {
  it('asks for the next page as soon as a page is returned, and serves it from there', async () => {
    const { adapter, calls } = pagedAdapter();
    const ahead = prefetchingAdapter(adapter, () => true);
    const first = await ahead.listRecords('contact', null);
    expect(calls).toEqual(['contact:start', 'contact:b']);
    const second = await ahead.listRecords('contact', first.nextCursor);
    expect(second.records).toEqual([{ remoteId: '2' }]);
    const third = await ahead.listRecords('contact', second.nextCursor);
    expect(third.nextCursor).toBeNull();
    expect(calls).toEqual(['contact:start', 'contact:b', 'contact:c']);
  });

  it('fetches nothing ahead when the run is about to stop', async () => {
    const { adapter, calls } = pagedAdapter();
    await prefetchingAdapter(adapter, () => false).listRecords('contact', null);
    expect(calls).toEqual(['contact:start']);
  });

  it('keeps listings of other entity types and windows apart', async () => {
    const { adapter, calls } = pagedAdapter();
    const ahead = prefetchingAdapter(adapter, () => true);
    await ahead.listChangedSince('contact', 'T1', null);
    await ahead.listChangedSince('contact', 'T2', 'b');
    await ahead.listRecords('company', 'b');
    expect(calls).toEqual(['contact@T1:start', 'contact@T1:b', 'contact@T2:b', 'contact@T2:c', 'company:b', 'company:c']);
  });

  it('lists again when asked for another cursor than the one fetched ahead', async () => {
    const { adapter, calls } = pagedAdapter();
    const ahead = prefetchingAdapter(adapter, () => true);
    await ahead.listRecords('contact', null);
    const again = await ahead.listRecords('contact', null);
    expect(again.nextCursor).toBe('b');
    expect(calls).toEqual(['contact:start', 'contact:b', 'contact:start', 'contact:b']);
  });

  it('raises a failed page fetched ahead when that page is asked for, not before', async () => {
    const { adapter } = pagedAdapter('b');
    const ahead = prefetchingAdapter(adapter, () => true);
    await expect(ahead.listRecords('contact', null)).resolves.toMatchObject({ nextCursor: 'b' });
    await expect(ahead.listRecords('contact', 'b')).rejects.toThrow('page b failed');
  });

  it('passes every other call to the adapter itself', async () => {
    const { adapter } = pagedAdapter();
    expect(await prefetchingAdapter(adapter, () => true).fetchRecords('contact', [])).toBe('own');
  });
});
