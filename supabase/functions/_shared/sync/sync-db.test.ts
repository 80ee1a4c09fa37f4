import { describe, expect, it } from 'vitest';
import type { Sql } from '../db.ts';
import type { InboundChange } from './resolve-inbound.ts';
import { createSyncDb } from './sync-db.ts';

/** A transaction's sql as postgres.js hands it out: a tagged template with json(), and no begin(). */
function transactionSql(answers: unknown[][]) {
  const statements: string[] = [];
  const tx = Object.assign(async (strings: TemplateStringsArray) => {
    statements.push(strings.join('$'));
    return answers.shift() ?? [];
  }, { json: (value: unknown) => value });
  return { tx: tx as unknown as Sql, statements };
}

describe('createSyncDb: applyInboundChanges', () => {
  it('records the conflict decisions in the transaction it is given (a job page\'s), not in one of its own', async () => {
    const { tx, statements } = transactionSql([[{ remote_id: '7', local_id: 'L7', outcome: 'updated' }]]);
    const change = { remote_id: '7', remote_updated_at: '2026-03-01T12:00:00.000Z', set: { phone: '2' }, base: { phone: '2' } };
    const conflict = { field: 'phone', base: '0', local: '1', remote: '2', winner: 'remote', value: '2', strategy: 'timestamp' };

    const outcomes = await createSyncDb(tx).applyInboundChanges('c1', 'contact', [change as unknown as InboundChange],
      new Map([['7', [conflict as never]]]));

    expect(outcomes).toEqual([{ remote_id: '7', local_id: 'L7', outcome: 'updated' }]);
    expect(statements).toEqual([expect.stringContaining('sync.apply_inbound_changes'), expect.stringContaining('sync.record_conflict_decisions')]);
  });
});
