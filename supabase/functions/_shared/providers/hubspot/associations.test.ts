import { describe, expect, it, test } from 'vitest';
import {
  associationBatchInputs,
  associationsForCreate,
  associationTypesFor,
  defaultAssociationTypeIds,
  pickAssociatedId,
  pickAssociationTarget,
} from './associations.ts';
import { hubSpotObjectTypes } from './object-types.ts';
import { hubSpotAssociationBatchReadSchema } from './schemas.ts';
import dealsCompaniesRead from './fixtures/deals-companies.associations-batch-read.json' with { type: 'json' };

const spec = (associationTypeId: number) => ({ associationCategory: 'HUBSPOT_DEFINED', associationTypeId });

describe('association type ids', () => {
  test.each(
    [
      ['contacts', 'companies', [279, 1]],
      ['deals', 'contacts', [3]],
      ['deals', 'companies', [341, 5]],
      ['notes', 'contacts', [202]],
      ['notes', 'companies', [190]],
      ['notes', 'deals', [214]],
      ['calls', 'contacts', [194]],
      ['calls', 'companies', [182]],
      ['calls', 'deals', [206]],
      ['emails', 'contacts', [198]],
      ['emails', 'companies', [186]],
      ['emails', 'deals', [210]],
      ['meetings', 'contacts', [200]],
      ['meetings', 'companies', [188]],
      ['meetings', 'deals', [212]],
    ] as const,
  )('%s → %s: %j', (from, to, ids) => {
    expect(associationTypesFor(from, to)).toEqual(ids.map(spec));
  });

  it('has an inverse for every default type it writes, each id used once', () => {
    const ids: number[] = [];
    for (const from of hubSpotObjectTypes) {
      for (const [to, id] of Object.entries(defaultAssociationTypeIds[from] ?? {})) {
        expect(defaultAssociationTypeIds[to as typeof from]?.[from]).toBeTypeOf('number');
        ids.push(id);
      }
    }
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('refuses pairs HubSpot has no default association for', () => {
    expect(() => associationTypesFor('notes', 'calls')).toThrow(/no default association/);
  });
});

describe('associationBatchInputs', () => {
  it('groups references by object type pair and skips null ones', () => {
    const batches = associationBatchInputs([
      { objectType: 'deals', remoteId: '7001', references: { contact: '51', company: '9845651234' } },
      { objectType: 'deals', remoteId: '7004', references: { contact: '101', company: null } },
      { objectType: 'notes', remoteId: '40001', references: { contact: '51', deal: '7001' } },
      { objectType: 'contacts', remoteId: '51', references: { company: '9845651234' } },
    ]);
    expect(batches).toEqual([
      {
        fromObjectType: 'deals',
        toObjectType: 'contacts',
        inputs: [
          { from: { id: '7001' }, to: { id: '51' }, types: [spec(3)] },
          { from: { id: '7004' }, to: { id: '101' }, types: [spec(3)] },
        ],
      },
      {
        fromObjectType: 'deals',
        toObjectType: 'companies',
        inputs: [{ from: { id: '7001' }, to: { id: '9845651234' }, types: [spec(341), spec(5)] }],
      },
      {
        fromObjectType: 'notes',
        toObjectType: 'contacts',
        inputs: [{ from: { id: '40001' }, to: { id: '51' }, types: [spec(202)] }],
      },
      {
        fromObjectType: 'notes',
        toObjectType: 'deals',
        inputs: [{ from: { id: '40001' }, to: { id: '7001' }, types: [spec(214)] }],
      },
      {
        fromObjectType: 'contacts',
        toObjectType: 'companies',
        inputs: [{ from: { id: '51' }, to: { id: '9845651234' }, types: [spec(279), spec(1)] }],
      },
    ]);
  });

  it('splits a pair into requests of at most 100 inputs', () => {
    const records = Array.from({ length: 250 }, (_, index) => ({
      objectType: 'calls' as const,
      remoteId: String(50_000 + index),
      references: { contact: '51' },
    }));
    const batches = associationBatchInputs(records);
    expect(batches.map((batch) => batch.inputs.length)).toEqual([100, 100, 50]);
    expect(batches[2].inputs[49].from.id).toBe('50249');
  });

  it('gives nothing for records without references', () => {
    expect(associationBatchInputs([{ objectType: 'companies', remoteId: '1', references: {} }])).toEqual([]);
  });
});

describe('associationsForCreate', () => {
  it('links a new engagement in its create request', () => {
    expect(associationsForCreate('meetings', { contact: '51', company: null, deal: '7001' })).toEqual([
      { to: { id: '51' }, types: [spec(200)] },
      { to: { id: '7001' }, types: [spec(212)] },
    ]);
  });
});

describe('reading associations', () => {
  it('prefers the primary company of a contact (v3 block)', () => {
    expect(pickAssociatedId('contacts', 'companies', [
      { id: '9845651299', type: 'contact_to_company_unlabeled' },
      { id: '9845651234', type: 'contact_to_company' },
    ])).toBe('9845651234');
  });

  it('takes the first record where there is no primary, and null for none', () => {
    expect(pickAssociatedId('deals', 'contacts', [
      { id: '51', type: 'deal_to_contact' },
      { id: '151', type: 'deal_to_contact' },
    ])).toBe('51');
    expect(pickAssociatedId('deals', 'companies', [{ id: '9845651299', type: 'deal_to_company_unlabeled' }])).toBe(
      '9845651299',
    );
    expect(pickAssociatedId('notes', 'deals', [])).toBeNull();
  });

  it('prefers the primary target of a v4 batch read result', () => {
    const response = hubSpotAssociationBatchReadSchema.parse(dealsCompaniesRead);
    const [withCompanies, without] = response.results;
    expect(withCompanies.to.map((target) => target.toObjectId)).toEqual(['9845651299', '9845651234']);
    expect(pickAssociationTarget('deals', 'companies', withCompanies.to)).toBe('9845651234');
    expect(pickAssociationTarget('deals', 'contacts', withCompanies.to)).toBe('9845651299');
    expect(pickAssociationTarget('deals', 'companies', without.to)).toBeNull();
  });
});
