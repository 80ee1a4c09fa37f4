import { describe, expect, it } from 'vitest';
import { BudgetExhaustedError, createRateBudget, spareGrants } from './rate-budget.ts';
import type { RateGrant } from './sync-db.ts';

/** A database answering take_rate_budget from a script, recording every call. */
function scriptedDb(answers: RateGrant[], settle: () => Promise<void> = async () => {}) {
  const calls: string[] = [];
  return {
    calls,
    db: {
      async takeRateBudget(id: string, requests: number, tokens = 0, untilAnswered = false, spare = 0) {
        calls.push(`take ${id} ${requests} ${tokens} ${untilAnswered}${spare ? ` +${spare}` : ''}`);
        return answers.shift()!;
      },
      async settleRateBudget(id: string, grantId: string, requests: number) {
        calls.push(`settle ${id} ${grantId} ${requests}`);
        await settle();
      },
      async pauseConnection(id: string, ms: number, reason: string) {
        calls.push(`pause ${id} ${ms} ${reason}`);
      },
    },
  };
}

const sleeps = (log: string[]) => async (ms: number) => void log.push(`sleep ${ms}`);

describe('createRateBudget', () => {
  it('takes a grant for a call until answered, waiting as told, and settles that grant when answered', async () => {
    const { db, calls } = scriptedDb([{ granted: false, wait_ms: 25, grant_id: null }, { granted: true, wait_ms: 0, grant_id: '1790000000000' }]);
    const budget = createRateBudget(db, 'c1', () => Date.now() + 10_000, sleeps(calls));
    const grant = await budget.takeForCall!(5);
    expect(calls).toEqual(['take c1 1 5 true', 'sleep 25', 'take c1 1 5 true']);
    await grant.answered();
    expect(calls.at(-1)).toBe('settle c1 1790000000000 1');
  });

  it('grants calls that go out back to back together, and settles each as it is answered', async () => {
    const { db, calls } = scriptedDb([{ granted: true, wait_ms: 0, grant_id: '1790000000001' }]);
    const [read, write] = await createRateBudget(db, 'c1', () => Date.now() + 10_000, sleeps(calls)).takeForCalls!([10, 5]);
    expect(calls).toEqual(['take c1 2 15 true']);
    await read.answered();
    await write.answered();
    expect(calls.slice(1)).toEqual(['settle c1 1790000000001 1', 'settle c1 1790000000001 1']);
  });

  it('never fails a call because its grant could not be settled (it then counts as in flight a while longer)', async () => {
    const { db } = scriptedDb([{ granted: true, wait_ms: 0, grant_id: '1' }], async () => {
      throw new Error('connection lost');
    });
    const grant = await createRateBudget(db, 'c1', () => Date.now() + 10_000).takeForCall!();
    await expect(grant.answered()).resolves.toBeUndefined();
  });

  it('gives up when the wait would pass the deadline, for plain grants and grants for a call alike', async () => {
    for (const take of [(b: ReturnType<typeof createRateBudget>) => b.take(), (b: ReturnType<typeof createRateBudget>) => b.takeForCall!()]) {
      const { db } = scriptedDb([{ granted: false, wait_ms: 5_000, grant_id: null }]);
      const budget = createRateBudget(db, 'c1', () => Date.now() + 1_000);
      await expect(take(budget)).rejects.toBeInstanceOf(BudgetExhaustedError);
    }
  });

  it('asks the database for one grant at a time: waiting writers queue behind the first instead of all polling', async () => {
    const { db, calls } = scriptedDb([
      { granted: false, wait_ms: 30, grant_id: null },
      { granted: true, wait_ms: 0, grant_id: '1' },
      { granted: true, wait_ms: 0, grant_id: '2' },
    ]);
    const budget = createRateBudget(db, 'c1', () => Date.now() + 10_000, sleeps(calls));
    await Promise.all([budget.takeForCall!(1), budget.takeForCall!(2)]);
    expect(calls).toEqual(['take c1 1 1 true', 'sleep 30', 'take c1 1 1 true', 'take c1 1 2 true']);
  });

  it('spends the spare grants of a series of plain calls without asking the database, until they expire', async () => {
    const { db, calls } = scriptedDb([
      { granted: true, wait_ms: 0, grant_id: null, spare: 0 },
      { granted: true, wait_ms: 0, grant_id: null, spare: 2 },
      { granted: true, wait_ms: 0, grant_id: null, spare: 2 },
      { granted: true, wait_ms: 0, grant_id: null, spare: 0 },
    ]);
    let clock = 1_000_000;
    const budget = createRateBudget(db, 'c1', () => clock + 10_000, sleeps(calls), () => clock);
    // A single call asks for no spares: a worker that makes one call would waste them.
    await budget.take();
    expect(calls).toEqual(['take c1 1 0 false']);
    // The next asks for some, and the two that came are spent by the next two calls.
    for (let i = 0; i < 3; i++) await budget.take();
    expect(calls).toEqual(['take c1 1 0 false', `take c1 1 0 false +${spareGrants}`]);
    await budget.take();
    expect(calls).toHaveLength(3);
    // Spares count from a second after their grant: after 750 ms they are dropped and the database asked again.
    clock += 750;
    await budget.take();
    expect(calls).toHaveLength(4);
  });

  it('never spends spares on calls that cost tokens, several requests, or are taken until answered', async () => {
    const { db, calls } = scriptedDb([
      { granted: true, wait_ms: 0, grant_id: null, spare: 0 },
      { granted: true, wait_ms: 0, grant_id: null, spare: 4 },
      { granted: true, wait_ms: 0, grant_id: null },
      { granted: true, wait_ms: 0, grant_id: null },
      { granted: true, wait_ms: 0, grant_id: '7' },
    ]);
    const budget = createRateBudget(db, 'c1', () => Date.now() + 10_000, sleeps(calls));
    await budget.take();
    await budget.take();
    await budget.take(1, 5);
    await budget.take(2);
    await budget.takeForCall!();
    expect(calls).toEqual(['take c1 1 0 false', 'take c1 1 0 false +4', 'take c1 1 5 false', 'take c1 2 0 false', 'take c1 1 0 true']);
  });
});
