/** API v2 pipelines and stages (read-only): list with cursor paging and sorting, get by id. */

import { paginate, type SortValue } from '../cursor.ts';
import { notFound } from '../errors.ts';
import type { Pipeline, Stage } from '../pipelines.ts';
import type { SimulatorState } from '../state.ts';
import { enumQuery, idParam, integerQuery, limitQuery } from './params.ts';
import { ok, type PipedriveRequest, type PipedriveRoute } from './route.ts';

function page<T extends { id: number }>(
  request: PipedriveRequest,
  items: T[],
  fields: readonly string[],
  value: (item: T, field: string) => SortValue,
) {
  const sortBy = enumQuery(request.query, 'sort_by', fields, 'id');
  const direction = enumQuery(request.query, 'sort_direction', ['asc', 'desc'] as const, 'asc');
  return paginate({
    items,
    key: (item) => ({ value: value(item, sortBy), id: item.id }),
    field: sortBy,
    direction,
    limit: limitQuery(request.query, 500),
    cursor: request.query.get('cursor') || undefined,
  });
}

/** Pipelines and stages all share the company's set-up time. */
const sharedTimeValue = (state: SimulatorState) => (item: Pipeline | Stage, field: string): SortValue =>
  field === 'id' ? item.id : field === 'order_nr' ? item.orderNr : state.pipelines.createdAt;

export const pipelineRoutes: PipedriveRoute[] = [
  {
    method: 'GET',
    pattern: '/api/v2/pipelines',
    api: 'v2',
    rateLimit: 'standard',
    cost: 5,
    handler(request, state) {
      const { page: items, nextCursor } = page(
        request,
        state.pipelines.pipelines(),
        ['id', 'update_time', 'add_time'],
        sharedTimeValue(state),
      );
      return ok(items.map((pipeline) => state.pipelines.pipelineJson(pipeline)), {
        additional_data: { next_cursor: nextCursor },
      });
    },
  },
  {
    method: 'GET',
    pattern: '/api/v2/pipelines/{id}',
    api: 'v2',
    rateLimit: 'standard',
    cost: 1,
    handler(request, state) {
      const pipeline = state.pipelines.pipeline(idParam(request.params.id));
      if (!pipeline) throw notFound('Pipeline');
      return ok(state.pipelines.pipelineJson(pipeline));
    },
  },
  {
    method: 'GET',
    pattern: '/api/v2/stages',
    api: 'v2',
    rateLimit: 'standard',
    cost: 5,
    handler(request, state) {
      const pipelineId = integerQuery(request.query, 'pipeline_id');
      const { page: items, nextCursor } = page(
        request,
        state.pipelines.stages(pipelineId),
        ['id', 'update_time', 'add_time', 'order_nr'],
        sharedTimeValue(state),
      );
      return ok(items.map((stage) => state.pipelines.stageJson(stage)), {
        additional_data: { next_cursor: nextCursor },
      });
    },
  },
  {
    method: 'GET',
    pattern: '/api/v2/stages/{id}',
    api: 'v2',
    rateLimit: 'standard',
    cost: 1,
    handler(request, state) {
      const stage = state.pipelines.stage(idParam(request.params.id));
      if (!stage) throw notFound('Stage');
      return ok(state.pipelines.stageJson(stage));
    },
  },
];
