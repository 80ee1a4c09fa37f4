import { describe, expect, it } from 'vitest';
import type { RemoteRecord } from '../model/unified.ts';
import { ConflictPolicy } from '../sync/conflict-policy.ts';
import { type InboundDecision, type InboundState, resolveInbound as resolve } from '../sync/resolve-inbound.ts';
import { agrees, compareRecord as compareWith, fieldsChecksum } from './reconcile.ts';

/** The resolver with the default rules, as for a tenant without conflict rules. */
const resolveInbound = (r: RemoteRecord, s: InboundState) =>
  resolve(r, s, { entityType: 'contact', policy: new ConflictPolicy([]), provider: 'hubspot', connectionId: 'c0c0c0c0-0000-4000-8000-000000000001' });
/** Compared as the job does: with the resolver's decision for the record. */
const compareRecord = (r: RemoteRecord, s: InboundState) => compareWith(r, s, () => resolveInbound(r, s));

const remote = (fields: Record<string, unknown>, extra: Partial<RemoteRecord> = {}): RemoteRecord => ({
  entityType: 'contact', remoteId: '501', remoteUpdatedAt: '2026-03-01T12:00:00.000Z', archived: false, fields, references: {},
  unmapped: [], ...extra,
});

const state = (local: Record<string, unknown> | null, base: Record<string, unknown>, extra: Partial<InboundState> = {}): InboundState => ({
  localId: local ? 'L1' : null, base, local, localUpdatedAt: local ? '2026-03-01T11:00:00+00:00' : null, localDeleted: false,
  matched: false, ...extra,
});

describe('fieldsChecksum', () => {
  it('is equal for the same values in the spellings the two sides use', () => {
    expect(fieldsChecksum({ amount: 12, at: '2026-03-01T12:00:00Z', x: null }, ['amount', 'at', 'x']))
      .toBe(fieldsChecksum({ amount: '12', at: '2026-03-01T12:00:00.000+00:00', x: '' }, ['amount', 'at', 'x']));
  });

  it('differs when one field differs, and covers only the named fields', () => {
    expect(fieldsChecksum({ a: '1', b: '2' }, ['a', 'b'])).not.toBe(fieldsChecksum({ a: '1', b: '3' }, ['a', 'b']));
    expect(fieldsChecksum({ a: '1', b: '2' }, ['a'])).toBe(fieldsChecksum({ a: '1', b: '3' }, ['a']));
  });
});

describe('compareRecord', () => {
  it('finds a reference that points elsewhere on each side (as remote ids), even when every field agrees', () => {
    const r = remote({ email: 'a@x.io' }, { references: { company: '77' } });
    const s = state({ email: 'a@x.io', company_id: 'C1' }, { email: 'a@x.io' });
    expect(compareWith(r, s, () => resolveInbound(r, s), { company: '77' })).toEqual([]);
    expect(compareWith(r, s, () => resolveInbound(r, s), { company: '76' })).toEqual([{
      entity_type: 'contact', remote_id: '501', local_id: 'L1', field: 'company_id', kind: 'field', local_value: '76', remote_value: '77',
      base_value: null, winner: 'remote', resolution: 'applied_locally', detail: 'reference, as remote ids',
    }]);
    // Unset (or unmapped) locally, set in the CRM; and a reference the listing does not carry is not compared.
    expect(compareWith(r, s, () => resolveInbound(r, s), { company: null })).toHaveLength(1);
    const bare = remote({ email: 'a@x.io' });
    expect(compareWith(bare, s, () => resolveInbound(bare, s), { company: '76' })).toEqual([]);
  });

  it('finds nothing when both sides agree', () => {
    expect(compareRecord(remote({ email: 'a@x.io', phone: '1' }), state({ email: 'a@x.io', phone: '1', last_name: 'Z' }, {}))).toEqual([]);
  });

  it('lets the CRM win a field only it changed, and the database a field only it changed', () => {
    const drift = compareRecord(
      remote({ first_name: 'Remote', phone: '1' }),
      state({ first_name: 'Old', phone: '2' }, { first_name: 'Old', phone: '1' }),
    );
    expect(drift).toEqual([
      { entity_type: 'contact', remote_id: '501', local_id: 'L1', field: 'first_name', kind: 'field', local_value: 'Old',
        remote_value: 'Remote', base_value: 'Old', winner: 'remote', resolution: 'applied_locally' },
      { entity_type: 'contact', remote_id: '501', local_id: 'L1', field: 'phone', kind: 'field', local_value: '2',
        remote_value: '1', base_value: '1', winner: 'local', resolution: 'queued_outbound' },
    ]);
  });

  it('settles a field changed on both sides by the timestamp strategy', () => {
    const newerRemote = compareRecord(remote({ phone: 'R' }), state({ phone: 'L' }, { phone: 'B' }));
    expect(newerRemote.map((d) => [d.winner, d.resolution])).toEqual([['remote', 'applied_locally']]);
    const newerLocal = compareRecord(remote({ phone: 'R' }, { remoteUpdatedAt: '2026-03-01T10:00:00Z' }), state({ phone: 'L' }, { phone: 'B' }));
    expect(newerLocal.map((d) => [d.winner, d.resolution])).toEqual([['local', 'queued_outbound']]);
  });

  it('alerts a field the resolver holds for review instead of settling it', () => {
    const r = remote({ phone: 'R' });
    const s = state({ phone: 'L' }, { phone: 'B' });
    const decided = resolveInbound(r, s);
    const held = { ...decided, change: { ...decided.change, set: {} },
      conflicts: [{ ...decided.conflicts[0], winner: 'pending' }] } as unknown as InboundDecision;
    expect(compareWith(r, s, () => held).map((d) => [d.field, d.winner, d.resolution, d.detail])).toEqual([
      ['phone', null, 'alerted', 'held for manual review'],
    ]);
  });

  it('reports a CRM record missing locally, to be applied', () => {
    expect(compareRecord(remote({ email: 'n@x.io' }), state(null, {}))).toEqual([
      { entity_type: 'contact', remote_id: '501', local_id: null, field: '*', kind: 'missing_local', local_value: null,
        remote_value: { email: 'n@x.io' }, base_value: null, winner: 'remote', resolution: 'applied_locally' },
    ]);
  });

  it('reports a record deleted locally but live in the CRM: the later side wins', () => {
    const older = compareRecord(remote({ phone: '1' }, { remoteUpdatedAt: '2026-03-01T10:00:00Z' }),
      state({ phone: '1' }, { phone: '1' }, { localDeleted: true }));
    expect(older.map((d) => [d.kind, d.winner, d.resolution])).toEqual([['missing_local', 'local', 'queued_outbound']]);
    const newer = compareRecord(remote({ phone: '2' }), state({ phone: '1' }, { phone: '1' }, { localDeleted: true }));
    expect(newer.map((d) => [d.kind, d.winner, d.resolution])).toEqual([['missing_local', 'remote', 'applied_locally']]);
    // Later-dated but holding nothing the shadow lacks: no edit there, the deletion stands.
    const unchanged = compareRecord(remote({ phone: '1' }), state({ phone: '1' }, { phone: '1' }, { localDeleted: true }));
    expect(unchanged.map((d) => [d.kind, d.winner, d.resolution])).toEqual([['missing_local', 'local', 'queued_outbound']]);
  });

  it('reports a record gone from the CRM but live locally, to be deleted here', () => {
    expect(compareRecord(remote({}, { archived: true }), state({ phone: '1' }, {}))).toEqual([
      { entity_type: 'contact', remote_id: '501', local_id: 'L1', field: '*', kind: 'missing_remote', local_value: null, remote_value: null,
        base_value: null, winner: 'remote', resolution: 'applied_locally', detail: 'gone from the CRM, live locally' },
    ]);
    expect(compareRecord(remote({}, { archived: true }), state({ phone: '1' }, {}, { localDeleted: true }))).toEqual([]);
    expect(compareRecord(remote({}, { archived: true }), state(null, {}))).toEqual([]);
    // Its deletion known already: the record was restored here since, and goes to the CRM anew.
    expect(compareRecord(remote({}, { archived: true }), state({ phone: '1' }, {}, { remoteDeleted: true }))).toEqual([
      { entity_type: 'contact', remote_id: '501', local_id: 'L1', field: '*', kind: 'missing_remote', local_value: null, remote_value: null,
        base_value: null, winner: 'local', resolution: 'queued_outbound', detail: 'deleted in the CRM, restored locally since: created there anew' },
    ]);
  });
});

describe('compareRecord: the resolver', () => {
  it('is asked only when the two sides differ', () => {
    let asked = 0;
    const r = remote({ phone: 'R' });
    const decide = (s: InboundState) => () => (asked++, resolveInbound(r, s));
    expect(compareWith(r, state({ phone: 'R' }, { phone: 'R' }), decide(state({ phone: 'R' }, { phone: 'R' })))).toEqual([]);
    expect(asked).toBe(0);
    const differs = state({ phone: 'L' }, { phone: 'R' });
    expect(compareWith(r, differs, decide(differs))).toHaveLength(1);
    expect(asked).toBe(1);
  });
});

describe('agrees: the check every listed record gets', () => {
  const cases: [string, RemoteRecord, InboundState, Record<string, string | null>?][] = [
    ['both sides equal', remote({ email: 'a@x.io', phone: '1' }), state({ email: 'a@x.io', phone: '1', last_name: 'Z' }, {})],
    ['equal in other spellings', remote({ phone: '12', first_name: '' }), state({ phone: 12, first_name: null }, {})],
    ['a field differs', remote({ phone: 'R' }), state({ phone: 'L' }, { phone: 'B' })],
    ['missing locally', remote({ email: 'n@x.io' }), state(null, {})],
    ['deleted locally, live in the CRM', remote({ phone: '1' }), state({ phone: '1' }, { phone: '1' }, { localDeleted: true })],
    ['gone from the CRM, live locally', remote({}, { archived: true }), state({ phone: '1' }, {})],
    ['gone from both', remote({}, { archived: true }), state({ phone: '1' }, {}, { localDeleted: true })],
    ['gone from the CRM, never here', remote({}, { archived: true }), state(null, {})],
    ['gone from the CRM, restored here', remote({}, { archived: true }), state({ phone: '1' }, {}, { remoteDeleted: true })],
    ['references agree', remote({ email: 'a@x.io' }, { references: { company: '77' } }), state({ email: 'a@x.io' }, {}), { company: '77' }],
    ['a reference differs', remote({ email: 'a@x.io' }, { references: { company: '77' } }), state({ email: 'a@x.io' }, {}), { company: null }],
  ];

  it.each(cases)('agrees exactly when the full comparison finds no drift: %s', (_name, r, s, refs) => {
    const found = compareWith(r, s, () => resolveInbound(r, s), refs);
    expect(agrees(r, { localId: s.localId, local: s.local, localDeleted: s.localDeleted }, refs)).toBe(found.length === 0);
  });

  it('needs only the local side\'s synced columns, not the shadow', () => {
    const side = { localId: 'L1', local: { email: 'a@x.io', phone: '1' }, localDeleted: false };
    expect(agrees(remote({ email: 'a@x.io', phone: '1' }), side)).toBe(true);
    expect(agrees(remote({ email: 'a@x.io', phone: '2' }), side)).toBe(false);
  });
});
