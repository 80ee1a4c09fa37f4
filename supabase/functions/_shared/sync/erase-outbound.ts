// GDPR erasures in a connected CRM: privacy.erase_contact queued one 'erase'
// message per CRM holding the person (the remote id travels in the message:
// the local records are gone). The adapter erases them for good and each
// confirmed erasure is recorded on its tombstone. A failure that retrying
// can fix goes back to the queue with backoff; one that cannot is
// dead-lettered at once, where an operator sees it (and the tombstone shows
// it as failed: privacy._track_erasure_letters).
import type { CrmAdapter } from '../providers/adapter.ts';
import type { OutboundMessage, OutboundOutcome } from './outbound.ts';
import type { QueueMessage, SyncDb } from './sync-db.ts';

export type EraseDb = Pick<SyncDb, 'recordRemoteErasures'>;

export async function syncErasures(
  db: EraseDb,
  adapter: CrmAdapter,
  connectionId: string,
  messages: QueueMessage<OutboundMessage>[],
  outcome: OutboundOutcome,
): Promise<void> {
  const byRemote = new Map<string, QueueMessage<OutboundMessage>[]>();
  for (const m of messages) {
    const remoteId = m.message.remote_id;
    if (!remoteId || !m.message.erasure_id) {
      outcome.stats.failed++;
      outcome.rejected.push({ ids: [m.msg_id], error: 'malformed erase message: remote_id and erasure_id are required' });
      continue;
    }
    byRemote.set(remoteId, [...(byRemote.get(remoteId) ?? []), m]);
  }
  if (byRemote.size === 0) return;
  const results = await adapter.eraseContacts([...byRemote.keys()]);
  const erased: string[] = [];
  for (const result of results) {
    const group = byRemote.get(result.remoteId) ?? [];
    const ids = group.map((m) => m.msg_id);
    if (result.ok) {
      outcome.stats.erased++;
      outcome.done.push(...ids);
      erased.push(...group.map((m) => m.message.erasure_id!));
    } else {
      outcome.stats.failed++;
      (result.retryable ? outcome.retry : outcome.rejected).push({ ids, error: result.error });
    }
  }
  await db.recordRemoteErasures(connectionId, [...new Set(erased)]);
}
