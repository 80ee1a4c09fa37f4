/**
 * API v2 persons, organizations, deals and activities: list (cursor paging,
 * `updated_since`/`updated_until`, `ids`, `sort_by`/`sort_direction`,
 * `custom_fields` selection and the per-type filters), get, create (POST),
 * update (PATCH) and soft delete. Lists leave deleted records out (deals:
 * unless `status=deleted`); getting a deleted record by id still answers
 * it, with `is_deleted: true`.
 */

import { paginate, type SortValue } from '../cursor.ts';
import { type EntityRecord, LABEL, parseWrite, PLURAL, V2_KINDS, type V2Kind } from '../entities.ts';
import { badRequest, notFound } from '../errors.ts';
import type { SimulatorState } from '../state.ts';
import { rfc3339 } from '../timestamps.ts';
import { booleanQuery, enumQuery, idParam, integerQuery, limitQuery, listQuery, timeQuery } from './params.ts';
import { ok, type PipedriveRequest, type PipedriveRoute } from './route.ts';

const SORT_FIELDS: Record<V2Kind, readonly string[]> = {
  person: ['id', 'update_time', 'add_time'],
  organization: ['id', 'update_time', 'add_time'],
  deal: ['id', 'update_time', 'add_time'],
  activity: ['id', 'update_time', 'add_time', 'due_date'],
};

/** Query filters per type: query name → stored field. */
const FILTERS: Record<V2Kind, Record<string, string>> = {
  person: { owner_id: 'owner_id', org_id: 'org_id' },
  organization: { owner_id: 'owner_id' },
  deal: {
    owner_id: 'owner_id',
    person_id: 'person_id',
    org_id: 'org_id',
    pipeline_id: 'pipeline_id',
    stage_id: 'stage_id',
  },
  activity: { owner_id: 'owner_id', deal_id: 'deal_id', person_id: 'person_id', org_id: 'org_id' },
};

const DEAL_STATUSES = ['open', 'won', 'lost', 'deleted'] as const;

function sortValue(record: EntityRecord, field: string): SortValue {
  if (field === 'id') return record.id;
  if (field === 'update_time') return rfc3339(record.updateTime);
  if (field === 'add_time') return rfc3339(record.addTime);
  return (record.values[field] as SortValue) ?? null;
}

/** The `custom_fields` selection of a request (at most 15 keys); undefined means all. */
function customFieldSelection(request: PipedriveRequest, kind: V2Kind): string[] | undefined {
  return kind === 'activity' ? undefined : listQuery(request.query, 'custom_fields', 15);
}

function list(kind: V2Kind) {
  return (request: PipedriveRequest, state: SimulatorState) => {
    const query = request.query;
    if (query.get('filter_id')) throw badRequest('Validation failed: filter_id: saved filters are not simulated');
    const ids = listQuery(query, 'ids', 100)?.map((value) => idParam(value, 'ids'));
    const since = timeQuery(query, 'updated_since');
    const until = timeQuery(query, 'updated_until');
    const sortBy = enumQuery(query, 'sort_by', SORT_FIELDS[kind], 'id');
    const direction = enumQuery(query, 'sort_direction', ['asc', 'desc'] as const, 'asc');
    const limit = limitQuery(query, 500);
    const customFields = customFieldSelection(request, kind);
    const filters = Object.entries(FILTERS[kind]).flatMap(([name, field]) => {
      const value = integerQuery(query, name);
      return value === undefined ? [] : [[field, value] as const];
    });
    const done = kind === 'activity' ? booleanQuery(query, 'done') : undefined;
    const status = kind === 'deal' ? enumQuery(query, 'status', DEAL_STATUSES) : undefined;

    const idSet = ids ? new Set(ids) : undefined;
    const items = state.store.all(kind).filter((record) => {
      if (status === 'deleted' ? !record.deleted : record.deleted) return false;
      if (status && status !== 'deleted' && record.values.status !== status) return false;
      if (idSet && !idSet.has(record.id)) return false;
      // update_time has whole seconds: updated_since is inclusive, updated_until exclusive.
      if (since !== undefined && record.updateTime < since) return false;
      if (until !== undefined && record.updateTime >= until) return false;
      if (done !== undefined && record.values.done !== done) return false;
      return filters.every(([field, value]) => record.values[field] === value);
    });
    const { page, nextCursor } = paginate({
      items,
      key: (record) => ({ value: sortValue(record, sortBy), id: record.id }),
      field: sortBy,
      direction,
      limit,
      cursor: query.get('cursor') || undefined,
    });
    return ok(page.map((record) => state.store.json(record, { customFields })), {
      additional_data: { next_cursor: nextCursor },
    });
  };
}

function routesFor(kind: V2Kind): PipedriveRoute[] {
  const base = `/api/v2/${PLURAL[kind]}`;
  const label = LABEL[kind];
  return [
    { method: 'GET', pattern: base, api: 'v2', rateLimit: 'standard', cost: 10, handler: list(kind) },
    {
      method: 'GET',
      pattern: `${base}/{id}`,
      api: 'v2',
      rateLimit: 'standard',
      cost: 1,
      handler(request, state) {
        const record = state.store.get(kind, idParam(request.params.id));
        if (!record) throw notFound(label);
        return ok(state.store.json(record, { customFields: customFieldSelection(request, kind) }));
      },
    },
    {
      method: 'POST',
      pattern: base,
      api: 'v2',
      rateLimit: 'standard',
      cost: 5,
      handler(request, state) {
        const record = state.store.create(
          kind,
          parseWrite(kind, request.body),
          state.apiActor(request.correlationId),
        );
        return ok(state.store.json(record));
      },
    },
    {
      method: 'PATCH',
      pattern: `${base}/{id}`,
      api: 'v2',
      rateLimit: 'standard',
      cost: 5,
      handler(request, state) {
        const { record } = state.store.update(
          kind,
          idParam(request.params.id),
          parseWrite(kind, request.body),
          state.apiActor(request.correlationId),
        );
        return ok(state.store.json(record));
      },
    },
    {
      method: 'DELETE',
      pattern: `${base}/{id}`,
      api: 'v2',
      rateLimit: 'standard',
      cost: 3,
      handler(request, state) {
        const record = state.store.delete(kind, idParam(request.params.id), state.apiActor(request.correlationId));
        return ok({ id: record.id });
      },
    },
  ];
}

export const entityRoutes: PipedriveRoute[] = V2_KINDS.flatMap(routesFor);
