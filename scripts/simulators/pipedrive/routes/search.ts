/**
 * API v2 search: `GET /api/v2/{persons,organizations,deals}/search` with
 * `term`, `fields`, `exact_match` and the per-type filters. Matching is a
 * case-insensitive substring (or whole-value with `exact_match`) over the
 * chosen fields; `result_score` is 1 for a whole-value match, 0.8 for a
 * prefix, 0.5 otherwise. Search has its own burst limit and costs 20 tokens.
 */

import { paginate } from '../cursor.ts';
import { type EntityRecord, PLURAL } from '../entities.ts';
import { badRequest } from '../errors.ts';
import type { FieldEntity } from '../field-registry.ts';
import type { SimulatorState } from '../state.ts';
import { booleanQuery, enumQuery, integerQuery, limitQuery, listQuery } from './params.ts';
import { ok, type PipedriveRequest, type PipedriveRoute } from './route.ts';

type SearchKind = 'person' | 'organization' | 'deal';

const SEARCH_FIELDS: Record<SearchKind, readonly string[]> = {
  person: ['custom_fields', 'email', 'notes', 'phone', 'name'],
  organization: ['address', 'custom_fields', 'notes', 'name'],
  deal: ['custom_fields', 'notes', 'title'],
};

const NOTE_LINK: Record<SearchKind, string> = { person: 'person_id', organization: 'org_id', deal: 'deal_id' };

function textCustomValues(state: SimulatorState, record: EntityRecord): string[] {
  return state.fields.customFields(record.kind as FieldEntity)
    .map((field) => record.custom[field.key])
    .filter((value): value is string => typeof value === 'string');
}

function noteContents(state: SimulatorState, kind: SearchKind, record: EntityRecord): string[] {
  return state.store.all('note')
    .filter((note) => !note.deleted && note.values[NOTE_LINK[kind]] === record.id)
    .map((note) => String(note.values.content));
}

function candidates(state: SimulatorState, kind: SearchKind, record: EntityRecord, field: string): string[] {
  const values = record.values;
  switch (field) {
    case 'name':
      return [String(values.name ?? '')];
    case 'title':
      return [String(values.title ?? '')];
    case 'email':
      return (values.emails as Array<{ value: string }>).map((item) => item.value);
    case 'phone':
      return (values.phones as Array<{ value: string }>).map((item) => item.value);
    case 'address':
      return values.address ? [String((values.address as { value: string }).value)] : [];
    case 'custom_fields':
      return textCustomValues(state, record);
    case 'notes':
      return noteContents(state, kind, record);
    default:
      return [];
  }
}

function score(term: string, value: string, exact: boolean): number {
  const a = value.toLowerCase();
  if (a === term) return 1;
  if (exact) return 0;
  if (a.startsWith(term)) return 0.8;
  return a.includes(term) ? 0.5 : 0;
}

function itemJson(state: SimulatorState, kind: SearchKind, record: EntityRecord, matchedNotes: string[]) {
  const values = record.values;
  const org = typeof values.org_id === 'number' ? state.store.get('organization', values.org_id) : undefined;
  const common = {
    id: record.id,
    type: kind,
    visible_to: values.visible_to,
    owner: { id: values.owner_id },
    custom_fields: textCustomValues(state, record),
    notes: matchedNotes,
  };
  if (kind === 'person') {
    return {
      ...common,
      name: values.name,
      phones: (values.phones as Array<{ value: string }>).map((item) => item.value),
      emails: (values.emails as Array<{ value: string }>).map((item) => item.value),
      organization: org ? { id: org.id, name: org.values.name } : null,
    };
  }
  if (kind === 'organization') {
    return {
      ...common,
      name: values.name,
      address: values.address ? (values.address as { value: string }).value : null,
    };
  }
  const person = typeof values.person_id === 'number' ? state.store.get('person', values.person_id) : undefined;
  const stage = state.pipelines.stage(values.stage_id as number);
  return {
    ...common,
    title: values.title,
    value: values.value,
    currency: values.currency,
    status: values.status,
    stage: { id: stage?.id, name: stage?.name },
    person: person ? { id: person.id, name: person.values.name } : null,
    organization: org ? { id: org.id, name: org.values.name } : null,
    is_archived: false,
  };
}

function search(kind: SearchKind) {
  return (request: PipedriveRequest, state: SimulatorState) => {
    const query = request.query;
    const exact = booleanQuery(query, 'exact_match') ?? false;
    const term = (query.get('term') ?? '').trim().toLowerCase();
    if (term.length < (exact ? 1 : 2)) {
      throw badRequest(`Validation failed: term: must be at least ${exact ? 1 : 2} characters long`);
    }
    const fields = listQuery(query, 'fields', 10) ?? SEARCH_FIELDS[kind];
    for (const field of fields) {
      if (!SEARCH_FIELDS[kind].includes(field)) {
        throw badRequest(`Validation failed: fields: must be of ${SEARCH_FIELDS[kind].join(', ')}`);
      }
    }
    const organizationId = integerQuery(query, 'organization_id');
    const personId = kind === 'deal' ? integerQuery(query, 'person_id') : undefined;
    const status = kind === 'deal' ? enumQuery(query, 'status', ['open', 'won', 'lost'] as const) : undefined;
    const limit = limitQuery(query, 500);

    const hits: Array<{ record: EntityRecord; score: number; notes: string[] }> = [];
    for (const record of state.store.all(kind)) {
      if (record.deleted) continue;
      if (organizationId !== undefined && record.values.org_id !== organizationId) continue;
      if (personId !== undefined && record.values.person_id !== personId) continue;
      if (status !== undefined && record.values.status !== status) continue;
      let best = 0;
      const notes: string[] = [];
      for (const field of fields) {
        for (const value of candidates(state, kind, record, field)) {
          const s = score(term, value, exact);
          if (s > 0 && field === 'notes') notes.push(value);
          best = Math.max(best, s);
        }
      }
      if (best > 0) hits.push({ record, score: best, notes });
    }
    const { page, nextCursor } = paginate({
      items: hits,
      key: (hit) => ({ value: hit.score, id: hit.record.id }),
      field: 'result_score',
      direction: 'desc',
      limit,
      cursor: query.get('cursor') || undefined,
    });
    return ok(
      { items: page.map((hit) => ({ result_score: hit.score, item: itemJson(state, kind, hit.record, hit.notes) })) },
      { additional_data: { next_cursor: nextCursor } },
    );
  };
}

export const searchRoutes: PipedriveRoute[] = (['person', 'organization', 'deal'] as const).map((kind) => ({
  method: 'GET',
  pattern: `/api/v2/${PLURAL[kind]}/search`,
  api: 'v2',
  rateLimit: 'search',
  cost: 20,
  handler: search(kind),
}));
