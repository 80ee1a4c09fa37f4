/**
 * The fields of persons, organizations, deals and activities as the
 * `/v1/*Fields` endpoints list them: standard fields under their v1 keys,
 * and custom fields whose key is a 40-character hex hash. The hashes are
 * derived from the company id and the seed, so two simulated accounts never
 * share them and a sync engine must resolve them by name, as with Pipedrive.
 */

import { createHash } from 'node:crypto';
import { badRequest, notFound } from './errors.ts';
import { isDate, TIME, v1Time } from './timestamps.ts';

export type FieldEntity = 'person' | 'organization' | 'deal' | 'activity';
export const FIELD_ENTITIES: readonly FieldEntity[] = ['person', 'organization', 'deal', 'activity'];

/** Types a custom field can be created with (`POST /v1/personFields`). */
export const CUSTOM_FIELD_TYPES = [
  'address',
  'date',
  'daterange',
  'double',
  'enum',
  'monetary',
  'org',
  'people',
  'phone',
  'set',
  'text',
  'time',
  'timerange',
  'user',
  'varchar',
  'varchar_auto',
  'visible_to',
] as const;
export type CustomFieldType = (typeof CUSTOM_FIELD_TYPES)[number];

export interface FieldOption {
  id: number;
  label: string;
}

export interface FieldDefinition {
  id: number;
  entity: FieldEntity;
  key: string;
  name: string;
  fieldType: string;
  custom: boolean;
  options: FieldOption[] | null;
  orderNr: number;
  mandatory: boolean;
  addVisible: boolean;
  active: boolean;
  createdAt: number;
  updatedAt: number;
  createdBy: number;
}

type StandardField = [key: string, name: string, fieldType: string, mandatory?: boolean];

const STANDARD_FIELDS: Record<FieldEntity, StandardField[]> = {
  person: [
    ['id', 'ID', 'int'],
    ['name', 'Name', 'varchar', true],
    ['first_name', 'First name', 'varchar'],
    ['last_name', 'Last name', 'varchar'],
    ['org_id', 'Organization', 'org'],
    ['owner_id', 'Owner', 'user'],
    ['email', 'Email', 'varchar'],
    ['phone', 'Phone', 'phone'],
    ['label_ids', 'Labels', 'set'],
    ['visible_to', 'Visible to', 'visible_to'],
    ['add_time', 'Person created', 'date'],
    ['update_time', 'Update time', 'date'],
  ],
  organization: [
    ['id', 'ID', 'int'],
    ['name', 'Name', 'varchar', true],
    ['owner_id', 'Owner', 'user'],
    ['address', 'Address', 'address'],
    ['label_ids', 'Labels', 'set'],
    ['visible_to', 'Visible to', 'visible_to'],
    ['add_time', 'Organization created', 'date'],
    ['update_time', 'Update time', 'date'],
  ],
  deal: [
    ['id', 'ID', 'int'],
    ['title', 'Title', 'varchar', true],
    ['value', 'Value', 'monetary'],
    ['currency', 'Currency', 'varchar_options'],
    ['org_id', 'Organization', 'org'],
    ['person_id', 'Contact person', 'people'],
    ['pipeline_id', 'Pipeline', 'double'],
    ['stage_id', 'Stage', 'stage'],
    ['status', 'Status', 'status'],
    ['probability', 'Probability', 'double'],
    ['expected_close_date', 'Expected close date', 'date'],
    ['user_id', 'Owner', 'user'],
    ['lost_reason', 'Lost reason', 'varchar'],
    ['won_time', 'Won time', 'date'],
    ['lost_time', 'Lost time', 'date'],
    ['close_time', 'Deal closed on', 'date'],
    ['visible_to', 'Visible to', 'visible_to'],
    ['add_time', 'Deal created', 'date'],
    ['update_time', 'Update time', 'date'],
  ],
  activity: [
    ['id', 'ID', 'int'],
    ['subject', 'Subject', 'varchar', true],
    ['type', 'Type', 'varchar'],
    ['due_date', 'Due date', 'date'],
    ['due_time', 'Due time', 'time'],
    ['duration', 'Duration', 'time'],
    ['done', 'Done', 'enum'],
    ['user_id', 'Assigned to user', 'user'],
    ['deal_id', 'Deal', 'deal'],
    ['person_id', 'Contact person', 'people'],
    ['org_id', 'Organization', 'org'],
    ['note', 'Note', 'text'],
    ['add_time', 'Add time', 'date'],
    ['update_time', 'Update time', 'date'],
  ],
};

/** The custom fields a fresh company has: the ones a sync engine maps. */
export const SEEDED_CUSTOM_FIELDS: Record<
  FieldEntity,
  Array<{ name: string; fieldType: CustomFieldType; options?: string[] }>
> = {
  person: [
    { name: 'stage', fieldType: 'enum', options: ['Lead', 'Marketing qualified', 'Sales qualified', 'Customer'] },
    { name: 'source', fieldType: 'varchar' },
  ],
  organization: [
    { name: 'domain', fieldType: 'varchar' },
    {
      name: 'industry',
      fieldType: 'enum',
      options: ['Software', 'Retail', 'Financial services', 'Healthcare', 'Logistics'],
    },
    { name: 'revenue', fieldType: 'monetary' },
  ],
  deal: [{ name: 'source', fieldType: 'varchar' }],
  activity: [],
};

/** A 40-character hex key, stable for an account (company and seed) and different across accounts. */
export function customFieldKey(companyId: number, seed: number, entity: FieldEntity, name: string, n: number): string {
  return createHash('sha1').update(`${companyId}:${seed}:${entity}:${name}:${n}`).digest('hex');
}

export class FieldRegistry {
  private fields: FieldDefinition[] = [];
  private nextFieldId = 9_001;
  private nextOptionId = 1;

  constructor(
    private readonly companyId: number,
    private readonly seed: number,
    private readonly now: () => number,
    private readonly adminUserId: () => number,
  ) {
    this.reset();
  }

  reset(): void {
    const at = this.now();
    this.fields = [];
    this.nextFieldId = 9_001;
    // Option ids differ between accounts too, so no one hard-codes them.
    this.nextOptionId = 100 +
      parseInt(customFieldKey(this.companyId, this.seed, 'person', '#options', 0).slice(0, 4), 16);
    for (const entity of FIELD_ENTITIES) {
      STANDARD_FIELDS[entity].forEach(([key, name, fieldType, mandatory], index) => {
        this.fields.push({
          id: this.nextFieldId++,
          entity,
          key,
          name,
          fieldType,
          custom: false,
          options: fieldType === 'enum' && key === 'done'
            ? [{ id: 0, label: 'To do' }, { id: 1, label: 'Done' }]
            : null,
          orderNr: index,
          mandatory: mandatory ?? false,
          addVisible: true,
          active: true,
          createdAt: at,
          updatedAt: at,
          createdBy: this.adminUserId(),
        });
      });
      for (const seeded of SEEDED_CUSTOM_FIELDS[entity]) {
        this.addCustom(entity, { name: seeded.name, fieldType: seeded.fieldType, options: seeded.options });
      }
    }
  }

  list(entity: FieldEntity): FieldDefinition[] {
    return this.fields.filter((field) => field.entity === entity && field.active);
  }

  get(entity: FieldEntity, id: number): FieldDefinition | undefined {
    return this.fields.find((field) => field.entity === entity && field.id === id && field.active);
  }

  /** Active custom fields of an entity, in creation order. */
  customFields(entity: FieldEntity): FieldDefinition[] {
    return this.fields.filter((field) => field.entity === entity && field.custom && field.active);
  }

  customField(entity: FieldEntity, key: string): FieldDefinition | undefined {
    return this.fields.find((field) => field.entity === entity && field.custom && field.active && field.key === key);
  }

  /** The custom field with this name (the way a sync engine resolves a hash). */
  customFieldByName(entity: FieldEntity, name: string): FieldDefinition | undefined {
    return this.customFields(entity).find((field) => field.name === name);
  }

  addCustom(
    entity: FieldEntity,
    input: { name: string; fieldType: CustomFieldType; options?: string[]; addVisible?: boolean },
    userId = this.adminUserId(),
  ): FieldDefinition {
    if ((input.fieldType === 'enum' || input.fieldType === 'set') && !input.options?.length) {
      throw badRequest(`Field of type ${input.fieldType} needs options`);
    }
    const sameName = this.fields.filter((field) => field.entity === entity && field.name === input.name).length;
    const at = this.now();
    const field: FieldDefinition = {
      id: this.nextFieldId++,
      entity,
      key: customFieldKey(this.companyId, this.seed, entity, input.name, sameName),
      name: input.name,
      fieldType: input.fieldType,
      custom: true,
      options: input.options?.length ? input.options.map((label) => ({ id: this.nextOptionId++, label })) : null,
      orderNr: this.fields.filter((candidate) => candidate.entity === entity).length,
      mandatory: false,
      addVisible: input.addVisible ?? false,
      active: true,
      createdAt: at,
      updatedAt: at,
      createdBy: userId,
    };
    this.fields.push(field);
    return field;
  }

  /** Deletes a custom field; standard fields cannot be deleted. */
  remove(entity: FieldEntity, id: number): FieldDefinition {
    const field = this.get(entity, id);
    if (!field) throw notFound('Field');
    if (!field.custom) throw badRequest('Standard fields cannot be deleted');
    field.active = false;
    field.updatedAt = this.now();
    return field;
  }
}

/**
 * Checks a custom field value as API v2 takes it and returns the value to
 * store: text as strings, `double` as numbers, `monetary` as
 * `{value, currency}`, `enum` as an option id, `set` as option ids, `date`
 * as `YYYY-MM-DD`, `user`/`org`/`people` as ids. null clears the field.
 */
export function checkCustomValue(field: FieldDefinition, value: unknown): unknown {
  if (value === null) return null;
  const fail = (expected: string): never => {
    throw badRequest(`Custom field ${field.key} (${field.name}) expects ${expected}, got ${JSON.stringify(value)}`);
  };
  const optionIds = new Set((field.options ?? []).map((option) => option.id));
  switch (field.fieldType) {
    case 'varchar':
    case 'varchar_auto':
    case 'text':
    case 'phone':
      return typeof value === 'string' ? value : fail('a string');
    case 'address':
      return typeof value === 'string' || (typeof value === 'object' && !Array.isArray(value))
        ? value
        : fail('an address');
    case 'double':
      return typeof value === 'number' && Number.isFinite(value) ? value : fail('a number');
    case 'monetary': {
      const money = value as { value?: unknown; currency?: unknown };
      if (
        typeof money !== 'object' || Array.isArray(money) || typeof money.value !== 'number' ||
        (money.currency !== undefined && (typeof money.currency !== 'string' || !/^[A-Z]{3}$/.test(money.currency)))
      ) {
        return fail('{value: number, currency: "USD"}');
      }
      return { value: money.value, currency: money.currency ?? 'USD' };
    }
    case 'enum':
      return Number.isInteger(value) && optionIds.has(value as number)
        ? value
        : fail(`one of the option ids ${[...optionIds].join(', ')}`);
    case 'set':
      return Array.isArray(value) && value.every((item) => Number.isInteger(item) && optionIds.has(item))
        ? [...new Set(value as number[])]
        : fail(`an array of the option ids ${[...optionIds].join(', ')}`);
    case 'date':
      return typeof value === 'string' && isDate(value) ? value : fail('a date YYYY-MM-DD');
    case 'time':
      return typeof value === 'string' && TIME.test(value) ? value : fail('a time HH:MM');
    case 'user':
    case 'org':
    case 'people':
      return Number.isInteger(value) ? value : fail('an id');
    default:
      return value;
  }
}

/** A field as the v1 fields endpoints return it. */
export function fieldJson(field: FieldDefinition): Record<string, unknown> {
  return {
    id: field.id,
    key: field.key,
    name: field.name,
    order_nr: field.orderNr,
    field_type: field.fieldType,
    add_time: v1Time(field.createdAt),
    update_time: v1Time(field.updatedAt),
    last_updated_by_user_id: field.createdBy,
    created_by_user_id: field.createdBy,
    active_flag: field.active,
    edit_flag: field.custom,
    index_visible_flag: true,
    details_visible_flag: true,
    add_visible_flag: field.addVisible,
    important_flag: false,
    bulk_edit_allowed: field.key !== 'id',
    searchable_flag: field.custom && ['varchar', 'text', 'varchar_auto'].includes(field.fieldType),
    filtering_allowed: true,
    sortable_flag: true,
    mandatory_flag: field.mandatory,
    options: field.options ? field.options.map((option) => ({ ...option })) : null,
  };
}
