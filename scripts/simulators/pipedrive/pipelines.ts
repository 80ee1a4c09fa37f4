/**
 * The company's deal pipelines and their stages (integer ids, as in
 * Pipedrive). Read-only through the API: a fresh company has these two.
 */

import { rfc3339 } from './timestamps.ts';

export interface Pipeline {
  id: number;
  name: string;
  orderNr: number;
  dealProbabilityEnabled: boolean;
}

export interface Stage {
  id: number;
  pipelineId: number;
  name: string;
  orderNr: number;
  dealProbability: number;
  daysToRotten: number | null;
}

const PIPELINES: Pipeline[] = [
  { id: 1, name: 'Sales pipeline', orderNr: 1, dealProbabilityEnabled: true },
  { id: 2, name: 'Partnerships', orderNr: 2, dealProbabilityEnabled: false },
];

const STAGES: Stage[] = [
  { id: 1, pipelineId: 1, name: 'Qualified', orderNr: 1, dealProbability: 10, daysToRotten: null },
  { id: 2, pipelineId: 1, name: 'Contact Made', orderNr: 2, dealProbability: 20, daysToRotten: null },
  { id: 3, pipelineId: 1, name: 'Demo Scheduled', orderNr: 3, dealProbability: 40, daysToRotten: 14 },
  { id: 4, pipelineId: 1, name: 'Proposal Made', orderNr: 4, dealProbability: 60, daysToRotten: 14 },
  { id: 5, pipelineId: 1, name: 'Negotiations Started', orderNr: 5, dealProbability: 80, daysToRotten: 30 },
  { id: 6, pipelineId: 2, name: 'Introduction', orderNr: 1, dealProbability: 100, daysToRotten: null },
  { id: 7, pipelineId: 2, name: 'Evaluation', orderNr: 2, dealProbability: 100, daysToRotten: null },
  { id: 8, pipelineId: 2, name: 'Agreement', orderNr: 3, dealProbability: 100, daysToRotten: null },
];

export class PipelineDirectory {
  /** When the company was set up: add_time and update_time of every pipeline and stage. */
  createdAt: number;

  constructor(private readonly now: () => number) {
    this.createdAt = now();
  }

  reset(): void {
    this.createdAt = this.now();
  }

  pipelines(): Pipeline[] {
    return PIPELINES;
  }

  pipeline(id: number): Pipeline | undefined {
    return PIPELINES.find((pipeline) => pipeline.id === id);
  }

  stages(pipelineId?: number): Stage[] {
    return pipelineId === undefined ? STAGES : STAGES.filter((stage) => stage.pipelineId === pipelineId);
  }

  stage(id: number): Stage | undefined {
    return STAGES.find((stage) => stage.id === id);
  }

  /** The stage a new deal lands in when it names none (the first of its pipeline). */
  firstStage(pipelineId: number): Stage | undefined {
    return this.stages(pipelineId).sort((a, b) => a.orderNr - b.orderNr)[0];
  }

  pipelineJson(pipeline: Pipeline): Record<string, unknown> {
    return {
      id: pipeline.id,
      name: pipeline.name,
      order_nr: pipeline.orderNr,
      is_selected: pipeline.id === 1,
      is_deleted: false,
      is_deal_probability_enabled: pipeline.dealProbabilityEnabled,
      add_time: rfc3339(this.createdAt),
      update_time: rfc3339(this.createdAt),
    };
  }

  stageJson(stage: Stage): Record<string, unknown> {
    return {
      id: stage.id,
      order_nr: stage.orderNr,
      name: stage.name,
      is_deleted: false,
      deal_probability: stage.dealProbability,
      pipeline_id: stage.pipelineId,
      is_deal_rot_enabled: stage.daysToRotten !== null,
      days_to_rotten: stage.daysToRotten,
      add_time: rfc3339(this.createdAt),
      update_time: rfc3339(this.createdAt),
    };
  }
}
