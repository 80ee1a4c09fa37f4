// Per-connection translations of values that differ by system (rows of
// sync.value_maps): deal stages (with their pipeline as remote_context),
// lifecycle stages and owners. A value with no row is not translated: the
// mappers keep it raw where the field allows and report it as unmapped.
import { z } from 'zod';

export const valueMapKinds = ['deal_stage', 'lifecycle_stage', 'owner', 'industry'] as const;
export type ValueMapKind = (typeof valueMapKinds)[number];

/** A row of sync.value_maps, as selected from the database. */
export const valueMapRowSchema = z.object({
  kind: z.enum(valueMapKinds),
  remote_value: z.string().min(1).max(200),
  local_value: z.string().min(1).max(200),
  remote_context: z.string().nullable().optional(),
});
export type ValueMapRow = z.output<typeof valueMapRowSchema>;

export interface RemoteValue {
  remoteValue: string;
  /** For deal stages: the pipeline the stage belongs to (null when the row names none). */
  remoteContext: string | null;
}

export interface ValueMaps {
  /**
   * The local value of a remote one. For deal stages, pass the deal's
   * pipeline: a row whose remote_context names another pipeline does not
   * match (a row without a context matches any pipeline, and so does a deal
   * whose pipeline is unknown).
   */
  toLocal(kind: ValueMapKind, remoteValue: string, remoteContext?: string | null): string | undefined;
  /** The remote value (and for deal stages, the pipeline) of a local one. */
  toRemote(kind: ValueMapKind, localValue: string): RemoteValue | undefined;
  readonly rows: readonly ValueMapRow[];
}

/**
 * Builds the lookups from value map rows (validated here: they come from the
 * database or from configuration). When two rows claim the same remote or
 * local value of a kind, the later one wins, so connection rows can be laid
 * over defaults: `buildValueMaps([...defaults, ...rows])`.
 */
export function buildValueMaps(input: readonly unknown[]): ValueMaps {
  const rows = z.array(valueMapRowSchema).parse(input);
  const byRemote = new Map<string, ValueMapRow>();
  const byLocal = new Map<string, ValueMapRow>();
  for (const row of rows) {
    byRemote.set(key(row.kind, row.remote_value), row);
    byLocal.set(key(row.kind, row.local_value), row);
  }
  return {
    rows,
    toLocal(kind, remoteValue, remoteContext) {
      const row = byRemote.get(key(kind, remoteValue));
      if (row === undefined) return undefined;
      const context = row.remote_context ?? null;
      if (context !== null && remoteContext != null && context !== remoteContext) return undefined;
      return row.local_value;
    },
    toRemote(kind, localValue) {
      const row = byLocal.get(key(kind, localValue));
      return row === undefined
        ? undefined
        : { remoteValue: row.remote_value, remoteContext: row.remote_context ?? null };
    },
  };
}

function key(kind: ValueMapKind, value: string): string {
  return `${kind}\u0000${value}`;
}

/** HubSpot's default sales pipeline and its stages, with the local stage each one means. */
export const HUBSPOT_DEFAULT_PIPELINE = 'default';
const defaultDealStages: ReadonlyArray<[remote: string, local: string]> = [
  ['appointmentscheduled', 'meeting_scheduled'],
  ['qualifiedtobuy', 'qualified'],
  ['presentationscheduled', 'proposal_sent'],
  ['decisionmakerboughtin', 'negotiation'],
  ['contractsent', 'contract_sent'],
  ['closedwon', 'closed_won'],
  ['closedlost', 'closed_lost'],
];

/** HubSpot's built-in lifecycle stages (`lifecyclestage` options), with their local names. */
const defaultLifecycleStages: ReadonlyArray<[remote: string, local: string]> = [
  ['subscriber', 'subscriber'],
  ['lead', 'lead'],
  ['marketingqualifiedlead', 'marketing_qualified_lead'],
  ['salesqualifiedlead', 'sales_qualified_lead'],
  ['opportunity', 'opportunity'],
  ['customer', 'customer'],
  ['evangelist', 'evangelist'],
  ['other', 'other'],
];

/**
 * HubSpot's industry is an enumeration (COMPUTER_SOFTWARE, ...); the app
 * keeps free text. The common ones are mapped by default; any other value is
 * kept raw inbound, not sent outbound, and reported until a row maps it.
 */
const defaultIndustries: ReadonlyArray<[remote: string, local: string]> = [
  ['COMPUTER_SOFTWARE', 'Software'],
  ['INFORMATION_TECHNOLOGY_AND_SERVICES', 'IT Services'],
  ['FINANCIAL_SERVICES', 'Financial Services'],
  ['BANKING', 'Banking'],
  ['INSURANCE', 'Insurance'],
  ['RETAIL', 'Retail'],
  ['CONSUMER_GOODS', 'Consumer Goods'],
  ['PHARMACEUTICALS', 'Pharma'],
  ['HOSPITAL_HEALTH_CARE', 'Health Care'],
  ['LOGISTICS_AND_SUPPLY_CHAIN', 'Logistics'],
  ['FOOD_BEVERAGES', 'Food & Beverages'],
  ['MARKETING_AND_ADVERTISING', 'Marketing'],
  ['REAL_ESTATE', 'Real Estate'],
  ['TELECOMMUNICATIONS', 'Telecommunications'],
  ['EDUCATION_MANAGEMENT', 'Education'],
];

/**
 * The value map rows a new HubSpot connection starts with: the stages of
 * the default sales pipeline, the built-in lifecycle stages and the common
 * industries. Owners have no defaults (HubSpot owner ids are per account).
 */
export function defaultHubSpotValueMaps(): ValueMapRow[] {
  return [
    ...defaultDealStages.map(([remote, local]): ValueMapRow => ({
      kind: 'deal_stage',
      remote_value: remote,
      local_value: local,
      remote_context: HUBSPOT_DEFAULT_PIPELINE,
    })),
    ...defaultLifecycleStages.map(([remote, local]): ValueMapRow => ({
      kind: 'lifecycle_stage',
      remote_value: remote,
      local_value: local,
      remote_context: null,
    })),
    ...defaultIndustries.map(([remote, local]): ValueMapRow => ({
      kind: 'industry',
      remote_value: remote,
      local_value: local,
      remote_context: null,
    })),
  ];
}
