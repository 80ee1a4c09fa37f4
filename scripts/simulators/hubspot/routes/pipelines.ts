/** Pipelines v3 (read-only): the deal pipelines and their stages. */

import { DEFAULT_PIPELINES, type PipelineSeed, type PipelineStageSeed } from '../default-pipelines.ts';
import { notFound, validationError } from '../errors.ts';
import type { RouteDefinition } from './route.ts';
import type { SimulatorState } from '../state.ts';
import { objectTypeParam } from './params.ts';

/** Pipelines exist for deals only among the served object types. */
function pipelinesFor(segment: string): PipelineSeed[] {
  const type = objectTypeParam(segment);
  if (type !== 'deals') throw validationError(`Pipelines are not supported for object type ${type}`);
  return DEFAULT_PIPELINES.deals;
}

function stageJson(stage: PipelineStageSeed, index: number, createdAt: string) {
  return {
    id: stage.id,
    label: stage.label,
    displayOrder: index,
    metadata: { isClosed: String(stage.isClosed), probability: stage.probability },
    createdAt,
    updatedAt: createdAt,
    archived: false,
    writePermissions: 'CRUD_ALL',
  };
}

function pipelineJson(pipeline: PipelineSeed, index: number, state: SimulatorState) {
  const createdAt = new Date(state.registry.list('deals')[0]?.createdAt ?? 0).toISOString();
  return {
    id: pipeline.id,
    label: pipeline.label,
    displayOrder: index,
    stages: pipeline.stages.map((stage, order) => stageJson(stage, order, createdAt)),
    createdAt,
    updatedAt: createdAt,
    archived: false,
  };
}

function findPipeline(segment: string, pipelineId: string): [PipelineSeed, number] {
  const pipelines = pipelinesFor(segment);
  const index = pipelines.findIndex((pipeline) => pipeline.id === pipelineId);
  if (index < 0) throw notFound(`Pipeline ${pipelineId} does not exist`);
  return [pipelines[index], index];
}

const list: RouteDefinition = {
  method: 'GET',
  pattern: '/crm/v3/pipelines/{objectType}',
  rateLimit: 'standard',
  handler(request, state) {
    const pipelines = pipelinesFor(request.params.objectType);
    return { status: 200, body: { results: pipelines.map((pipeline, index) => pipelineJson(pipeline, index, state)) } };
  },
};

const read: RouteDefinition = {
  method: 'GET',
  pattern: '/crm/v3/pipelines/{objectType}/{pipelineId}',
  rateLimit: 'standard',
  handler(request, state) {
    const [pipeline, index] = findPipeline(request.params.objectType, request.params.pipelineId);
    return { status: 200, body: pipelineJson(pipeline, index, state) };
  },
};

const stages: RouteDefinition = {
  method: 'GET',
  pattern: '/crm/v3/pipelines/{objectType}/{pipelineId}/stages',
  rateLimit: 'standard',
  handler(request, state) {
    const [pipeline, index] = findPipeline(request.params.objectType, request.params.pipelineId);
    return { status: 200, body: { results: pipelineJson(pipeline, index, state).stages } };
  },
};

const stage: RouteDefinition = {
  method: 'GET',
  pattern: '/crm/v3/pipelines/{objectType}/{pipelineId}/stages/{stageId}',
  rateLimit: 'standard',
  handler(request, state) {
    const [pipeline, index] = findPipeline(request.params.objectType, request.params.pipelineId);
    const found = pipelineJson(pipeline, index, state).stages.find((candidate) =>
      candidate.id === request.params.stageId
    );
    if (!found) throw notFound(`Stage ${request.params.stageId} does not exist`);
    return { status: 200, body: found };
  },
};

export const pipelineRoutes: RouteDefinition[] = [list, read, stages, stage];
