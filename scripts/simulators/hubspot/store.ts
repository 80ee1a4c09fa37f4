/**
 * The in-memory CRM: records per object type, their associations, merges and
 * deletions. Every write goes through here so timestamps, unique values and
 * change notifications (which become webhooks) stay consistent.
 */

import type { SimulatorClock } from '../common/clock.ts';
import { type AssociationEdge, AssociationIndex } from './association-index.ts';
import { associationType, associationTypeBetween } from './association-types.ts';
import { HubSpotApiError, notFound, validationError } from './errors.ts';
import { OBJECT_TYPE_NAMES, objectTypeInfo, type ObjectTypeName } from './object-types.ts';
import type { PropertyRegistry } from './property-registry.ts';
import {
  checkPropertyValue,
  invalidPropertiesMessage,
  type PropertyIssue,
  type RawPropertyValue,
} from './property-values.ts';

export type ChangeSourceKind = 'INTEGRATION' | 'CRM_UI' | 'IMPORT';

/** Who made a write: an app through the API, a user in the CRM, or an import. */
export interface ChangeSource {
  changeSource: ChangeSourceKind;
  sourceId: string;
  /** Suppress change notifications (used for bulk seeding). */
  silent?: boolean;
}

export interface PropertyHistoryEntry {
  value: string;
  timestamp: number;
  sourceType: ChangeSourceKind;
  sourceId: string;
}

interface SearchVersion {
  visibleAt: number;
  properties: Record<string, string>;
  archived: boolean;
}

export interface CrmRecord {
  id: string;
  type: ObjectTypeName;
  properties: Record<string, string>;
  history: Record<string, PropertyHistoryEntry[]>;
  createdAt: number;
  updatedAt: number;
  archived: boolean;
  archivedAt?: number;
  /** Present only while search indexing lags behind writes. */
  searchVersions?: SearchVersion[];
}

/** What search sees of a record (it may lag behind the record itself). */
export interface SearchView {
  record: CrmRecord;
  properties: Record<string, string>;
}

interface ChangeBase {
  objectType: ObjectTypeName;
  occurredAt: number;
  source: ChangeSource;
}

export type StoreChange =
  | (ChangeBase & { kind: 'creation'; objectId: string })
  | (ChangeBase & { kind: 'propertyChange'; objectId: string; propertyName: string; propertyValue: string })
  | (ChangeBase & { kind: 'deletion' | 'restore' | 'privacyDeletion'; objectId: string })
  | (ChangeBase & {
    kind: 'merge';
    objectId: string;
    primaryObjectId: string;
    mergedObjectIds: string[];
    newObjectId: string;
    numberOfPropertiesMoved: number;
  })
  | (ChangeBase & {
    kind: 'associationChange';
    objectId: string;
    toObjectType: ObjectTypeName;
    toObjectId: string;
    associationTypeId: number;
    associationRemoved: boolean;
    isPrimaryAssociation: boolean;
  });

export interface AssociationInput {
  toId: string;
  typeId: number;
}

export type { AssociationEdge } from './association-index.ts';

/** Properties the store maintains itself; a merge never copies them. */
const SYSTEM_PROPERTIES = new Set([
  'hs_object_id',
  'createdate',
  'hs_createdate',
  'lastmodifieddate',
  'hs_lastmodifieddate',
  'hs_merged_object_ids',
]);

const key = (type: ObjectTypeName, id: string) => `${type}:${id}`;
const FIRST_ID = 1_000_001;

export class CrmStore {
  private nextId = FIRST_ID;
  private records = new Map<ObjectTypeName, Map<string, CrmRecord>>();
  /** Ids in ascending order per type (ids are allocated increasing). */
  private order = new Map<ObjectTypeName, string[]>();
  private unique = new Map<ObjectTypeName, Map<string, Map<string, string>>>();
  private mergedInto = new Map<string, string>();
  private links = new AssociationIndex();
  private listeners = new Set<(change: StoreChange) => void>();
  /** Milliseconds before a write shows up in search (HubSpot indexes asynchronously). */
  searchIndexDelayMs = 0;
  /** Results one search query can page through (HubSpot: 10,000); smaller in tests of code that must narrow its queries. */
  searchMaxResults = 10_000;

  constructor(
    private readonly registry: PropertyRegistry,
    private readonly clock: SimulatorClock,
    private readonly ownerExists: (ownerId: string) => boolean,
  ) {
    this.reset();
  }

  reset(): void {
    this.nextId = FIRST_ID;
    for (const type of OBJECT_TYPE_NAMES) {
      this.records.set(type, new Map());
      this.order.set(type, []);
      this.unique.set(type, new Map());
    }
    this.mergedInto.clear();
    this.links.clear();
  }

  onChange(listener: (change: StoreChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // ---------------------------------------------------------------- reads

  /** A live record; merged-away ids resolve to the record they were merged into. */
  get(type: ObjectTypeName, id: string, options: { includeArchived?: boolean } = {}): CrmRecord | undefined {
    let resolved = id;
    for (let hops = 0; hops < 100; hops++) {
      const next = this.mergedInto.get(key(type, resolved));
      if (!next) break;
      resolved = next;
    }
    const record = this.records.get(type)!.get(resolved);
    if (!record) return undefined;
    return record.archived && !options.includeArchived ? undefined : record;
  }

  /** A live record by the value of a property (`email`, or any unique property). */
  findByProperty(type: ObjectTypeName, property: string, value: string): CrmRecord | undefined {
    if (property === 'hs_object_id') return this.get(type, value);
    const index = this.unique.get(type)!.get(property);
    if (index) {
      const id = index.get(normalizeUnique(property, value));
      return id ? this.get(type, id) : undefined;
    }
    for (const record of this.records.get(type)!.values()) {
      if (!record.archived && record.properties[property] === value) return record;
    }
    return undefined;
  }

  /** One page of records in id order, starting at the first id >= `after`. */
  list(
    type: ObjectTypeName,
    options: { archived: boolean; after?: string; limit: number },
  ): { records: CrmRecord[]; nextAfter?: string } {
    const ids = this.order.get(type)!;
    const records = this.records.get(type)!;
    let index = options.after === undefined ? 0 : lowerBound(ids, Number(options.after));
    const page: CrmRecord[] = [];
    for (; index < ids.length && page.length < options.limit; index++) {
      const record = records.get(ids[index])!;
      if (record.archived === options.archived) page.push(record);
    }
    for (; index < ids.length; index++) {
      if (records.get(ids[index])!.archived === options.archived) {
        return { records: page, nextAfter: ids[index] };
      }
    }
    return { records: page };
  }

  /** Every record of a type (live and archived) in id order. */
  *all(type: ObjectTypeName): IterableIterator<CrmRecord> {
    const records = this.records.get(type)!;
    for (const id of this.order.get(type)!) yield records.get(id)!;
  }

  count(type: ObjectTypeName, archived = false): number {
    let total = 0;
    for (const record of this.records.get(type)!.values()) if (record.archived === archived) total++;
    return total;
  }

  /** The record as search sees it now, or undefined while it is not (or no longer) indexed. */
  searchView(record: CrmRecord, nowMs = Date.now()): SearchView | undefined {
    const versions = record.searchVersions;
    if (!versions) return record.archived ? undefined : { record, properties: record.properties };
    let visible = -1;
    for (let i = 0; i < versions.length; i++) if (versions[i].visibleAt <= nowMs) visible = i;
    if (visible > 0) versions.splice(0, visible);
    if (visible === -1) return undefined;
    const version = versions[0];
    if (versions.length === 1 && version.visibleAt <= nowMs) record.searchVersions = undefined;
    return version.archived ? undefined : { record, properties: version.properties };
  }

  associations(type: ObjectTypeName, id: string, toType: ObjectTypeName): AssociationEdge[] {
    return this.links.targets(type, id, toType)
      .filter((edge) => this.get(edge.toType, edge.toId) !== undefined)
      .sort((a, b) => Number(a.toId) - Number(b.toId));
  }

  // --------------------------------------------------------------- writes

  /**
   * Checks and normalises the properties of a write. Throws a 400 listing
   * every invalid property, or a 409 when a unique value is taken.
   */
  validate(
    type: ObjectTypeName,
    input: Record<string, RawPropertyValue>,
    options: { creating: boolean; selfId?: string },
  ): Record<string, string> {
    const issues: PropertyIssue[] = [];
    const values: Record<string, string> = {};
    for (const [name, raw] of Object.entries(input)) {
      const definition = this.registry.get(type, name);
      if (!definition) {
        issues.push({ name, error: 'PROPERTY_DOESNT_EXIST', message: `Property "${name}" does not exist` });
        continue;
      }
      if (definition.readOnlyValue) {
        issues.push({ name, error: 'READ_ONLY_VALUE', message: `Property "${name}" is a read only property` });
        continue;
      }
      const checked = checkPropertyValue(definition, raw, this.ownerExists);
      if (!checked.ok) issues.push(checked.issue);
      else values[name] = type === 'contacts' && name === 'email' ? checked.value.trim().toLowerCase() : checked.value;
    }
    if (options.creating) {
      for (const name of objectTypeInfo(type).requiredOnCreate) {
        if (!values[name] && !issues.some((issue) => issue.name === name)) {
          issues.push({ name, error: 'REQUIRED_PROPERTY', message: `Property "${name}" is required` });
        }
      }
    }
    if (issues.length > 0) {
      throw validationError(
        invalidPropertiesMessage(issues),
        issues.map((issue) => ({ message: issue.message, code: issue.error, context: { propertyName: [issue.name] } })),
      );
    }
    for (const name of this.registry.uniqueProperties(type)) {
      const value = values[name];
      if (!value) continue;
      const existing = this.unique.get(type)!.get(name)?.get(normalizeUnique(name, value));
      if (existing && existing !== options.selfId) {
        const info = objectTypeInfo(type);
        const message = type === 'contacts' && name === 'email'
          ? `Contact already exists. Existing ID: ${existing}`
          : `A ${info.singular} with ${name} ${JSON.stringify(value)} already exists. Existing ID: ${existing}`;
        throw new HubSpotApiError(409, 'CONFLICT', message, {
          context: { existingId: [existing], propertyName: [name] },
        });
      }
    }
    return values;
  }

  /** Checks association inputs of a create before anything is written. */
  checkAssociationInputs(
    type: ObjectTypeName,
    associations: AssociationInput[],
  ): Array<AssociationInput & { toType: ObjectTypeName }> {
    return associations.map((input) => {
      const definition = associationType(input.typeId);
      if (!definition || definition.from !== type) {
        throw validationError(
          `${input.typeId} is not a valid association type id for ${objectTypeInfo(type).singular}`,
        );
      }
      if (!this.get(definition.to, input.toId)) {
        throw validationError(`No ${definition.to} with id ${input.toId} exists to associate with`, undefined, {
          id: [input.toId],
        });
      }
      return { ...input, toType: definition.to };
    });
  }

  create(
    type: ObjectTypeName,
    input: Record<string, RawPropertyValue>,
    source: ChangeSource,
    options: { associations?: AssociationInput[]; at?: number } = {},
  ): CrmRecord {
    const values = this.validate(type, input, { creating: true });
    const associations = this.checkAssociationInputs(type, options.associations ?? []);
    return this.insert(type, values, source, options.at ?? this.clock.now(), associations);
  }

  /** Creates records whose properties were already validated (bulk seeding). */
  insertValidated(type: ObjectTypeName, values: Record<string, string>, source: ChangeSource, at: number): CrmRecord {
    return this.insert(type, values, source, at, []);
  }

  private insert(
    type: ObjectTypeName,
    values: Record<string, string>,
    source: ChangeSource,
    at: number,
    associations: Array<AssociationInput & { toType: ObjectTypeName }>,
  ): CrmRecord {
    const info = objectTypeInfo(type);
    const id = String(this.nextId++);
    const iso = new Date(at).toISOString();
    const record: CrmRecord = { id, type, properties: {}, history: {}, createdAt: at, updatedAt: at, archived: false };
    this.records.get(type)!.set(id, record);
    this.order.get(type)!.push(id);
    const system: Record<string, string> = {
      hs_object_id: id,
      [info.createdProperty]: iso,
      [info.lastModifiedProperty]: iso,
    };
    for (const [name, value] of Object.entries({ ...system, ...values })) {
      this.setProperty(record, name, value, at, source);
    }
    if (values[info.createdProperty]) record.createdAt = Date.parse(values[info.createdProperty]);
    this.recordSearchVersion(record, true);
    this.emit({ kind: 'creation', objectType: type, objectId: id, occurredAt: at, source });
    for (const [name, value] of Object.entries(values)) {
      if (value !== '') {
        this.emit({
          kind: 'propertyChange',
          objectType: type,
          objectId: id,
          propertyName: name,
          propertyValue: value,
          occurredAt: at,
          source,
        });
      }
    }
    for (const association of associations) {
      this.associate(type, id, association.toType, association.toId, [association.typeId], source, at);
    }
    return record;
  }

  /** Applies a partial update; returns the record and the names of properties whose value changed. */
  update(
    type: ObjectTypeName,
    id: string,
    input: Record<string, RawPropertyValue>,
    source: ChangeSource,
    options: { at?: number } = {},
  ): { record: CrmRecord; changed: string[] } {
    const record = this.get(type, id);
    if (!record) throw notFound();
    const values = this.validate(type, input, { creating: false, selfId: record.id });
    const at = options.at ?? this.clock.now();
    const changed = Object.entries(values)
      .filter(([name, value]) => this.setProperty(record, name, value, at, source))
      .map(([name]) => name);
    if (changed.length === 0) return { record, changed };
    this.touch(record, at, source);
    for (const name of changed) {
      this.emit({
        kind: 'propertyChange',
        objectType: type,
        objectId: record.id,
        propertyName: name,
        propertyValue: record.properties[name] ?? '',
        occurredAt: at,
        source,
      });
    }
    return { record, changed };
  }

  /** Archives (soft-deletes) a record; false when there was nothing to archive. */
  archive(type: ObjectTypeName, id: string, source: ChangeSource, at = this.clock.now()): boolean {
    const record = this.get(type, id);
    if (!record) return false;
    record.archived = true;
    record.archivedAt = at;
    this.unindexUnique(record);
    this.touch(record, at, source, false);
    this.emit({ kind: 'deletion', objectType: type, objectId: record.id, occurredAt: at, source });
    return true;
  }

  restore(type: ObjectTypeName, id: string, source: ChangeSource): CrmRecord {
    const record = this.records.get(type)!.get(id);
    if (!record || !record.archived) throw notFound();
    for (const name of this.registry.uniqueProperties(type)) {
      const value = record.properties[name];
      const holder = value ? this.unique.get(type)!.get(name)?.get(normalizeUnique(name, value)) : undefined;
      if (holder) {
        throw new HubSpotApiError(409, 'CONFLICT', `Cannot restore: ${name} ${value} now belongs to ${holder}`);
      }
    }
    const at = this.clock.now();
    record.archived = false;
    record.archivedAt = undefined;
    this.indexUnique(record);
    this.touch(record, at, source);
    this.emit({ kind: 'restore', objectType: type, objectId: id, occurredAt: at, source });
    return record;
  }

  /** Permanently deletes a contact (GDPR); emits deletion and privacyDeletion. */
  purge(type: ObjectTypeName, id: string, source: ChangeSource): boolean {
    const record = this.get(type, id, { includeArchived: true });
    if (!record) return false;
    const at = this.clock.now();
    this.unindexUnique(record);
    this.records.get(type)!.delete(record.id);
    this.removeFromOrder(type, record.id);
    this.links.drop(type, record.id);
    for (const [merged, into] of this.mergedInto) {
      if (into === record.id && merged.startsWith(`${type}:`)) this.mergedInto.delete(merged);
    }
    this.emit({ kind: 'deletion', objectType: type, objectId: record.id, occurredAt: at, source });
    if (type === 'contacts') {
      this.emit({ kind: 'privacyDeletion', objectType: type, objectId: record.id, occurredAt: at, source });
    }
    return true;
  }

  /**
   * Merges `mergedId` into `primaryId`: the primary keeps its id and values,
   * empty primary properties take the merged record's values, associations
   * move over, and the merged id resolves to the primary from then on.
   */
  merge(type: ObjectTypeName, primaryId: string, mergedId: string, source: ChangeSource): CrmRecord {
    if (!objectTypeInfo(type).mergeable) throw validationError(`${type} cannot be merged`);
    if (primaryId === mergedId) throw validationError('Cannot merge an object with itself');
    const primary = this.records.get(type)!.get(primaryId);
    const merged = this.records.get(type)!.get(mergedId);
    if (!primary || primary.archived) throw notFound(`Object ${primaryId} not found`);
    if (!merged || merged.archived) throw notFound(`Object ${mergedId} not found`);
    const at = this.clock.now();
    this.unindexUnique(merged);
    let moved = 0;
    for (const [name, value] of Object.entries(merged.properties)) {
      if (SYSTEM_PROPERTIES.has(name) || value === '') continue;
      if (type === 'contacts' && name === 'email' && primary.properties.email && primary.properties.email !== value) {
        const additional = (primary.properties.hs_additional_emails ?? '').split(';').filter(Boolean);
        this.setProperty(primary, 'hs_additional_emails', [...additional, value].join(';'), at, source);
        continue;
      }
      if (primary.properties[name] === undefined && this.setProperty(primary, name, value, at, source)) moved++;
    }
    const createdProperty = objectTypeInfo(type).createdProperty;
    if (merged.createdAt < primary.createdAt) {
      primary.createdAt = merged.createdAt;
      this.setProperty(primary, createdProperty, new Date(merged.createdAt).toISOString(), at, source);
    }
    const mergedIds = [
      ...(primary.properties.hs_merged_object_ids ?? '').split(';'),
      ...(merged.properties.hs_merged_object_ids ?? '').split(';'),
      mergedId,
    ].filter(Boolean);
    this.setProperty(primary, 'hs_merged_object_ids', mergedIds.join(';'), at, source);
    this.links.move(type, mergedId, primaryId);
    this.records.get(type)!.delete(mergedId);
    this.removeFromOrder(type, mergedId);
    this.mergedInto.set(key(type, mergedId), primaryId);
    this.touch(primary, at, source);
    this.emit({
      kind: 'merge',
      objectType: type,
      objectId: primaryId,
      primaryObjectId: primaryId,
      mergedObjectIds: [mergedId],
      newObjectId: primaryId,
      numberOfPropertiesMoved: moved,
      occurredAt: at,
      source,
    });
    return primary;
  }

  /**
   * Adds association types between two live records, in both directions.
   * Returns the type ids (from→to) that were newly added.
   */
  associate(
    fromType: ObjectTypeName,
    fromId: string,
    toType: ObjectTypeName,
    toId: string,
    typeIds: number[],
    source: ChangeSource,
    at = this.clock.now(),
  ): number[] {
    const from = this.get(fromType, fromId);
    const to = this.get(toType, toId);
    if (!from) throw notFound(`No ${fromType} with id ${fromId}`);
    if (!to) throw notFound(`No ${toType} with id ${toId}`);
    const added: number[] = [];
    for (const typeId of typeIds) {
      const definition = associationTypeBetween(fromType, toType, typeId);
      if (!definition) {
        throw validationError(`${typeId} is not a valid association type id from ${fromType} to ${toType}`);
      }
      if (!this.links.add(fromType, from.id, toType, to.id, typeId)) continue;
      added.push(typeId);
      this.emitAssociation(fromType, from.id, toType, to.id, typeId, false, at, source);
    }
    return added;
  }

  /** Removes the given association types (all when omitted); returns how many were removed. */
  unassociate(
    fromType: ObjectTypeName,
    fromId: string,
    toType: ObjectTypeName,
    toId: string,
    typeIds: number[] | undefined,
    source: ChangeSource,
  ): number {
    const existing = this.links.typeIdsBetween(fromType, fromId, toType, toId);
    if (existing.length === 0) return 0;
    const at = this.clock.now();
    let removed = 0;
    for (const typeId of typeIds ?? existing) {
      if (!this.links.remove(fromType, fromId, toType, toId, typeId)) continue;
      removed++;
      this.emitAssociation(fromType, fromId, toType, toId, typeId, true, at, source);
    }
    return removed;
  }

  // -------------------------------------------------------------- helpers

  private setProperty(record: CrmRecord, name: string, value: string, at: number, source: ChangeSource): boolean {
    const previous = record.properties[name] ?? '';
    if (previous === value) return false;
    const uniqueIndex = record.archived ? undefined : this.unique.get(record.type)!;
    if (uniqueIndex && previous && this.registry.get(record.type, name)?.hasUniqueValue) {
      uniqueIndex.get(name)?.delete(normalizeUnique(name, previous));
    }
    if (value === '') delete record.properties[name];
    else record.properties[name] = value;
    if (uniqueIndex && value && this.registry.get(record.type, name)?.hasUniqueValue) {
      if (!uniqueIndex.has(name)) uniqueIndex.set(name, new Map());
      uniqueIndex.get(name)!.set(normalizeUnique(name, value), record.id);
    }
    const history = (record.history[name] ??= []);
    history.unshift({ value, timestamp: at, sourceType: source.changeSource, sourceId: source.sourceId });
    if (history.length > 20) history.length = 20;
    return true;
  }

  private touch(record: CrmRecord, at: number, source: ChangeSource, bumpModified = true): void {
    if (bumpModified) {
      record.updatedAt = at;
      this.setProperty(
        record,
        objectTypeInfo(record.type).lastModifiedProperty,
        new Date(at).toISOString(),
        at,
        source,
      );
    }
    this.recordSearchVersion(record, false);
  }

  private recordSearchVersion(record: CrmRecord, isNew: boolean): void {
    if (this.searchIndexDelayMs <= 0 && !record.searchVersions) return;
    const version = {
      visibleAt: Date.now() + this.searchIndexDelayMs,
      properties: { ...record.properties },
      archived: record.archived,
    };
    if (record.searchVersions) record.searchVersions.push(version);
    else if (isNew) record.searchVersions = [version];
    else {
      // Already indexed before the delay was switched on: the old state stays visible meanwhile.
      record.searchVersions = [{ visibleAt: 0, properties: { ...record.properties }, archived: false }, version];
    }
  }

  private indexUnique(record: CrmRecord): void {
    for (const name of this.registry.uniqueProperties(record.type)) {
      const value = record.properties[name];
      if (!value) continue;
      const index = this.unique.get(record.type)!;
      if (!index.has(name)) index.set(name, new Map());
      index.get(name)!.set(normalizeUnique(name, value), record.id);
    }
  }

  private unindexUnique(record: CrmRecord): void {
    for (const [name, index] of this.unique.get(record.type)!) {
      const value = record.properties[name];
      if (value && index.get(normalizeUnique(name, value)) === record.id) index.delete(normalizeUnique(name, value));
    }
  }

  private removeFromOrder(type: ObjectTypeName, id: string): void {
    const ids = this.order.get(type)!;
    const index = lowerBound(ids, Number(id));
    if (ids[index] === id) ids.splice(index, 1);
  }

  private emitAssociation(
    fromType: ObjectTypeName,
    fromId: string,
    toType: ObjectTypeName,
    toId: string,
    typeId: number,
    removed: boolean,
    at: number,
    source: ChangeSource,
  ): void {
    const definition = associationType(typeId)!;
    const base = { kind: 'associationChange' as const, associationRemoved: removed, occurredAt: at, source };
    this.emit({
      ...base,
      objectType: fromType,
      objectId: fromId,
      toObjectType: toType,
      toObjectId: toId,
      associationTypeId: typeId,
      isPrimaryAssociation: definition.isPrimary,
    });
    this.emit({
      ...base,
      objectType: toType,
      objectId: toId,
      toObjectType: fromType,
      toObjectId: fromId,
      associationTypeId: definition.inverseTypeId,
      isPrimaryAssociation: definition.isPrimary,
    });
  }

  private emit(change: StoreChange): void {
    if (change.source.silent) return;
    for (const listener of this.listeners) listener(change);
  }
}

function normalizeUnique(property: string, value: string): string {
  return property === 'email' ? value.trim().toLowerCase() : value;
}

/** Index of the first id whose number is >= target (ids are ascending). */
function lowerBound(ids: string[], target: number): number {
  let low = 0;
  let high = ids.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (Number(ids[mid]) < target) low = mid + 1;
    else high = mid;
  }
  return low;
}
