/**
 * v1 notes: list (`start`/`limit` paging, filters by deal, person,
 * organization, user and add date, `sort` like `update_time DESC`), get,
 * create, update (PUT) and delete. Notes hang off a deal, person or
 * organization; a deleted note is gone from the API.
 */

import { type EntityRecord, parseWrite } from '../entities.ts';
import { badRequest, notFound } from '../errors.ts';
import type { SimulatorState } from '../state.ts';
import { isDate, v1Time } from '../timestamps.ts';
import { idParam, integerQuery } from './params.ts';
import { ok, type PipedriveRoute, v1Cost } from './route.ts';

const SORT_FIELDS = ['id', 'add_time', 'update_time', 'user_id', 'content', 'deal_id', 'person_id', 'org_id'];

/** A note as API v1 returns it, with the names of what it is attached to. */
export function noteJson(state: SimulatorState, note: EntityRecord): Record<string, unknown> {
  const v = note.values;
  const related = (kind: 'deal' | 'person' | 'organization', id: unknown) =>
    typeof id === 'number' ? state.store.get(kind, id) : undefined;
  const deal = related('deal', v.deal_id);
  const person = related('person', v.person_id);
  const organization = related('organization', v.org_id);
  const user = state.users.get(v.user_id as number);
  return {
    id: note.id,
    active_flag: !note.deleted,
    add_time: v1Time(note.addTime),
    content: v.content,
    deal: deal ? { title: deal.values.title } : null,
    lead_id: v.lead_id,
    deal_id: v.deal_id,
    last_update_user_id: v.user_id,
    org_id: v.org_id,
    organization: organization ? { name: organization.values.name } : null,
    person: person ? { name: person.values.name } : null,
    person_id: v.person_id,
    pinned_to_deal_flag: v.pinned_to_deal_flag,
    pinned_to_organization_flag: v.pinned_to_organization_flag,
    pinned_to_person_flag: v.pinned_to_person_flag,
    pinned_to_lead_flag: v.pinned_to_lead_flag,
    update_time: v1Time(note.updateTime),
    user: user ? { email: user.email, icon_url: null, is_you: user.id === state.users.me().id, name: user.name } : null,
    user_id: v.user_id,
  };
}

function parseSort(value: string | null): Array<[string, 1 | -1]> {
  if (!value) return [['id', 1]];
  return value.split(',').map((part) => {
    const [field, direction = 'ASC'] = part.trim().split(/\s+/);
    if (!SORT_FIELDS.includes(field) || !['ASC', 'DESC'].includes(direction.toUpperCase())) {
      throw badRequest(`Invalid sort "${part.trim()}": use a field (${SORT_FIELDS.join(', ')}) and ASC or DESC`);
    }
    return [field, direction.toUpperCase() === 'DESC' ? -1 : 1];
  });
}

function sortKey(note: EntityRecord, field: string): number | string {
  if (field === 'id') return note.id;
  if (field === 'add_time') return note.addTime;
  if (field === 'update_time') return note.updateTime;
  const value = note.values[field];
  return typeof value === 'number' || typeof value === 'string' ? value : -1;
}

function dateQuery(query: URLSearchParams, name: string): string | undefined {
  const value = query.get(name);
  if (!value) return undefined;
  if (!isDate(value)) throw badRequest(`${name} must be a date YYYY-MM-DD`);
  return value;
}

function liveNote(state: SimulatorState, id: string | undefined): EntityRecord {
  const note = state.store.live('note', idParam(id));
  if (!note) throw notFound('Note');
  return note;
}

export const noteRoutes: PipedriveRoute[] = [
  {
    method: 'GET',
    pattern: '/v1/notes',
    api: 'v1',
    rateLimit: 'standard',
    cost: v1Cost('GET', false),
    handler(request, state) {
      const query = request.query;
      const start = integerQuery(query, 'start') ?? 0;
      const limit = integerQuery(query, 'limit') ?? 100;
      if (start < 0 || limit < 1 || limit > 500) throw badRequest('start must be >= 0 and limit between 1 and 500');
      const filters = ['user_id', 'deal_id', 'person_id', 'org_id'].flatMap((name) => {
        const value = integerQuery(query, name);
        return value === undefined ? [] : [[name, value] as const];
      });
      const leadId = query.get('lead_id');
      const startDate = dateQuery(query, 'start_date');
      const endDate = dateQuery(query, 'end_date');
      const pinned = [
        'pinned_to_deal_flag',
        'pinned_to_person_flag',
        'pinned_to_organization_flag',
        'pinned_to_lead_flag',
      ]
        .flatMap((name) => (query.get(name) === null ? [] : [[name, query.get(name) === '1'] as const]));
      const sort = parseSort(query.get('sort'));
      const notes = state.store.all('note').filter((note) => {
        if (note.deleted) return false;
        if (!filters.every(([name, value]) => note.values[name] === value)) return false;
        if (leadId && note.values.lead_id !== leadId) return false;
        const day = new Date(note.addTime).toISOString().slice(0, 10);
        if (startDate && day < startDate) return false;
        if (endDate && day > endDate) return false;
        return pinned.every(([name, value]) => note.values[name] === value);
      });
      notes.sort((a, b) => {
        for (const [field, direction] of sort) {
          const x = sortKey(a, field);
          const y = sortKey(b, field);
          if (x !== y) return (x < y ? -1 : 1) * direction;
        }
        return a.id - b.id;
      });
      const page = notes.slice(start, start + limit);
      const more = start + limit < notes.length;
      return ok(page.map((note) => noteJson(state, note)), {
        additional_data: {
          pagination: { start, limit, more_items_in_collection: more, ...(more ? { next_start: start + limit } : {}) },
        },
      });
    },
  },
  {
    method: 'GET',
    pattern: '/v1/notes/{id}',
    api: 'v1',
    rateLimit: 'standard',
    cost: v1Cost('GET', true),
    handler: (request, state) => ok(noteJson(state, liveNote(state, request.params.id))),
  },
  {
    method: 'POST',
    pattern: '/v1/notes',
    api: 'v1',
    rateLimit: 'standard',
    cost: v1Cost('POST', true),
    handler(request, state) {
      const note = state.store.create('note', parseWrite('note', request.body), state.apiActor(request.correlationId));
      return ok(noteJson(state, note));
    },
  },
  {
    method: 'PUT',
    pattern: '/v1/notes/{id}',
    api: 'v1',
    rateLimit: 'standard',
    cost: v1Cost('PUT', true),
    handler(request, state) {
      const note = liveNote(state, request.params.id);
      const { record } = state.store.update(
        'note',
        note.id,
        parseWrite('note', request.body),
        state.apiActor(request.correlationId),
      );
      return ok(noteJson(state, record));
    },
  },
  {
    method: 'DELETE',
    pattern: '/v1/notes/{id}',
    api: 'v1',
    rateLimit: 'standard',
    cost: v1Cost('DELETE', true),
    handler(request, state) {
      state.store.delete('note', liveNote(state, request.params.id).id, state.apiActor(request.correlationId));
      return ok(true);
    },
  },
];
