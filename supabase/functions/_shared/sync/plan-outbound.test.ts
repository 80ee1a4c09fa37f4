import { describe, expect, it } from 'vitest';
import { type OutboundState, planOutbound } from './plan-outbound.ts';

const row = (overrides: Partial<OutboundState>): OutboundState => ({
  local_id: 'L1',
  local: { id: 'L1', email: 'a@x.io', first_name: 'Ann', last_name: null, deleted_at: null, company_id: null, custom_fields: {} },
  local_updated_at: '2026-01-01T00:00:00+00:00',
  remote_id: null,
  remote_deleted: false,
  base: {},
  base_references: {},
  local_references: { company: null },
  ...overrides,
});

describe('planOutbound', () => {
  it('creates a record the CRM does not have, with its non-empty fields and known references', () => {
    const plan = planOutbound('contact', [row({ local_references: { company: '900' } })]);
    expect(plan.creates).toEqual([{ localId: 'L1', fields: { email: 'a@x.io', first_name: 'Ann', custom_fields: {} }, references: { company: '900' } }]);
    expect(plan.updates).toEqual([]);
  });

  it('updates only the fields that differ from the shadow', () => {
    const plan = planOutbound('contact', [row({ remote_id: '501', base: { email: 'a@x.io', first_name: 'Anne', custom_fields: {} } })]);
    expect(plan.updates).toEqual([expect.objectContaining({ remoteId: '501', fields: { first_name: 'Ann' }, references: {} })]);
  });

  it('does not send a field held for manual review; the other changes of the record still go', () => {
    const base = { email: 'old@x.io', first_name: 'Anne', custom_fields: {} };
    const plan = planOutbound('contact', [row({ remote_id: '501', base })], new Set(), new Map([['L1', ['first_name']]]));
    expect(plan.updates).toEqual([expect.objectContaining({ fields: { email: 'a@x.io' } })]);
    const onlyHeld = planOutbound('contact', [row({ remote_id: '501', base: { ...base, email: 'a@x.io' } })], new Set(),
      new Map([['L1', ['first_name']]]));
    expect(onlyHeld.updates).toEqual([]);
  });

  it('sends nothing when the record equals its shadow (a change that came from this CRM)', () => {
    const plan = planOutbound('contact', [row({ remote_id: '501', base: { email: 'a@x.io', first_name: 'Ann', custom_fields: {} } })]);
    expect(plan).toEqual({ creates: [], updates: [], archives: [], waits: [] });
  });

  it('sends a changed or removed reference', () => {
    const changed = planOutbound('contact', [row({
      remote_id: '501', base: { email: 'a@x.io', first_name: 'Ann', custom_fields: {} }, base_references: { company: '900' },
      local_references: { company: '901' },
    })]);
    expect(changed.updates[0].references).toEqual({ company: '901' });
    const removed = planOutbound('contact', [row({
      remote_id: '501', base: { email: 'a@x.io', first_name: 'Ann', custom_fields: {} }, base_references: { company: '900' },
    })]);
    expect(removed.updates[0].references).toEqual({ company: null });
  });

  it('archives a soft- or hard-deleted record the CRM has, and ignores one it never had or already deleted', () => {
    const plan = planOutbound('contact', [
      row({ local_id: 'L1', remote_id: '501', local: { id: 'L1', deleted_at: '2026-01-02T00:00:00Z' } }),
      row({ local_id: 'L2', remote_id: '502', local: null }),
      row({ local_id: 'L3', remote_id: null, local: null }),
      row({ local_id: 'L4', remote_id: '504', remote_deleted: true, local: null }),
    ]);
    expect(plan.archives).toEqual([{ localId: 'L1', remoteId: '501' }, { localId: 'L2', remoteId: '502' }]);
    expect(plan.creates).toEqual([]);
  });

  it('creates anew a live record the CRM deleted (restored here by a later edit elsewhere)', () => {
    const plan = planOutbound('contact', [row({
      remote_id: '501', remote_deleted: true, base: { email: 'a@x.io', first_name: 'Ann', custom_fields: {} },
    })]);
    expect(plan.creates).toEqual([{ localId: 'L1', fields: { email: 'a@x.io', first_name: 'Ann', custom_fields: {} }, references: {} }]);
    expect(plan.updates).toEqual([]);
  });

  it('makes a record wait for a referenced record that is not in the CRM yet', () => {
    const plan = planOutbound('contact', [row({ local: { id: 'L1', email: 'a@x.io', company_id: 'C9', deleted_at: null }, local_references: { company: '' } })]);
    expect(plan.waits).toEqual([{ localId: 'L1', dependencies: [{ entityType: 'company', localId: 'C9' }] }]);
    expect(plan.creates).toEqual([]);
  });

  it('sends a record without the missing reference once it has waited long enough', () => {
    const plan = planOutbound('contact', [row({ local: { id: 'L1', email: 'a@x.io', company_id: 'C9', deleted_at: null }, local_references: { company: '' } })],
      new Set(['L1']));
    expect(plan.waits).toEqual([]);
    expect(plan.creates).toEqual([{ localId: 'L1', fields: { email: 'a@x.io' }, references: {} }]);
  });
});
