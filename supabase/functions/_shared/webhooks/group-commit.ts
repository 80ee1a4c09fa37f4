// Group commit: calls that arrive while earlier ones are being written are
// gathered and written together, by one call of `commit` (one transaction),
// and each caller is answered with its own result once that call resolved,
// that is after the commit. Nothing waits for a timer: with a writer free,
// a call is written at once (alone, or with those that arrived in the same
// turn of the event loop); only while `maxConcurrent` writes are under way
// do calls queue, and then the next write takes up to `maxBatch` of them.
// A failed write fails every call in it (the sender retries; receipts
// deduplicate whatever did commit).

export interface GroupCommitOptions {
  /** Writes under way at once (database connections this path may use). */
  maxConcurrent: number;
  /** Calls one write may take. */
  maxBatch: number;
}

interface Waiting<I, R> {
  item: I;
  resolve(result: R): void;
  reject(error: unknown): void;
}

/** Returns a function with one item's contract, writing items in groups through `commit` (one result per item, in order). */
export function groupCommit<I, R>(commit: (items: I[]) => Promise<R[]>, options: GroupCommitOptions): (item: I) => Promise<R> {
  const queue: Waiting<I, R>[] = [];
  let running = 0;
  let scheduled = false;

  const write = async (batch: Waiting<I, R>[]) => {
    try {
      const results = await commit(batch.map((w) => w.item));
      if (results.length !== batch.length) throw new Error(`a group of ${batch.length} got ${results.length} results`);
      batch.forEach((w, i) => w.resolve(results[i]));
    } catch (error) {
      for (const w of batch) w.reject(error);
    } finally {
      running--;
      pump();
    }
  };

  function pump() {
    scheduled = false;
    while (running < options.maxConcurrent && queue.length > 0) {
      running++;
      write(queue.splice(0, options.maxBatch));
    }
  }

  return (item) =>
    new Promise<R>((resolve, reject) => {
      queue.push({ item, resolve, reject });
      if (!scheduled && running < options.maxConcurrent) {
        scheduled = true;
        queueMicrotask(pump);
      }
    });
}
