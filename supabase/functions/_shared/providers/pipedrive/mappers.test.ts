import { describe, expect, it } from 'vitest';
import { buildValueMaps } from '../hubspot/value-maps.ts';
import { buildPipedriveFieldMap, resolveFieldMap } from './field-map.ts';
import { dueToIso, fromUnified, parseRemoteId, toUnified } from './mappers.ts';
import { optionValueMaps, ownerValueMaps, stageValueMaps } from './value-maps.ts';

const key = (c: string) => c.repeat(40);
const personFields = [
  { key: 'name', name: 'Name', field_type: 'varchar' },
  { key: key('a'), name: 'Stage', field_type: 'enum', options: [{ id: 31, label: 'Lead' }, { id: 32, label: 'Customer' }, { id: 33, label: 'Marketing qualified' }] },
  { key: key('b'), name: 'source', field_type: 'varchar' },
];
const organizationFields = [
  { key: key('c'), name: 'domain', field_type: 'varchar' },
  { key: key('d'), name: 'industry', field_type: 'enum', options: [{ id: 41, label: 'Software' }, { id: 42, label: 'Financial services' }] },
  { key: key('e'), name: 'revenue', field_type: 'monetary' },
];
const { rows, missing } = resolveFieldMap({ person: personFields, organization: organizationFields });
const fieldMap = buildPipedriveFieldMap(rows);
const maps = buildValueMaps([
  ...stageValueMaps([{ id: 1, name: 'Qualified', pipeline_id: 1 }, { id: 4, name: 'Proposal Made', pipeline_id: 1 }, { id: 6, name: 'Qualified', pipeline_id: 2 }]),
  ...ownerValueMaps([{ id: 9, email: 'Owner@Acme.example' }, { id: 10, email: 'nobody@x.example' }], [{ id: '00000000-0000-4000-8000-0000000000f1', email: 'owner@acme.example' }]),
  ...optionValueMaps('lifecycle_stage', personFields[1]),
  ...optionValueMaps('industry', organizationFields[1]),
]);

describe('field map', () => {
  it('finds the custom fields by name whatever their key, case aside', () => {
    expect(missing).toEqual([]);
    expect(fieldMap.readKey('contact', 'lifecycle_stage')).toBe(key('a'));
    expect(fieldMap.writeKey('company', 'annual_revenue')).toBe(key('e'));
    expect(rows.every((r) => /^cf_[0-9a-f]{40}$/.test(r.remote_property))).toBe(true);
  });

  it('reports the fields an account lacks, to be created', () => {
    expect(resolveFieldMap({ person: personFields, organization: [] }).missing.map((s) => s.name)).toEqual(['domain', 'industry', 'revenue']);
  });

  it('refuses a row that is no custom field key', () => {
    expect(() => buildPipedriveFieldMap([{ entity_type: 'contact', local_field: 'lead_source', remote_property: 'source' }])).toThrow(/custom field/);
  });
});

describe('value maps', () => {
  it('names stages after themselves; a name two pipelines share gets the later pipeline\'s prefix', () => {
    expect(maps.toLocal('deal_stage', '4', '1')).toBe('proposal_made');
    expect(maps.toLocal('deal_stage', '6', '2')).toBe('pipeline_2_qualified');
    expect(maps.toRemote('deal_stage', 'qualified')).toEqual({ remoteValue: '1', remoteContext: '1' });
  });

  it('matches owners by email and enum options by label', () => {
    expect(maps.toLocal('owner', '9')).toBe('00000000-0000-4000-8000-0000000000f1');
    expect(maps.toLocal('owner', '10')).toBeUndefined();
    expect(maps.toLocal('lifecycle_stage', '33')).toBe('marketing_qualified_lead');
    expect(maps.toLocal('industry', '42')).toBe('Financial Services');
  });
});

describe('toUnified', () => {
  it('reads a person: primary email and phone, names, custom stage and source, the organization', () => {
    const record = toUnified('contact', 'person', {
      id: 12, name: 'Ann Lee', first_name: 'Ann', last_name: 'Lee', org_id: 4, owner_id: 9,
      emails: [{ value: 'other@x.example', primary: false }, { value: 'Ann@X.example', primary: true }],
      phones: [{ value: '+1 555', primary: true }], update_time: '2026-11-25T10:00:00Z', is_deleted: false,
      custom_fields: { [key('a')]: 32, [key('b')]: 'fair' },
    }, maps, fieldMap);
    expect(record).toMatchObject({
      remoteId: '12', archived: false, remoteUpdatedAt: '2026-11-25T10:00:00.000Z',
      fields: { email: 'ann@x.example', first_name: 'Ann', last_name: 'Lee', phone: '+1 555', lifecycle_stage: 'customer', lead_source: 'fair' },
      references: { company: '4' }, unmapped: [],
    });
  });

  it('keeps an unmapped stage raw and reports it; an unmapped owner becomes null; a deleted deal is archived', () => {
    const deal = toUnified('deal', 'deal', {
      id: 3, title: 'Big', value: 10, currency: 'EUR', stage_id: 99, pipeline_id: 1, status: 'open', owner_id: 10,
      person_id: null, org_id: 4, expected_close_date: '2026-12-01', probability: null, update_time: '2026-11-25T10:00:00Z',
    }, maps, fieldMap);
    expect(deal.fields).toMatchObject({ name: 'Big', amount: 10, currency: 'EUR', stage: '99', status: 'open', owner_id: null, close_date: '2026-12-01' });
    expect(deal.unmapped).toEqual([{ kind: 'deal_stage', remoteValue: '99' }, { kind: 'owner', remoteValue: '10' }]);
    expect(deal.references).toEqual({ company: '4', contact: null });
    const deleted = toUnified('deal', 'deal', { id: 3, status: 'deleted', update_time: '2026-11-25T10:00:00Z' }, maps, fieldMap);
    expect(deleted.archived).toBe(true);
  });

  it('reads an organization\'s domain, industry option and monetary revenue', () => {
    const record = toUnified('company', 'organization', {
      id: 4, name: 'Acme', update_time: '2026-11-25T10:00:00Z',
      custom_fields: { [key('c')]: ' Acme.Example ', [key('d')]: 41, [key('e')]: { value: 1500, currency: 'USD' } },
    }, maps, fieldMap);
    expect(record.fields).toEqual({ name: 'Acme', domain: 'acme.example', industry: 'Software', annual_revenue: 1500 });
  });

  it('reads an activity\'s due date and time (UTC) as when it happened, and a v1 note with its v1 times', () => {
    const call = toUnified('activity', 'activity', {
      id: 5, subject: 'Call', type: 'call', note: 'hi', due_date: '2026-11-20', due_time: '09:30:00', person_id: 12, deal_id: 3, org_id: null,
      update_time: '2026-11-25T10:00:00Z',
    }, maps, fieldMap);
    expect(call.fields).toMatchObject({ type: 'call', subject: 'Call', body: 'hi', occurred_at: '2026-11-20T09:30:00.000Z' });
    expect(call.references).toEqual({ contact: '12', deal: '3', company: null });
    const note = toUnified('activity', 'note', {
      id: 6, content: 'Met', user_id: 9, person_id: 12, add_time: '2026-11-20 08:00:00', update_time: '2026-11-20 08:05:00',
    }, maps, fieldMap);
    expect(note).toMatchObject({ remoteId: 'note:6', remoteUpdatedAt: '2026-11-20T08:05:00.000Z' });
    expect(note.fields).toMatchObject({ type: 'note', body: 'Met', occurred_at: '2026-11-20T08:00:00.000Z', owner_id: '00000000-0000-4000-8000-0000000000f1' });
  });

  it('reports an activity type the app does not have', () => {
    const lunch = toUnified('activity', 'activity', { id: 7, type: 'lunch', update_time: '2026-11-25T10:00:00Z' }, maps, fieldMap);
    expect(lunch.fields.type).toBe('meeting');
    expect(lunch.unmapped).toEqual([{ kind: 'activity_type', remoteValue: 'lunch' }]);
  });
});

describe('fromUnified', () => {
  it('writes a person whole-named from its parts (the shadow supplies the part not changed)', () => {
    const { body } = fromUnified('contact', 'person', { last_name: 'Smith' }, maps, fieldMap, { base: { first_name: 'Ann', last_name: 'Lee' } });
    expect(body).toEqual({ name: 'Ann Smith' });
  });

  it('writes emails, custom fields through the field map and references as integer ids', () => {
    const { body, unmapped } = fromUnified('contact', 'person', {
      email: 'ann@x.example', first_name: 'Ann', lifecycle_stage: 'lead', lead_source: 'web',
    }, maps, fieldMap, { create: true, references: { company: '4' } });
    expect(body).toEqual({
      name: 'Ann', emails: [{ value: 'ann@x.example', primary: true, label: 'work' }], org_id: 4,
      custom_fields: { [key('a')]: 31, [key('b')]: 'web' },
    });
    expect(unmapped).toEqual([]);
  });

  it('does not send a value no value map row covers, and reports it', () => {
    const { body, written, unmapped } = fromUnified('deal', 'deal', { stage: 'closed_won', status: 'won' }, maps, fieldMap);
    expect(body).toEqual({ status: 'won' });
    expect(written).toEqual({ status: 'won' });
    expect(unmapped).toEqual([{ kind: 'deal_stage', remoteValue: 'closed_won' }]);
  });

  it('writes an activity\'s time to the minute and records that as written', () => {
    const { body, written } = fromUnified('activity', 'activity', { type: 'call', subject: 'Call', occurred_at: '2026-11-20T09:30:45.120Z' },
      maps, fieldMap, { create: true, references: { deal: '3' } });
    expect(body).toEqual({ type: 'call', subject: 'Call', due_date: '2026-11-20', due_time: '09:30', done: true, deal_id: 3 });
    expect(written.occurred_at).toBe('2026-11-20T09:30:00.000Z');
  });

  it('writes a note through v1 with its time as v1 writes it', () => {
    const { body } = fromUnified('activity', 'note', { type: 'note', body: 'Met', occurred_at: '2026-11-20T08:00:00Z' }, maps, fieldMap,
      { create: true, references: { contact: '12' } });
    expect(body).toEqual({ content: 'Met', add_time: '2026-11-20 08:00:00', person_id: 12 });
  });
});

describe('remote ids and times', () => {
  it('notes carry their object in the id', () => {
    expect(parseRemoteId('activity', 'note:6')).toEqual({ object: 'note', id: 6 });
    expect(parseRemoteId('activity', '5')).toEqual({ object: 'activity', id: 5 });
    expect(() => parseRemoteId('contact', 'x')).toThrow(/not a Pipedrive person id/);
  });

  it('a due date without a time is midnight UTC', () => {
    expect(dueToIso('2026-11-20', null)).toBe('2026-11-20T00:00:00.000Z');
    expect(dueToIso(null, '10:00')).toBeUndefined();
  });
});
