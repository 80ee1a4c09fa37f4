import { describe, expect, it } from 'vitest';
import type { RemoteRecord } from '../model/unified.ts';
import { ConflictPolicy } from './conflict-policy.ts';
import { type InboundState, type ResolveContext, resolveInbound as resolve } from './resolve-inbound.ts';

const CONNECTION = 'c0c0c0c0-0000-4000-8000-000000000001';
const context = (rows: unknown[] = []): ResolveContext => ({
  entityType: 'contact', policy: new ConflictPolicy(rows), provider: 'hubspot', connectionId: CONNECTION,
});
const resolveInbound = (r: RemoteRecord, s: InboundState, c = context()) => resolve(r, s, c);

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

  it('takes a value the engine is writing (read back before its result is recorded) for no CRM edit', () => {
    // The engine wrote 'Sent' (planned from the local value then); the local row moved on to 'Newer'; a CRM edit of
    // another field (later than the local change) brings the record in while the shadow still has 'Old'.
    const crm = remote({ first_name: 'Sent', phone: '2' });
    const inFlight = state({ first_name: 'Newer', phone: '1' }, { first_name: 'Old', phone: '1' }, { pendingWrite: { first_name: ['Sent'] } });
    const { change, conflicts } = resolveInbound(crm, inFlight);
    expect(change.set).toEqual({ phone: '2' });
    expect(conflicts).toEqual([]);
    // Without the note the engine's own value looks like a CRM edit, and the later CRM change wins it.
    const unnoted = resolveInbound(crm, { ...inFlight, pendingWrite: {} });
    expect(unnoted.change.set).toEqual({ first_name: 'Sent', phone: '2' });
  });

  it('takes the echo of the older of two writes in flight for no CRM edit either', () => {
    // Two worker runs write the record at once, 'Sent' then 'Later'; the CRM is read back while it holds the first.
    const crm = remote({ first_name: 'Sent', phone: '1' });
    const twoInFlight = state({ first_name: 'Later', phone: '1' }, { first_name: 'Old', phone: '1' },
      { pendingWrite: { first_name: ['Sent', 'Later'] } });
    const { change, conflicts } = resolveInbound(crm, twoInFlight);
    expect(change.set ?? {}).toEqual({});
    expect(conflicts).toEqual([]);
    // Noted as the later write alone (the note before), the older write's value read back won over the newer local one.
    expect(resolveInbound(crm, { ...twoInFlight, pendingWrite: { first_name: ['Later'] } }).change.set).toEqual({ first_name: 'Sent' });
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
    expect(conflicts).toEqual([expect.objectContaining({ field: 'first_name', base: 'B', local: 'L', remote: 'R', winner, strategy: 'timestamp', scope: 'default' })]);
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

  it('reads a field missing from a mapped record\'s shadow as empty then (created without it), not as a conflict', () => {
    const { change, conflicts } = resolveInbound(
      remote({ first_name: 'A', lifecycle_stage: 'lead' }),
      state({ first_name: 'A', lifecycle_stage: null }, { first_name: 'A' }),
      context([{ strategy: 'manual_review' }]),
    );
    expect(conflicts).toEqual([]);
    expect(change.set).toEqual({ lifecycle_stage: 'lead' });
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
    expect(resolveInbound(remote({ first_name: 'C' }), state({ first_name: 'B' }, { first_name: 'B' }, { localDeleted: true })).change.restore).toBe(true);
    expect(resolveInbound(remote({ first_name: 'C' }, { remoteUpdatedAt: '2026-01-01T00:00:00Z' }),
      state({ first_name: 'B' }, { first_name: 'B' }, { localDeleted: true })).change.restore).toBe(false);
  });

  it('keeps a locally deleted record deleted when the CRM change the shadow lacks was made before the deletion', () => {
    const deleted = state({ first_name: 'B' }, { first_name: 'B' }, { localDeleted: true });
    // Read after the deletion (Pipedrive dates a read at the read), but last modified before it: a late webhook's change.
    expect(resolveInbound(remote({ first_name: 'C' }, { modifiedAt: '2026-03-01T10:59:59.000Z' }), deleted).change.restore).toBe(false);
    expect(resolveInbound(remote({ first_name: 'C' }, { modifiedAt: '2026-03-01T11:00:01.000Z' }), deleted).change.restore).toBe(true);
  });

  it("keeps a locally deleted record deleted when the CRM record was last modified by the engine's own write", () => {
    // A user's change made before the write (its webhook late) is in the record too; the write does not date it.
    const written = state({ first_name: 'B' }, { first_name: 'B' }, { localDeleted: true, remoteWrittenAt: '2026-03-01T12:00:00Z' });
    expect(resolveInbound(remote({ first_name: 'C' }), written).change.restore).toBe(false);
    expect(resolveInbound(remote({ first_name: 'C' }, { remoteUpdatedAt: '2026-03-01T12:00:00.001Z' }), written).change.restore).toBe(true);
  });

  it('keeps a locally deleted record deleted when the CRM change the shadow lacks is what the local record holds', () => {
    // The engine's own write of the local edit, read before its result was recorded.
    const unrecorded = state({ first_name: 'B' }, { first_name: 'A' }, { localDeleted: true });
    expect(resolveInbound(remote({ first_name: 'B' }), unrecorded).change.restore).toBe(false);
  });

  it('keeps a locally deleted record deleted when a later-dated remote record holds nothing new (a change seen again)', () => {
    expect(resolveInbound(remote({ first_name: 'B' }), state({ first_name: 'B' }, { first_name: 'B' }, { localDeleted: true })).change.restore).toBe(false);
  });

  it('restores a record the CRM deleted and has live again (restored there), although nothing in it changed', () => {
    const deletedThere = state({ first_name: 'B' }, { first_name: 'B' }, { localDeleted: true, remoteDeleted: true });
    expect(resolveInbound(remote({ first_name: 'B' }), deletedThere).change.restore).toBe(true);
    // Restored quickly: the restore's time may precede the moment the deletion was applied here.
    expect(resolveInbound(remote({ first_name: 'B' }, { remoteUpdatedAt: '2026-03-01T10:00:00Z' }), deletedThere).change.restore).toBe(true);
  });

  it('keeps fields changed on different sides under every strategy (never a conflict)', () => {
    for (const strategy of [{ strategy: 'manual_review' }, { strategy: 'source_priority', source_priority: ['hubspot'] },
      { strategy: 'field_merge', merge_rule: 'local_if_present' }]) {
      const { change, conflicts } = resolveInbound(
        remote({ first_name: 'Remote', phone: '1' }),
        state({ first_name: 'Old', phone: '2' }, { first_name: 'Old', phone: '1' }),
        context([strategy]),
      );
      expect(change.set).toEqual({ first_name: 'Remote' });
      expect(conflicts).toEqual([]);
    }
  });

  it('applies the most specific rule: field over entity type over tenant default', () => {
    const rows = [
      { strategy: 'source_priority', source_priority: ['supabase'] },
      { entity_type: 'contact', strategy: 'source_priority', source_priority: ['hubspot'] },
      { entity_type: 'contact', field: 'phone', strategy: 'manual_review' },
    ];
    const { change, conflicts } = resolveInbound(
      remote({ first_name: 'R', phone: 'R' }, { remoteUpdatedAt: '2026-01-01T00:00:00Z' }),
      state({ first_name: 'L', phone: 'L' }, { first_name: 'B', phone: 'B' }),
      context(rows),
    );
    expect(change.set).toEqual({ first_name: 'R' });
    expect(conflicts.map((c) => [c.field, c.strategy, c.scope, c.winner])).toEqual([
      ['first_name', 'source_priority', 'entity', 'remote'],
      ['phone', 'manual_review', 'field', 'pending'],
    ]);
  });

  it('under manual review keeps the local value and refreshes the open conflict only when the CRM changes the field again', () => {
    const review = context([{ strategy: 'manual_review' }]);
    const first = resolveInbound(remote({ first_name: 'R' }), state({ first_name: 'L' }, { first_name: 'B' }), review);
    expect(first.change.set).toEqual({});
    expect(first.change.base).toEqual({ first_name: 'R' });
    expect(first.conflicts).toEqual([expect.objectContaining({ winner: 'pending', value: 'L', base: 'B', local: 'L', remote: 'R' })]);

    const held = { held: ['first_name'] };
    const echo = resolveInbound(remote({ first_name: 'R' }), state({ first_name: 'L' }, { first_name: 'R' }, held), review);
    expect(echo.conflicts).toEqual([]);
    expect(echo.change.set).toEqual({});
    const again = resolveInbound(remote({ first_name: 'R2' }), state({ first_name: 'L' }, { first_name: 'R' }, held), review);
    expect(again.change.set).toEqual({});
    expect(again.conflicts).toEqual([expect.objectContaining({ winner: 'pending', remote: 'R2', scope: 'review' })]);
  });

  it('writes a merged value locally (the shadow stays the CRM value, so outbound sends the merge back)', () => {
    const { change, conflicts } = resolveInbound(
      remote({ lead_source: 'web; fair' }),
      state({ lead_source: 'web; call' }, { lead_source: 'web' }),
      context([{ entity_type: 'contact', field: 'lead_source', strategy: 'field_merge', merge_rule: 'append' }]),
    );
    expect(change.set).toEqual({ lead_source: 'web; call; fair' });
    expect(change.base).toEqual({ lead_source: 'web; fair' });
    expect(conflicts[0]).toMatchObject({ winner: 'merged', value: 'web; call; fair', strategy: 'field_merge' });
  });
});
