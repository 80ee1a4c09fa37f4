import { describe, expect, it } from 'vitest';
import type { InboundWork } from '../adapter.ts';
import { interpretPipedriveEvents } from './webhook-events.ts';

const meta = (over: Record<string, unknown>) => ({
  action: 'change', entity: 'person', entity_id: '12', id: '3f0c1a52-1b7e-4c1d-9a8e-7e3f2b1c0d9e', company_id: '8100001',
  timestamp: '2026-11-25T10:00:00.400Z', version: '2.0', change_source: 'app', user_id: '2', webhook_owner_id: '1', ...over,
});
const updated = { update_time: '2026-11-25T10:00:00Z' };
const at = Date.parse('2026-11-25T10:00:00Z');

describe('interpretPipedriveEvents', () => {
  it('a create or change is a fetch of the record, notes and all', () => {
    expect(interpretPipedriveEvents([
      { meta: meta({ action: 'create' }), data: { id: 12, ...updated }, previous: null },
      { meta: meta({ entity: 'organization', entity_id: '4' }), data: { id: 4, ...updated }, previous: { name: 'Old' } },
      { meta: meta({ entity: 'deal', entity_id: '9' }), data: { id: 9, ...updated }, previous: {} },
      { meta: meta({ entity: 'activity', entity_id: '5' }), data: { id: 5, ...updated }, previous: {} },
      { meta: meta({ entity: 'note', entity_id: '6' }), data: { id: 6, ...updated }, previous: null },
    ]).map((w) => [w.kind, w.entityType, 'remoteId' in w ? w.remoteId : null])).toEqual([
      ['fetch', 'contact', '12'],
      ['fetch', 'company', '4'],
      ['fetch', 'deal', '9'],
      ['fetch', 'activity', '5'],
      ['fetch', 'activity', 'note:6'],
    ]);
  });

  it('a change the integration made (api, by the webhook owner) is dated at its update_time, so the write ledger recognises its echo', () => {
    const [work] = interpretPipedriveEvents([{ meta: meta({ change_source: 'api', user_id: '1' }), data: { id: 12, ...updated }, previous: {} }]);
    expect(work.occurredAt).toBe(at);
  });

  it('a change by a person, or by another integration, is dated to the end of its second: never mistaken for the echo', () => {
    const [app] = interpretPipedriveEvents([{ meta: meta({}), data: { id: 12, ...updated }, previous: {} }]);
    const [other] = interpretPipedriveEvents([{ meta: meta({ change_source: 'api', user_id: '7' }), data: { id: 12, ...updated }, previous: {} }]);
    expect(app.occurredAt).toBe(at + 999);
    expect(other.occurredAt).toBe(at + 999);
  });

  it('the echo of the engine\'s write to a name says which name parts it changed, from what, to what', () => {
    const echo = (over: Record<string, unknown>, previous: Record<string, unknown>) => interpretPipedriveEvents([{
      meta: meta({ change_source: 'api', user_id: '1', ...over }),
      data: { id: 12, name: 'Xia Baker', first_name: 'Xia', last_name: 'Baker', ...updated }, previous,
    }])[0];
    expect(echo({}, { name: 'Ann Cole', first_name: 'Ann', last_name: 'Cole' })).toMatchObject({
      kind: 'fetch', ownWrite: { before: { first_name: 'Ann', last_name: 'Cole' }, after: { first_name: 'Xia', last_name: 'Baker' } },
    });
    expect(echo({}, { name: 'Ann Baker', first_name: 'Ann' })).toMatchObject({
      ownWrite: { before: { first_name: 'Ann' }, after: { first_name: 'Xia' } },
    });
    // Not the engine's write, no name part changed, or not a person: nothing to judge.
    expect(echo({ change_source: 'app', user_id: '2' }, { first_name: 'Ann' })).not.toHaveProperty('ownWrite');
    expect(echo({}, { emails: [] })).not.toHaveProperty('ownWrite');
    expect(echo({ entity: 'organization' }, { first_name: 'Ann' })).not.toHaveProperty('ownWrite');
  });

  it('carries the record as the event saw it (a change\'s data, a deletion\'s previous), dated like a change', () => {
    const read = (entityType: string, object: string, item: Record<string, unknown>) => ({
      entityType, remoteId: String(item.id), remoteUpdatedAt: String(item.update_time), archived: false,
      fields: { last_name: item.last_name }, references: {}, unmapped: [], object,
    }) as never;
    const [byUser, byEngine, deletion] = interpretPipedriveEvents([
      { meta: meta({}), data: { id: 12, last_name: 'Later', ...updated }, previous: { last_name: 'Soon' } },
      { meta: meta({ change_source: 'api', user_id: '1' }), data: { id: 12, last_name: 'Ours', ...updated }, previous: {} },
      { meta: meta({ action: 'delete' }), data: null, previous: { id: 12, last_name: 'Last', ...updated } },
    ], read);
    const known = (work: InboundWork) => ('lastKnown' in work ? work.lastKnown?.() : undefined);
    expect(byUser.kind).toBe('fetch');
    expect(known(byUser)).toMatchObject({ fields: { last_name: 'Later' }, remoteUpdatedAt: new Date(at + 999).toISOString() });
    expect(known(byEngine)).toMatchObject({ fields: { last_name: 'Ours' }, remoteUpdatedAt: new Date(at).toISOString() });
    expect(deletion.kind).toBe('delete');
    expect(known(deletion)).toMatchObject({ fields: { last_name: 'Last' }, modifiedAt: '2026-11-25T10:00:00.000Z' });
    // Without a reader (or a record it cannot read) the fetch decides alone.
    expect(interpretPipedriveEvents([{ meta: meta({}), data: { id: 12, ...updated }, previous: {} }])[0]).not.toHaveProperty('lastKnown');
    expect(known(interpretPipedriveEvents([{ meta: meta({}), data: { id: 12, ...updated }, previous: {} }], () => undefined)[0]))
      .toBeUndefined();
  });

  it('a delete is a delete, dated after the record\'s last update', () => {
    const [work] = interpretPipedriveEvents([{ meta: meta({ action: 'delete', timestamp: '2026-11-25T09:59:59Z' }), data: null, previous: { id: 12, ...updated } }]);
    expect(work).toEqual({ kind: 'delete', entityType: 'contact', remoteId: '12', occurredAt: at + 1_000 });
  });

  it('a merge (a delete naming merged_to_id, a change naming merged_from_id) is a merge into the survivor', () => {
    const work = interpretPipedriveEvents([
      { meta: meta({ action: 'delete', entity_id: '12', merged_to_id: '30' }), data: null, previous: { id: 12, ...updated } },
      { meta: meta({ entity_id: '30', merged_from_id: '12' }), data: { id: 30, ...updated }, previous: {} },
    ]);
    expect(work.map((w) => w.kind)).toEqual(['merge', 'merge', 'fetch']);
    expect(work[0]).toMatchObject({ primaryRemoteId: '30', mergedRemoteIds: ['12'] });
    expect(work[1]).toMatchObject({ primaryRemoteId: '30', mergedRemoteIds: ['12'] });
  });

  it('skips what it cannot use: other objects, unknown actions, malformed events', () => {
    expect(interpretPipedriveEvents([
      { meta: meta({ entity: 'product' }), data: { id: 1 }, previous: null },
      { meta: meta({ action: 'archive' }), data: { id: 1 }, previous: null },
      { meta: { entity: 'person' } },
      'not an event',
    ])).toEqual([]);
  });
});
