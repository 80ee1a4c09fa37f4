// The value map rows a Pipedrive connection starts with (sync.value_maps,
// read through the same lookups as HubSpot's): deal stages (integer stage
// ids, their pipeline as remote_context) named after the stage, owners
// (Pipedrive user ids) matched to local users by email, and the options of
// the enum custom fields (lifecycle stage, industry) by their label.
import type { ValueMapRow } from '../hubspot/value-maps.ts';
import type { PipedriveField } from './field-map.ts';

export interface PipedriveStage {
  id: number;
  name: string;
  pipeline_id: number;
}

/** `Proposal Made` → `proposal_made`. */
export function slug(text: string): string {
  return text.trim().toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '') || 'stage';
}

/**
 * One row per stage, named after it. A name that two pipelines share is
 * prefixed with the later pipeline's id, as a local value maps to one stage.
 */
export function stageValueMaps(stages: readonly PipedriveStage[]): ValueMapRow[] {
  const taken = new Set<string>();
  return [...stages].sort((a, b) => a.pipeline_id - b.pipeline_id || a.id - b.id).map((stage) => {
    let local = slug(stage.name);
    if (taken.has(local)) local = `pipeline_${stage.pipeline_id}_${local}`;
    taken.add(local);
    return { kind: 'deal_stage', remote_value: String(stage.id), local_value: local, remote_context: String(stage.pipeline_id) };
  });
}

/** Owners: Pipedrive users whose email is a local user's. */
export function ownerValueMaps(users: readonly { id: number; email: string }[], localUsers: readonly { id: string; email: string }[]): ValueMapRow[] {
  const localByEmail = new Map(localUsers.map((u) => [u.email.toLowerCase(), u.id]));
  const seen = new Set<string>();
  const rows: ValueMapRow[] = [];
  for (const user of users) {
    const local = localByEmail.get(user.email.toLowerCase());
    if (!local || seen.has(local)) continue;
    seen.add(local);
    rows.push({ kind: 'owner', remote_value: String(user.id), local_value: local, remote_context: null });
  }
  return rows;
}

/** Lifecycle stage labels as the app (and HubSpot's defaults) name them. */
const lifecycleStageOf: Record<string, string> = {
  subscriber: 'subscriber',
  lead: 'lead',
  marketing_qualified: 'marketing_qualified_lead',
  marketing_qualified_lead: 'marketing_qualified_lead',
  sales_qualified: 'sales_qualified_lead',
  sales_qualified_lead: 'sales_qualified_lead',
  opportunity: 'opportunity',
  customer: 'customer',
  evangelist: 'evangelist',
  other: 'other',
};

/** Industry labels spelled as the app (and HubSpot's defaults) spell them. */
const industryOf: Record<string, string> = {
  financial_services: 'Financial Services',
  healthcare: 'Health Care',
  health_care: 'Health Care',
  it_services: 'IT Services',
  real_estate: 'Real Estate',
};

/** Enum options (option id → local value) of the lifecycle stage and industry fields. */
export function optionValueMaps(kind: 'lifecycle_stage' | 'industry', field: PipedriveField | undefined): ValueMapRow[] {
  const taken = new Set<string>();
  const rows: ValueMapRow[] = [];
  for (const option of field?.options ?? []) {
    const local = kind === 'lifecycle_stage'
      ? lifecycleStageOf[slug(option.label)] ?? slug(option.label)
      : industryOf[slug(option.label)] ?? option.label.trim();
    if (!local || taken.has(local)) continue;
    taken.add(local);
    rows.push({ kind, remote_value: String(option.id), local_value: local.slice(0, 200), remote_context: null });
  }
  return rows;
}
