/**
 * Property definitions and groups per object type: the defaults of a new
 * portal plus whatever is created through `/crm/v3/properties`.
 */

import { DEFAULT_GROUPS, DEFAULT_PROPERTIES, type PropertyOption, type PropertyType } from './default-properties.ts';
import { HubSpotApiError, notFound, validationError } from './errors.ts';
import { OBJECT_TYPE_NAMES, type ObjectTypeName } from './object-types.ts';

export interface PropertyDefinition {
  name: string;
  label: string;
  type: PropertyType;
  fieldType: string;
  description: string;
  groupName: string;
  options: PropertyOption[];
  displayOrder: number;
  hasUniqueValue: boolean;
  hidden: boolean;
  formField: boolean;
  calculated: boolean;
  externalOptions: boolean;
  hubspotDefined: boolean;
  readOnlyValue: boolean;
  referencedObjectType?: string;
  createdAt: number;
  updatedAt: number;
  archived: boolean;
  archivedAt?: number;
}

export interface PropertyGroup {
  name: string;
  label: string;
  displayOrder: number;
  archived: boolean;
}

export const PROPERTY_TYPES = ['string', 'number', 'date', 'datetime', 'enumeration', 'bool', 'phone_number'] as const;
export const FIELD_TYPES = [
  'booleancheckbox',
  'calculation_equation',
  'checkbox',
  'date',
  'file',
  'html',
  'number',
  'phonenumber',
  'radio',
  'select',
  'text',
  'textarea',
] as const;

export interface PropertyCreateInput {
  name: string;
  label: string;
  type: PropertyType;
  fieldType: string;
  groupName: string;
  description?: string;
  options?: Array<{ label: string; value: string; displayOrder?: number; hidden?: boolean }>;
  displayOrder?: number;
  hasUniqueValue?: boolean;
  hidden?: boolean;
  formField?: boolean;
}

export type PropertyUpdateInput = Partial<Omit<PropertyCreateInput, 'name' | 'hasUniqueValue'>>;

const PROPERTY_NAME = /^[a-z][a-z0-9_]*$/;

export class PropertyRegistry {
  private readonly properties = new Map<ObjectTypeName, Map<string, PropertyDefinition>>();
  private readonly groups = new Map<ObjectTypeName, Map<string, PropertyGroup>>();

  constructor(private readonly now: () => number) {
    this.reset();
  }

  reset(): void {
    const at = this.now();
    for (const type of OBJECT_TYPE_NAMES) {
      const groups = new Map<string, PropertyGroup>();
      DEFAULT_GROUPS[type].forEach((group, index) =>
        groups.set(group.name, { ...group, displayOrder: index, archived: false })
      );
      this.groups.set(type, groups);
      const properties = new Map<string, PropertyDefinition>();
      DEFAULT_PROPERTIES[type].forEach((seed, index) => {
        properties.set(seed.name, {
          name: seed.name,
          label: seed.label,
          type: seed.type,
          fieldType: seed.fieldType,
          description: seed.description ?? '',
          groupName: seed.groupName,
          options: (seed.options ?? []).map((option, order) => {
            const [value, label] = Array.isArray(option) ? option : [option, option];
            return { value, label, displayOrder: order, hidden: false };
          }),
          displayOrder: index,
          hasUniqueValue: seed.hasUniqueValue ?? false,
          hidden: false,
          formField: !seed.readOnlyValue,
          calculated: false,
          externalOptions: seed.referencedObjectType !== undefined,
          hubspotDefined: true,
          readOnlyValue: seed.readOnlyValue ?? false,
          referencedObjectType: seed.referencedObjectType,
          createdAt: at,
          updatedAt: at,
          archived: false,
        });
      });
      this.properties.set(type, properties);
    }
  }

  get(type: ObjectTypeName, name: string): PropertyDefinition | undefined {
    const definition = this.properties.get(type)!.get(name);
    return definition && !definition.archived ? definition : undefined;
  }

  list(type: ObjectTypeName, archived = false): PropertyDefinition[] {
    return [...this.properties.get(type)!.values()].filter((definition) => definition.archived === archived);
  }

  uniqueProperties(type: ObjectTypeName): string[] {
    return this.list(type).filter((definition) => definition.hasUniqueValue).map((definition) => definition.name);
  }

  create(type: ObjectTypeName, input: PropertyCreateInput): PropertyDefinition {
    const properties = this.properties.get(type)!;
    const existing = properties.get(input.name);
    if (existing && !existing.archived) {
      throw new HubSpotApiError(409, 'OBJECT_ALREADY_EXISTS', `Property named '${input.name}' already exists.`);
    }
    if (!PROPERTY_NAME.test(input.name)) {
      throw validationError(
        `Property name '${input.name}' is invalid: use lower-case letters, digits and underscores, starting with a letter.`,
      );
    }
    this.requireGroup(type, input.groupName);
    if (input.type === 'enumeration' && !input.options?.length && input.fieldType !== 'booleancheckbox') {
      throw validationError(`Enumeration property '${input.name}' needs at least one option.`);
    }
    if (input.hasUniqueValue && input.type !== 'string' && input.type !== 'number') {
      throw validationError(`Only string and number properties can require unique values.`);
    }
    const at = this.now();
    const definition: PropertyDefinition = {
      name: input.name,
      label: input.label,
      type: input.type,
      fieldType: input.fieldType,
      description: input.description ?? '',
      groupName: input.groupName,
      options: normalizeOptions(input.options),
      displayOrder: input.displayOrder ?? -1,
      hasUniqueValue: input.hasUniqueValue ?? false,
      hidden: input.hidden ?? false,
      formField: input.formField ?? false,
      calculated: false,
      externalOptions: false,
      hubspotDefined: false,
      readOnlyValue: false,
      createdAt: at,
      updatedAt: at,
      archived: false,
    };
    properties.set(input.name, definition);
    return definition;
  }

  update(type: ObjectTypeName, name: string, input: PropertyUpdateInput): PropertyDefinition {
    const definition = this.get(type, name);
    if (!definition) throw notFound(`Property ${name} does not exist`);
    if (definition.hubspotDefined && (input.type || input.fieldType)) {
      throw new HubSpotApiError(400, 'READ_ONLY_VALUE', `Property ${name} is HubSpot-defined; its type cannot change.`);
    }
    if (input.groupName) this.requireGroup(type, input.groupName);
    const { options, ...rest } = input;
    Object.assign(definition, rest);
    if (options) definition.options = normalizeOptions(options);
    definition.updatedAt = this.now();
    return definition;
  }

  archive(type: ObjectTypeName, name: string): void {
    const definition = this.get(type, name);
    if (!definition) throw notFound(`Property ${name} does not exist`);
    if (definition.hubspotDefined) {
      throw validationError(`Property ${name} is HubSpot-defined and cannot be archived.`);
    }
    definition.archived = true;
    definition.archivedAt = this.now();
  }

  getGroup(type: ObjectTypeName, name: string): PropertyGroup | undefined {
    const group = this.groups.get(type)!.get(name);
    return group && !group.archived ? group : undefined;
  }

  listGroups(type: ObjectTypeName): PropertyGroup[] {
    return [...this.groups.get(type)!.values()].filter((group) => !group.archived);
  }

  createGroup(type: ObjectTypeName, input: { name: string; label: string; displayOrder?: number }): PropertyGroup {
    const groups = this.groups.get(type)!;
    if (groups.get(input.name) && !groups.get(input.name)!.archived) {
      throw new HubSpotApiError(409, 'OBJECT_ALREADY_EXISTS', `Property group named '${input.name}' already exists.`);
    }
    if (!PROPERTY_NAME.test(input.name)) {
      throw validationError(`Property group name '${input.name}' is invalid.`);
    }
    const group: PropertyGroup = {
      name: input.name,
      label: input.label,
      displayOrder: input.displayOrder ?? -1,
      archived: false,
    };
    groups.set(input.name, group);
    return group;
  }

  updateGroup(type: ObjectTypeName, name: string, input: { label?: string; displayOrder?: number }): PropertyGroup {
    const group = this.getGroup(type, name);
    if (!group) throw notFound(`Property group ${name} does not exist`);
    if (input.label !== undefined) group.label = input.label;
    if (input.displayOrder !== undefined) group.displayOrder = input.displayOrder;
    return group;
  }

  archiveGroup(type: ObjectTypeName, name: string): void {
    const group = this.getGroup(type, name);
    if (!group) throw notFound(`Property group ${name} does not exist`);
    if (this.list(type).some((definition) => definition.groupName === name)) {
      throw validationError(`Property group ${name} still contains properties.`);
    }
    group.archived = true;
  }

  private requireGroup(type: ObjectTypeName, groupName: string): void {
    if (!this.getGroup(type, groupName)) {
      throw validationError(`Property group ${groupName} does not exist.`);
    }
  }
}

function normalizeOptions(options: PropertyCreateInput['options']): PropertyOption[] {
  return (options ?? []).map((option, index) => ({
    label: option.label,
    value: option.value,
    displayOrder: option.displayOrder ?? index,
    hidden: option.hidden ?? false,
  }));
}

/** The `Property` JSON of the properties API. */
export function propertyJson(definition: PropertyDefinition): Record<string, unknown> {
  return {
    name: definition.name,
    label: definition.label,
    type: definition.type,
    fieldType: definition.fieldType,
    description: definition.description,
    groupName: definition.groupName,
    options: definition.options,
    displayOrder: definition.displayOrder,
    calculated: definition.calculated,
    externalOptions: definition.externalOptions,
    hasUniqueValue: definition.hasUniqueValue,
    hidden: definition.hidden,
    hubspotDefined: definition.hubspotDefined,
    formField: definition.formField,
    dataSensitivity: 'non_sensitive',
    modificationMetadata: {
      archivable: !definition.hubspotDefined,
      readOnlyDefinition: definition.hubspotDefined,
      readOnlyValue: definition.readOnlyValue,
    },
    ...(definition.referencedObjectType ? { referencedObjectType: definition.referencedObjectType } : {}),
    createdAt: new Date(definition.createdAt).toISOString(),
    updatedAt: new Date(definition.updatedAt).toISOString(),
    archived: definition.archived,
    ...(definition.archivedAt ? { archivedAt: new Date(definition.archivedAt).toISOString() } : {}),
  };
}

export function groupJson(group: PropertyGroup): Record<string, unknown> {
  return { name: group.name, label: group.label, displayOrder: group.displayOrder, archived: group.archived };
}
