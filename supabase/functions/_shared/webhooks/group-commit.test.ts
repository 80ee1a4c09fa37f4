import { describe, expect, it } from 'vitest';
import { groupCommit } from './group-commit.ts';

/** A commit whose calls stay pending until released, recording each group. */
function controlledCommit() {
  const groups: number[][] = [];
  const pending: { items: number[]; resolve(): void; reject(error: Error): void }[] = [];
  const commit = (items: number[]) => {
    groups.push(items);
    return new Promise<string[]>((resolve, reject) => {
      pending.push({ items, resolve: () => resolve(items.map((n) => `stored ${n}`)), reject });
    });
  };
  return { commit, groups, pending };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('groupCommit', () => {
  it('writes a call at once when a writer is free, and answers it after the commit with its own result', async () => {
    const c = controlledCommit();
    const store = groupCommit(c.commit, { maxConcurrent: 2, maxBatch: 10 });
    let answered: string | undefined;
    const call = store(1).then((r) => (answered = r));
    await tick();
    expect(c.groups).toEqual([[1]]);
    expect(answered).toBeUndefined(); // not before the commit
    c.pending[0].resolve();
    await call;
    expect(answered).toBe('stored 1');
  });

  it('gathers the calls that arrive while every writer is busy into the next write, up to maxBatch', async () => {
    const c = controlledCommit();
    const store = groupCommit(c.commit, { maxConcurrent: 1, maxBatch: 3 });
    const first = store(1);
    await tick();
    const rest = [2, 3, 4, 5].map((n) => store(n));
    await tick();
    expect(c.groups).toEqual([[1]]);
    c.pending[0].resolve();
    await first;
    await tick();
    expect(c.groups).toEqual([[1], [2, 3, 4]]);
    c.pending[1].resolve();
    await tick();
    expect(c.groups).toEqual([[1], [2, 3, 4], [5]]);
    c.pending[2].resolve();
    expect(await Promise.all(rest)).toEqual(['stored 2', 'stored 3', 'stored 4', 'stored 5']);
  });

  it('fails every call of a failed write, and only those', async () => {
    const c = controlledCommit();
    const store = groupCommit(c.commit, { maxConcurrent: 1, maxBatch: 10 });
    const first = store(1);
    await tick();
    const second = [store(2), store(3)];
    c.pending[0].reject(new Error('connection lost'));
    await expect(first).rejects.toThrow('connection lost');
    await tick();
    c.pending[1].resolve();
    expect(await Promise.all(second)).toEqual(['stored 2', 'stored 3']);
  });

  it('fails the group when the commit answers for fewer items than it was given', async () => {
    const store = groupCommit(async (items: number[]) => items.slice(1), { maxConcurrent: 1, maxBatch: 10 });
    await expect(Promise.all([store(1), store(2)])).rejects.toThrow('a group of 2 got 1 results');
  });
});
