// Remote GDPR erasures: each outcome of adapter.eraseContacts decides the
// fate of its messages and is recorded on the erasure.
import { describe, expect, it } from 'vitest';
import type { CrmAdapter, EraseResult } from '../providers/adapter.ts';
import { syncErasures } from './erase-outbound.ts';
import type { OutboundMessage, OutboundOutcome } from './outbound.ts';
import type { QueueMessage } from './sync-db.ts';

const CONNECTION = 'c1c1c1c1-0000-4000-8000-000000000001';

const erase = (msgId: number, remoteId: string | undefined, erasureId: string | undefined): QueueMessage<OutboundMessage> => ({
  msg_id: msgId,
  read_ct: 1,
  message: { connection_id: CONNECTION, entity_type: 'contact', local_id: `l-${msgId}`, op: 'erase', remote_id: remoteId, erasure_id: erasureId },
});

const emptyOutcome = (): OutboundOutcome => ({
  stats: { created: 0, updated: 0, archived: 0, merged: 0, erased: 0, unchanged: 0, waiting: 0, failed: 0 },
  done: [],
  retry: [],
  rejected: [],
});

function setup(results: (ids: string[]) => EraseResult[]) {
  const asked: string[][] = [];
  const recorded: unknown[] = [];
  const adapter = { eraseContacts: async (ids: string[]) => (asked.push(ids), results(ids)) } as unknown as CrmAdapter;
  const db = { recordRemoteErasures: async (_c: string, r: unknown[]) => void recorded.push(...r) };
  return { adapter, db, asked, recorded };
}

describe('syncErasures', () => {
  it('erases each remote record once, records the confirmed erasures, and retries or rejects the failed ones', async () => {
    const { adapter, db, asked, recorded } = setup((ids) => ids.map((remoteId): EraseResult => {
      if (remoteId === '2') return { remoteId, ok: false, retryable: true, error: 'HubSpot 503' };
      if (remoteId === '3') return { remoteId, ok: false, retryable: false, error: 'HubSpot 400: bad id' };
      return { remoteId, ok: true };
    }));
    const outcome = emptyOutcome();
    await syncErasures(db, adapter, CONNECTION, [erase(10, '1', 'e1'), erase(11, '1', 'e1'), erase(12, '2', 'e2'), erase(13, '3', 'e3')], outcome);
    expect(asked).toEqual([['1', '2', '3']]);
    expect(outcome.done).toEqual([10, 11]);
    expect(outcome.retry).toEqual([{ ids: [12], error: 'HubSpot 503' }]);
    expect(outcome.rejected).toEqual([{ ids: [13], error: 'HubSpot 400: bad id' }]);
    expect(outcome.stats).toMatchObject({ erased: 1, failed: 2 });
    expect(recorded).toEqual(['e1']);
  });

  it('dead-letters a message without a remote id or erasure id and calls the CRM for nothing', async () => {
    const { adapter, db, asked } = setup(() => []);
    const outcome = emptyOutcome();
    await syncErasures(db, adapter, CONNECTION, [erase(20, undefined, 'e1'), erase(21, '5', undefined)], outcome);
    expect(asked).toEqual([]);
    expect(outcome.rejected.map((r) => r.ids)).toEqual([[20], [21]]);
  });
});
