/**
 * Storage of associations between records: for each record, the records it
 * is associated with and by which type ids. Every association is kept in
 * both directions (contact→company 279 together with company→contact 280).
 */

import { associationType } from './association-types.ts';
import type { ObjectTypeName } from './object-types.ts';

export interface AssociationEdge {
  toType: ObjectTypeName;
  toId: string;
  typeIds: number[];
}

const key = (type: ObjectTypeName, id: string) => `${type}:${id}`;

function parseKey(value: string): [ObjectTypeName, string] {
  const separator = value.indexOf(':');
  return [value.slice(0, separator) as ObjectTypeName, value.slice(separator + 1)];
}

export class AssociationIndex {
  private edges = new Map<string, Map<string, Set<number>>>();

  clear(): void {
    this.edges.clear();
  }

  /** Adds `typeId` from→to and its inverse to→from; false when it was already there. */
  add(fromType: ObjectTypeName, fromId: string, toType: ObjectTypeName, toId: string, typeId: number): boolean {
    const forward = this.typeSet(fromType, fromId, toType, toId);
    if (forward.has(typeId)) return false;
    forward.add(typeId);
    const inverse = associationType(typeId)?.inverseTypeId;
    if (inverse !== undefined) this.typeSet(toType, toId, fromType, fromId).add(inverse);
    return true;
  }

  /** Removes `typeId` from→to and its inverse; false when it was not there. */
  remove(fromType: ObjectTypeName, fromId: string, toType: ObjectTypeName, toId: string, typeId: number): boolean {
    const forward = this.edges.get(key(fromType, fromId))?.get(key(toType, toId));
    if (!forward?.delete(typeId)) return false;
    const inverse = associationType(typeId)?.inverseTypeId;
    if (inverse !== undefined) this.edges.get(key(toType, toId))?.get(key(fromType, fromId))?.delete(inverse);
    return true;
  }

  typeIdsBetween(fromType: ObjectTypeName, fromId: string, toType: ObjectTypeName, toId: string): number[] {
    return [...(this.edges.get(key(fromType, fromId))?.get(key(toType, toId)) ?? [])];
  }

  /** Everything a record is associated with, optionally only records of one type. */
  targets(type: ObjectTypeName, id: string, toType?: ObjectTypeName): AssociationEdge[] {
    const result: AssociationEdge[] = [];
    for (const [target, typeIds] of this.edges.get(key(type, id)) ?? []) {
      const [targetType, targetId] = parseKey(target);
      if ((toType && targetType !== toType) || typeIds.size === 0) continue;
      result.push({ toType: targetType, toId: targetId, typeIds: [...typeIds].sort((a, b) => a - b) });
    }
    return result;
  }

  /** Forgets every association of a record, on both sides. */
  drop(type: ObjectTypeName, id: string): void {
    const ownKey = key(type, id);
    for (const target of this.edges.get(ownKey)?.keys() ?? []) this.edges.get(target)?.delete(ownKey);
    this.edges.delete(ownKey);
  }

  /** Moves a record's associations to another record of the same type (merge). */
  move(type: ObjectTypeName, fromId: string, toId: string): void {
    for (const edge of this.targets(type, fromId)) {
      if (edge.toType === type && edge.toId === toId) continue;
      for (const typeId of edge.typeIds) this.add(type, toId, edge.toType, edge.toId, typeId);
    }
    this.drop(type, fromId);
  }

  private typeSet(fromType: ObjectTypeName, fromId: string, toType: ObjectTypeName, toId: string): Set<number> {
    const fromKey = key(fromType, fromId);
    let targets = this.edges.get(fromKey);
    if (!targets) this.edges.set(fromKey, targets = new Map());
    const toKey = key(toType, toId);
    let typeIds = targets.get(toKey);
    if (!typeIds) targets.set(toKey, typeIds = new Set());
    return typeIds;
  }
}
