/** Renders records as HubSpot's `SimplePublicObject` JSON. */

import { associationType } from '../association-types.ts';
import { objectTypeInfo, type ObjectTypeName } from '../object-types.ts';
import type { SimulatorState } from '../state.ts';
import type { CrmRecord } from '../store.ts';

export interface ObjectJsonOptions {
  /** Properties asked for; when absent the type's default properties are returned. */
  properties?: string[];
  /** Extra properties to include with the defaults (those a write just set). */
  alsoInclude?: string[];
  propertiesWithHistory?: string[];
  associations?: ObjectTypeName[];
  objectWriteTraceId?: string | null;
  /** Property values to render instead of the record's own (search may lag). */
  values?: Record<string, string>;
}

export function objectJson(
  state: SimulatorState,
  record: CrmRecord,
  options: ObjectJsonOptions = {},
): Record<string, unknown> {
  const info = objectTypeInfo(record.type);
  const values = options.values ?? record.properties;
  const names = options.properties && options.properties.length > 0
    ? [...options.properties, 'hs_object_id', info.createdProperty, info.lastModifiedProperty]
    : [...info.defaultProperties, ...(options.alsoInclude ?? [])];
  const properties: Record<string, string | null> = {};
  for (const name of [...new Set(names)].sort()) {
    if (state.registry.get(record.type, name)) properties[name] = values[name] ?? null;
  }

  const json: Record<string, unknown> = {
    id: record.id,
    properties,
    createdAt: new Date(record.createdAt).toISOString(),
    updatedAt: new Date(record.updatedAt).toISOString(),
    archived: record.archived,
  };
  if (record.archived && record.archivedAt !== undefined) json.archivedAt = new Date(record.archivedAt).toISOString();

  if (options.propertiesWithHistory?.length) {
    const history: Record<string, unknown[]> = {};
    for (const name of options.propertiesWithHistory) {
      if (!state.registry.get(record.type, name)) continue;
      history[name] = (record.history[name] ?? []).map((entry) => ({
        value: entry.value,
        timestamp: new Date(entry.timestamp).toISOString(),
        sourceType: entry.sourceType,
        sourceId: entry.sourceId,
      }));
    }
    json.propertiesWithHistory = history;
  }

  if (options.associations?.length) {
    const associations: Record<string, unknown> = {};
    for (const toType of options.associations) {
      const results = state.store.associations(record.type, record.id, toType).flatMap((edge) =>
        edge.typeIds.map((typeId) => ({ id: edge.toId, type: associationType(typeId)?.v3Name ?? String(typeId) }))
      );
      if (results.length > 0) associations[toType] = { results };
    }
    if (Object.keys(associations).length > 0) json.associations = associations;
  }

  if (options.objectWriteTraceId) json.objectWriteTraceId = options.objectWriteTraceId;
  return json;
}
