// A tenant's conflict rules (sync.conflict_strategies): a default, per
// entity type and per field; the most specific rule applies to a field. The
// same zod schema validates the review API's input and the rows the worker
// reads, mirroring the table's constraints.
import { z } from 'zod';
import { type EntityType, entityTypes, fieldSchemas } from '../model/unified.ts';

export const conflictSources = ['hubspot', 'pipedrive', 'supabase'] as const;
export type ConflictSource = (typeof conflictSources)[number];
export const strategyNames = ['timestamp', 'source_priority', 'field_merge', 'manual_review'] as const;
export type StrategyName = (typeof strategyNames)[number];
export const mergeRules = ['remote_if_present', 'local_if_present', 'append', 'newest', 'max', 'min'] as const;
export type MergeRule = (typeof mergeRules)[number];

/** Ties go to the database first (the source of truth), then the CRMs. */
export const defaultSourcePriority: ConflictSource[] = ['supabase', 'hubspot', 'pipedrive'];
export const defaultSeparator = '; ';

const numericFields: Partial<Record<EntityType, string[]>> = {
  company: ['employee_count', 'annual_revenue'],
  deal: ['amount', 'probability'],
};

export const conflictStrategySchema = z.object({
  entity_type: z.enum(entityTypes).nullable().default(null),
  field: z.string().min(1).nullable().default(null),
  strategy: z.enum(strategyNames),
  source_priority: z.array(z.enum(conflictSources)).min(1).max(3)
    .refine((list) => new Set(list).size === list.length, 'sources must not repeat').nullable().default(null),
  merge_rule: z.enum(mergeRules).nullable().default(null),
  separator: z.string().min(1).max(10).nullable().default(null),
}).superRefine((rule, ctx) => {
  const issue = (message: string, path: string) => ctx.addIssue({ code: 'custom', message, path: [path] });
  if (rule.field !== null) {
    if (rule.entity_type === null) issue('a field rule needs its entity_type', 'entity_type');
    else if (!(rule.field in fieldSchemas[rule.entity_type].shape)) issue(`${rule.entity_type} has no synced field "${rule.field}"`, 'field');
  }
  if (rule.strategy === 'source_priority' && rule.source_priority === null) issue('source_priority needs the ordered list of sources', 'source_priority');
  if (rule.source_priority !== null && !['source_priority', 'timestamp'].includes(rule.strategy) && rule.merge_rule !== 'newest') {
    issue('source_priority applies to the source_priority, timestamp and newest rules only', 'source_priority');
  }
  if ((rule.strategy === 'field_merge') !== (rule.merge_rule !== null)) issue('merge_rule is required with field_merge and only with it', 'merge_rule');
  if (rule.separator !== null && rule.merge_rule !== 'append') issue('separator applies to the append rule only', 'separator');
  if ((rule.merge_rule === 'max' || rule.merge_rule === 'min') &&
      !(rule.entity_type && rule.field && numericFields[rule.entity_type]?.includes(rule.field))) {
    issue('max and min apply to one numeric field (company employee_count, annual_revenue; deal amount, probability)', 'merge_rule');
  }
});
export type ConflictStrategyRow = z.infer<typeof conflictStrategySchema>;

/** The rule that applies to one field, and which row it came from. */
export interface FieldRule {
  strategy: StrategyName;
  scope: 'field' | 'entity' | 'tenant' | 'default';
  sourcePriority: ConflictSource[];
  mergeRule?: MergeRule;
  separator: string;
}

export class ConflictPolicy {
  private readonly rows: ConflictStrategyRow[];

  constructor(rows: unknown[] = []) {
    this.rows = rows.map((row) => conflictStrategySchema.parse(row));
  }

  /**
   * Whether a write of this entity type must first read the CRM's current
   * state. A CRM change whose webhook has not arrived yet would otherwise be
   * overwritten unseen: harmless under the timestamp rule (the engine's write
   * is the later change in that CRM), but it would break a priority, merge or
   * review rule.
   */
  guardsWrites(entityType: EntityType): boolean {
    return this.rows.some((r) => (r.entity_type === null || r.entity_type === entityType) && r.strategy !== 'timestamp');
  }

  ruleFor(entityType: EntityType, field: string): FieldRule {
    const scoped: [FieldRule['scope'], ConflictStrategyRow | undefined][] = [
      ['field', this.rows.find((r) => r.entity_type === entityType && r.field === field)],
      ['entity', this.rows.find((r) => r.entity_type === entityType && r.field === null)],
      ['tenant', this.rows.find((r) => r.entity_type === null)],
    ];
    const [scope, row] = scoped.find(([, r]) => r !== undefined) ?? ['default', undefined];
    if (!row) return { strategy: 'timestamp', scope, sourcePriority: defaultSourcePriority, separator: defaultSeparator };
    return {
      strategy: row.strategy,
      scope,
      sourcePriority: row.source_priority ?? defaultSourcePriority,
      ...(row.merge_rule ? { mergeRule: row.merge_rule } : {}),
      separator: row.separator ?? defaultSeparator,
    };
  }
}
