import { describe, expect, it } from 'vitest';
import type { RemoteRecord } from '../model/unified.ts';
import { type InboundState, resolveInbound } from './resolve-inbound.ts';

const remote = (fields: Record<string, unknown>, extra: Partial<RemoteRecord> = {}): RemoteRecord => ({
  entityType: 'contact',
  remoteId: '501',
  remoteUpdatedAt: '2026-03-01T12:00:00.000Z',
  archived: false,
  fields,
  references: {},
  unmapped: [],
  ...extra,
});

const state = (local: Record<string, unknown> | null, base: Record<string, unknown>, extra: Partial<InboundState> = {}): InboundState => ({
  localId: local ? 'L1' : null,
  base,
  local,
  localUpdatedAt: local ? '2026-03-01T11:00:00+00:00' : null,
  localDeleted: false,
  matched: false,
  ...extra,
});

describe('resolveInbound', () => {
  it('creates a record that has no local counterpart, with the remote fields as shadow', () => {
    const { change } = resolveInbound(remote({ email: 'a@x.io', first_name: 'A' }, { references: { company: '9' } }), state(null, {}));
    expect(change).toEqual({
      remote_id: '501', remote_updated_at: '2026-03-01T12:00:00.000Z',
      set: { email: 'a@x.io', first_name: 'A' }, base: { email: 'a@x.io', first_name: 'A' }, references: { company: '9' },
    });
  });

  it('takes a field changed only remotely and keeps a field changed only locally', () => {
    const { change, conflicts } = resolveInbound(
      remote({ first_name: 'Remote', phone: '1' }),
      state({ first_name: 'Old', phone: '2' }, { first_name: 'Old', phone: '1' }),
    );
    expect(change.set).toEqual({ first_name: 'Remote' });
    expect(conflicts).toEqual([]);
    expect(change.base).toEqual({ first_name: 'Remote', phone: '1' });
  });

  it('changes nothing when the remote equals the shadow (the echo of our own write)', () => {
    const { change } = resolveInbound(remote({ first_name: 'Same' }), state({ first_name: 'Local edit' }, { first_name: 'Same' }));
    expect(change.set).toEqual({});
  });

  it.each([
    ['remote newer', '2026-03-01T12:00:00.000Z', 'remote', { first_name: 'R' }],
    ['local newer', '2026-03-01T10:00:00.000Z', 'local', {}],
    ['a tie goes to the database', '2026-03-01T11:00:00.000Z', 'local', {}],
  ])('settles a true conflict by timestamp: %s', (_name, remoteUpdatedAt, winner, set) => {
    const { change, conflicts } = resolveInbound(
      remote({ first_name: 'R' }, { remoteUpdatedAt }),
      state({ first_name: 'L' }, { first_name: 'B' }),
    );
    expect(conflicts).toEqual([{ field: 'first_name', base: 'B', local: 'L', remote: 'R', winner, strategy: 'timestamp' }]);
    expect(change.set).toEqual(set);
  });

  it('is not a conflict when both sides made the same change', () => {
    const { change, conflicts } = resolveInbound(remote({ first_name: 'X' }), state({ first_name: 'X' }, { first_name: 'B' }));
    expect(conflicts).toEqual([]);
    expect(change.set).toEqual({});
  });

  it('compares values across JSON spellings (numbers as strings, ISO times, key order)', () => {
    const { change } = resolveInbound(
      remote({ amount: 10, close_date: '2026-01-01', occurred_at: '2026-01-01T10:00:00.000Z', custom_fields: { a: 1, b: 2 } }),
      state({ amount: '10.00', close_date: '2026-01-01', occurred_at: '2026-01-01T10:00:00+00:00', custom_fields: { b: 2, a: 1 } },
        { amount: 5 }),
    );
    expect(change.set).toEqual({});
  });

  it('treats every difference of a record attached by email as changed on both sides', () => {
    const { change, conflicts } = resolveInbound(
      remote({ first_name: 'Remote' }),
      state({ first_name: 'Local' }, {}, { matched: true }),
    );
    expect(conflicts).toHaveLength(1);
    expect(change.set).toEqual({ first_name: 'Remote' });
  });

  it('turns an archived remote record into a guarded deletion', () => {
    const { change } = resolveInbound(remote({}, { archived: true }), state({ first_name: 'L' }, {}));
    expect(change).toEqual({
      remote_id: '501', remote_updated_at: '2026-03-01T12:00:00.000Z', local_id: 'L1',
      expected_local_updated_at: '2026-03-01T11:00:00+00:00', deleted: true,
    });
  });

  it('restores a locally deleted record when the remote one changed later', () => {
    expect(resolveInbound(remote({ first_name: 'B' }), state({ first_name: 'B' }, { first_name: 'B' }, { localDeleted: true })).change.restore).toBe(true);
    expect(resolveInbound(remote({ first_name: 'B' }, { remoteUpdatedAt: '2026-01-01T00:00:00Z' }),
      state({ first_name: 'B' }, { first_name: 'B' }, { localDeleted: true })).change.restore).toBe(false);
  });
});
