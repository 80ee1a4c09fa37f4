// The HubSpot properties the engine relies on, created idempotently in a
// `forge_integration` group on every object type it syncs:
// - forge_local_id: the local record id, unique, so creates are upserts and a
//   retry after a crash finds the record instead of duplicating it;
// - forge_lead_source and forge_custom_fields on contacts, which HubSpot has
//   no writable standard property for.
import { hubSpotObjectTypes, type HubSpotObjectType } from './object-types.ts';
import type { HubSpotCaller } from './client.ts';
import { LOCAL_ID_PROPERTY } from './adapter.ts';

export const PROPERTY_GROUP = 'forge_integration';

export interface PropertyDefinition {
  name: string;
  label: string;
  type: 'string' | 'number' | 'datetime' | 'enumeration';
  fieldType: 'text' | 'textarea' | 'number' | 'date';
  hasUniqueValue?: boolean;
  description: string;
}

export function requiredProperties(objectType: HubSpotObjectType): PropertyDefinition[] {
  const common: PropertyDefinition[] = [{
    name: LOCAL_ID_PROPERTY,
    label: 'Forge record id',
    type: 'string',
    fieldType: 'text',
    hasUniqueValue: true,
    description: 'Id of the record in the app database (set by crm-sync; do not edit).',
  }];
  if (objectType !== 'contacts') return common;
  return [
    ...common,
    { name: 'forge_lead_source', label: 'Lead source', type: 'string', fieldType: 'text', description: 'Where the lead came from (synced by crm-sync).' },
    { name: 'forge_custom_fields', label: 'Custom fields (JSON)', type: 'string', fieldType: 'textarea', description: 'App-defined fields as JSON (synced by crm-sync).' },
  ];
}

export interface SetupReport {
  groupsCreated: string[];
  propertiesCreated: string[];
}

/** Creates what is missing; changes nothing that exists. Safe to run again. */
export async function ensureCustomProperties(api: HubSpotCaller, objectTypes: readonly HubSpotObjectType[] = hubSpotObjectTypes): Promise<SetupReport> {
  const report: SetupReport = { groupsCreated: [], propertiesCreated: [] };
  for (const objectType of objectTypes) {
    const groups = await api.call((c) => c.crm.properties.groupsApi.getAll(objectType));
    if (!groups.results.some((g) => g.name === PROPERTY_GROUP)) {
      await api.call((c) => c.crm.properties.groupsApi.create(objectType, { name: PROPERTY_GROUP, label: 'Forge integration', displayOrder: -1 }));
      report.groupsCreated.push(`${objectType}.${PROPERTY_GROUP}`);
    }
    const existing = new Set((await api.call((c) => c.crm.properties.coreApi.getAll(objectType, false))).results.map((p) => p.name));
    for (const definition of requiredProperties(objectType)) {
      if (existing.has(definition.name)) continue;
      await api.call((c) => c.crm.properties.coreApi.create(objectType, {
        ...definition,
        groupName: PROPERTY_GROUP,
      } as Parameters<typeof c.crm.properties.coreApi.create>[1]));
      report.propertiesCreated.push(`${objectType}.${definition.name}`);
    }
  }
  return report;
}
