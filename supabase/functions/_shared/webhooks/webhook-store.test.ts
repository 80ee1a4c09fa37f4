import { describe, expect, it } from 'vitest';
import { countOutcomes } from './webhook-store.ts';

describe('countOutcomes', () => {
  it('gives each call of a group the counts of its own events, in order', () => {
    const items = [
      { connectionId: 'a', events: [{}] },
      { connectionId: 'b', events: [{}, {}, {}] },
      { connectionId: 'a', events: [{}] },
    ];
    expect(countOutcomes(items, ['accepted', 'duplicate', 'accepted', 'accepted', 'duplicate'])).toEqual([
      { accepted: 1, duplicates: 0 },
      { accepted: 2, duplicates: 1 },
      { accepted: 0, duplicates: 1 },
    ]);
  });

  it('fails only the calls of a connection that is gone', () => {
    const [gone, kept] = countOutcomes(
      [{ connectionId: 'gone', events: [{}] }, { connectionId: 'b', events: [{}] }],
      ['unknown_connection', 'accepted'],
    );
    expect(gone).toBeInstanceOf(Error);
    expect((gone as Error).message).toBe('connection gone does not exist');
    expect(kept).toEqual({ accepted: 1, duplicates: 0 });
  });
});
