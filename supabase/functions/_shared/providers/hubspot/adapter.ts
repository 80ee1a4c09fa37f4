// The HubSpot adapter: webhook events to work items, batch reads with the
// associations that carry references, idempotent creates (batch upsert keyed
// by the forge_local_id unique property, so a retry after a crash finds the
// record it made), batch updates and archives, and association writes.
// Activities span four HubSpot object types; their remote ids carry the
// type ("calls:123") so each can be read and written where it lives.
// Listing for batch sync is in listing.ts.
import type { EntityType, RemoteRecord } from '../../model/unified.ts';
import type { CreateInput, CrmAdapter, EraseResult, InboundWork, MergeResult, UpdateInput, WriteResult } from '../adapter.ts';
import { ProviderError } from '../adapter.ts';
import { associationBatchInputs, pickAssociationTarget, referenceObjectType } from './associations.ts';
import type { HubSpotCaller } from './client.ts';
import { createHubSpotListing } from './listing.ts';
import { fromUnified, toUnified } from './mappers.ts';
import {
  associationsToRequest,
  entityTypeOf,
  type HubSpotObjectType,
  isEngagementObjectType,
  LOCAL_ID_PROPERTY,
  objectTypeOfActivity,
  objectTypeOfWebhookEvent,
  objectTypesOf,
  propertiesToRequest,
  remoteIdOf,
  resolveHubSpotObjectType,
  singularOf,
} from './object-types.ts';
import { hubSpotWebhookEventSchema } from './webhook-events.ts';
import { hubSpotAssociationBatchReadSchema } from './schemas.ts';
import type { AssociationSpec } from '@hubspot/api-client/lib/codegen/crm/associations/v4/index.js';
import type { ValueMaps } from './value-maps.ts';
import type { FieldMap } from './field-map.ts';
import type { ReferenceName } from '../../model/unified.ts';

/** The unique property that makes creates idempotent (created when an account is connected). */
export { LOCAL_ID_PROPERTY };

export { remoteIdOf };

export function parseRemoteId(entityType: EntityType, remoteId: string): { objectType: HubSpotObjectType; id: string } {
  if (entityType !== 'activity') return { objectType: objectTypesOf(entityType)[0], id: remoteId };
  const [type, id] = remoteId.split(':');
  const objectType = resolveHubSpotObjectType(type);
  if (!objectType || !id) throw new Error(`not a HubSpot activity id: ${remoteId}`);
  return { objectType, id };
}

/** HubSpot ids by object type (activities span several). */
function idsByObjectType(entityType: EntityType, remoteIds: string[]): Map<HubSpotObjectType, string[]> {
  const parsed = groupBy(remoteIds.map((remoteId) => parseRemoteId(entityType, remoteId)), (p) => p.objectType);
  return new Map([...parsed].map(([objectType, ids]) => [objectType, ids.map((p) => p.id)]));
}

// Plain JSON of the client's models (its Date fields become ISO strings).
const plain = <T>(value: unknown): T => JSON.parse(JSON.stringify(value)) as T;

interface HubSpotObjectJson {
  id: string;
  properties: Record<string, string | null>;
  createdAt: string;
  updatedAt: string;
  archived?: boolean;
  associations?: Record<string, { results: { id: string; type: string }[] }>;
}

interface BatchJson {
  results: HubSpotObjectJson[];
  errors?: { message: string; context?: Record<string, string[]>; objectWriteTraceId?: string; category?: string }[];
}

/** The adapter of one connection, with its value maps and its field map. */
export function createHubSpotAdapter(api: HubSpotCaller, maps: ValueMaps, fieldMap: FieldMap): CrmAdapter {
  const crm = api.client.crm;

  async function readObjects(objectType: HubSpotObjectType, ids: string[]): Promise<Map<string, HubSpotObjectJson>> {
    const response = plain<BatchJson>(await api.call((c) =>
      c.crm.objects.batchApi.read(objectType, {
        inputs: ids.map((id) => ({ id })),
        properties: [...propertiesToRequest(objectType, fieldMap), LOCAL_ID_PROPERTY],
        propertiesWithHistory: [],
      }, false)
    ));
    const objects = new Map(response.results.map((o) => [String(o.id), o]));
    await attachReferences(objectType, objects);
    return objects;
  }

  /** One v4 batch association read: the first page of each object's targets of one type. */
  async function readAssociations(objectType: HubSpotObjectType, target: HubSpotObjectType, ids: string[]) {
    const raw = plain<{ results?: { _from?: unknown; from?: unknown }[] }>(
      await api.callExempt((c) => c.crm.associations.v4.batchApi.getPage(objectType, target, { inputs: ids.map((id) => ({ id })) })),
    );
    // The client's model names `from` `_from`; the schema reads the wire name.
    return hubSpotAssociationBatchReadSchema.parse({
      ...raw,
      results: (raw.results ?? []).map(({ _from, ...rest }) => ({ from: _from ?? rest.from, ...rest })),
    });
  }

  /** References: one v4 association read per referenced object type, the picked target set on each object. */
  async function attachReferences(objectType: HubSpotObjectType, objects: Map<string, HubSpotObjectJson>) {
    for (const target of associationsToRequest[objectType]) {
      const found = objects.size ? [...objects.keys()] : [];
      if (found.length === 0) continue;
      const page = await readAssociations(objectType, target, found);
      const byFrom = new Map(page.results.map((r) => [r.from.id, r.to]));
      for (const [id, object] of objects) {
        const picked = pickAssociationTarget(objectType, target, byFrom.get(id) ?? []);
        object.associations = {
          ...object.associations,
          [target]: { results: picked ? [{ id: picked, type: `${singularOf[objectType]}_to_${singularOf[target]}` }] : [] },
        };
      }
    }
  }

  function toRemoteRecord(entityType: EntityType, objectType: HubSpotObjectType, object: HubSpotObjectJson): RemoteRecord {
    const record = toUnified(entityType, object, maps, { objectType, associationsRequested: true, fieldMap });
    const localId = object.properties[LOCAL_ID_PROPERTY];
    return { ...record, remoteId: remoteIdOf(objectType, record.remoteId), ...(localId ? { localId } : {}) };
  }

  const listing = createHubSpotListing(api, {
    properties: (objectType) => [...propertiesToRequest(objectType, fieldMap), LOCAL_ID_PROPERTY],
    associations: (objectType) => associationsToRequest[objectType],
    async toRecords(entityType, objectType, objects, withAssociations) {
      const byId = new Map(objects.map((o) => [String(o.id), o as HubSpotObjectJson]));
      if (!withAssociations) await attachReferences(objectType, byId);
      return [...byId.values()].map((object) => toRemoteRecord(entityType, objectType, object));
    },
  });

  async function writeAssociations(records: { objectType: HubSpotObjectType; remoteId: string; references: Record<string, string | null> }[],
                                   removals: { objectType: HubSpotObjectType; remoteId: string; references: Record<string, string | null> }[]) {
    for (const batch of associationBatchInputs(removals)) {
      await api.callExempt((c) => c.crm.associations.v4.batchApi.archive(batch.fromObjectType, batch.toObjectType, {
        inputs: batch.inputs.map((i) => ({ _from: i.from, to: [i.to] })),
      }));
    }
    for (const batch of associationBatchInputs(records)) {
      await api.callExempt((c) => c.crm.associations.v4.batchApi.create(batch.fromObjectType, batch.toObjectType, {
        inputs: batch.inputs.map((i) => ({ _from: i.from, to: i.to, types: i.types as unknown as AssociationSpec[] })),
      }));
    }
  }

  return {
    provider: 'hubspot',

    interpretEvents(events) {
      const work: InboundWork[] = [];
      for (const raw of events) {
        const parsed = hubSpotWebhookEventSchema.safeParse(raw);
        if (!parsed.success) continue;
        const event = parsed.data;
        const [, action] = event.subscriptionType.split('.');
        const occurredAt = event.occurredAt;
        const objectType = objectTypeOfWebhookEvent(event.subscriptionType, (event as { objectTypeId?: string }).objectTypeId);
        if (!objectType) continue;
        const entityType = entityTypeOf(objectType);
        const id = (n: number | string | undefined) => remoteIdOf(objectType, String(n));
        switch (action) {
          case 'merge':
            work.push({
              kind: 'merge', entityType, occurredAt,
              primaryRemoteId: id(event.primaryObjectId ?? event.objectId),
              mergedRemoteIds: (event.mergedObjectIds ?? []).map((m) => id(m)),
            });
            break;
          case 'privacyDeletion':
            work.push({ kind: 'erase', entityType, remoteId: id(event.objectId), occurredAt });
            break;
          case 'deletion':
            work.push({ kind: 'delete', entityType, remoteId: id(event.objectId), occurredAt });
            break;
          case 'restore':
            if (event.objectId !== undefined) work.push({ kind: 'fetch', entityType, remoteId: id(event.objectId), occurredAt, restored: true });
            break;
          case 'associationChange': {
            // Both ends may have changed references: read both.
            const [fromName, toName] = String(event.associationType ?? '').toLowerCase().split('_to_');
            for (const [name, objectId] of [[fromName, event.fromObjectId], [toName, event.toObjectId]] as const) {
              const type = name ? resolveHubSpotObjectType(name) : undefined;
              if (type && objectId !== undefined) {
                work.push({ kind: 'fetch', entityType: entityTypeOf(type), remoteId: remoteIdOf(type, String(objectId)), occurredAt });
              }
            }
            break;
          }
          default:
            if (event.objectId !== undefined) work.push({ kind: 'fetch', entityType, remoteId: id(event.objectId), occurredAt });
        }
      }
      return work;
    },

    async referrers(entityType, remoteIds) {
      // One v4 association read per object type whose records reference these (the first page of each record's).
      const found: { entityType: EntityType; remoteId: string }[] = [];
      for (const [objectType, ids] of idsByObjectType(entityType, remoteIds)) {
        const referring = (Object.keys(associationsToRequest) as HubSpotObjectType[])
          .filter((type) => associationsToRequest[type].includes(objectType));
        for (const type of referring) {
          for (const result of (await readAssociations(objectType, type, ids)).results) {
            for (const to of result.to) found.push({ entityType: entityTypeOf(type), remoteId: remoteIdOf(type, String(to.toObjectId)) });
          }
        }
      }
      return found;
    },

    async fetchRecords(entityType, remoteIds) {
      const records: RemoteRecord[] = [];
      for (const [objectType, ids] of idsByObjectType(entityType, remoteIds)) {
        const objects = await readObjects(objectType, ids);
        for (const id of ids) {
          const object = objects.get(id);
          if (!object) {
            // Not returned by a read of live records: archived or gone.
            records.push({
              entityType, remoteId: remoteIdOf(objectType, id), remoteUpdatedAt: new Date().toISOString(),
              archived: true, fields: {}, references: {}, unmapped: [],
            });
            continue;
          }
          records.push(toRemoteRecord(entityType, objectType, object));
        }
      }
      return records;
    },

    async createRecords(entityType, inputs) {
      const results: WriteResult[] = [];
      const byType = groupBy(inputs, (i) => objectTypeFor(entityType, i.fields));
      for (const [objectType, group] of byType) {
        const prepared = group.map((input) => {
          try {
            const { properties, unmapped } = fromUnified(entityType, input.fields, maps, {
              create: true,
              fieldMap,
              ...(isEngagementObjectType(objectType) ? { objectType } : {}),
            });
            return { input, properties: { ...properties, [LOCAL_ID_PROPERTY]: input.localId }, unmapped };
          } catch (error) {
            results.push({ localId: input.localId, ok: false, retryable: false, error: String((error as Error).message) });
            return null;
          }
        }).filter((p) => p !== null);
        if (prepared.length === 0) continue;
        const response = await withRecordErrors(prepared.map((p) => p.input.localId), results, async () =>
          plain<BatchJson>(await api.call((c) => c.crm.objects.batchApi.upsert(objectType, {
            inputs: prepared.map((p) => ({ id: p.input.localId, idProperty: LOCAL_ID_PROPERTY, objectWriteTraceId: p.input.localId, properties: p.properties })),
          }))));
        if (!response) continue;
        const byLocal = new Map(response.results.map((o) => [String(o.properties[LOCAL_ID_PROPERTY] ?? ''), o]));
        const created: { objectType: HubSpotObjectType; remoteId: string; references: Record<string, string | null> }[] = [];
        for (const p of prepared) {
          const object = byLocal.get(p.input.localId);
          if (!object) {
            results.push({ localId: p.input.localId, ok: false, retryable: !response.errors?.length, error: errorFor(response, p.input.localId) });
            continue;
          }
          created.push({ objectType, remoteId: String(object.id), references: p.input.references });
          results.push({
            localId: p.input.localId, ok: true, remoteId: remoteIdOf(objectType, String(object.id)),
            remoteUpdatedAt: object.updatedAt, written: p.input.fields, references: p.input.references, unmapped: p.unmapped,
          });
        }
        await writeAssociations(created, []);
      }
      return results;
    },

    async updateRecords(entityType, inputs) {
      const results: WriteResult[] = [];
      const byType = groupBy(inputs, (i) => parseRemoteId(entityType, i.remoteId).objectType);
      for (const [objectType, group] of byType) {
        const prepared = group.map((input) => {
          const { properties, unmapped } = fromUnified(entityType, input.fields, maps,
            { fieldMap, ...(isEngagementObjectType(objectType) ? { objectType } : {}) });
          return { input, id: parseRemoteId(entityType, input.remoteId).id, properties, unmapped };
        });
        const withProperties = prepared.filter((p) => Object.keys(p.properties).length > 0);
        const updated = new Map<string, HubSpotObjectJson>();
        let failed = new Set<string>();
        if (withProperties.length > 0) {
          const response = await withRecordErrors(withProperties.map((p) => p.input.localId), results, async () =>
            plain<BatchJson>(await api.call((c) => c.crm.objects.batchApi.update(objectType, {
              inputs: withProperties.map((p) => ({ id: p.id, objectWriteTraceId: p.input.localId, properties: p.properties })),
            }))));
          if (!response) failed = new Set(withProperties.map((p) => p.input.localId));
          for (const object of response?.results ?? []) updated.set(String(object.id), object);
          for (const p of withProperties) {
            if (response && !updated.has(p.id)) {
              results.push({ localId: p.input.localId, ok: false, retryable: !response.errors?.length, error: errorFor(response, p.input.localId) });
              failed.add(p.input.localId);
            }
          }
        }
        const ok = prepared.filter((p) => !failed.has(p.input.localId));
        const refs = (pick: (p: typeof ok[number]) => Record<string, string | null>) =>
          ok.map((p) => ({ objectType, remoteId: p.id, references: pick(p) }));
        await writeAssociations(
          refs((p) => p.input.references),
          refs((p) => Object.fromEntries(Object.keys(p.input.references).map((name) => [name, p.input.baseReferences[name] ?? null]))),
        );
        for (const p of ok) {
          results.push({
            localId: p.input.localId, ok: true, remoteId: p.input.remoteId,
            remoteUpdatedAt: updated.get(p.id)?.updatedAt ?? new Date().toISOString(),
            written: p.input.fields, references: p.input.references, unmapped: p.unmapped,
          });
        }
      }
      return results;
    },

    async archiveRecords(entityType, inputs) {
      const results: WriteResult[] = [];
      const byType = groupBy(inputs, (i) => parseRemoteId(entityType, i.remoteId).objectType);
      for (const [objectType, group] of byType) {
        await api.call((c) => c.crm.objects.batchApi.archive(objectType, {
          inputs: group.map((i) => ({ id: parseRemoteId(entityType, i.remoteId).id })),
        }));
        const at = new Date().toISOString();
        for (const i of group) {
          results.push({ localId: i.localId, ok: true, remoteId: i.remoteId, remoteUpdatedAt: at, written: {}, references: {}, unmapped: [] });
        }
      }
      return results;
    },

    async mergeRecords(entityType, inputs) {
      const results: MergeResult[] = [];
      for (const input of inputs) {
        const body = { primaryObjectId: input.survivorRemoteId, objectIdToMerge: input.mergedRemoteId };
        const done = { survivorLocalId: input.survivorLocalId, mergedRemoteId: input.mergedRemoteId };
        try {
          // One merge per call: HubSpot has no batch merge.
          if (entityType !== 'contact' && entityType !== 'company' && entityType !== 'deal') {
            throw new ProviderError(`HubSpot cannot merge ${entityType} records`, 'invalid');
          }
          await api.call((c) =>
            entityType === 'contact'
              ? c.crm.contacts.basicApi.merge(body)
              : entityType === 'company'
              ? c.crm.companies.basicApi.merge(body)
              : c.crm.deals.basicApi.merge(body)
          );
          results.push({ ...done, ok: true });
        } catch (error) {
          // A 400 (already merged, or a record HubSpot no longer has) cannot be helped by retrying.
          if (!(error instanceof ProviderError) || error.kind !== 'invalid') throw error;
          results.push({ ...done, ok: false, retryable: false, error: error.message });
        }
      }
      return results;
    },

    listRecords: listing.listRecords,
    listChangedSince: listing.listChangedSince,

    async eraseContacts(remoteIds) {
      const results: EraseResult[] = [];
      for (const remoteId of remoteIds) {
        try {
          // One person per call: HubSpot's GDPR delete has no batch form.
          await api.call((c) => c.crm.contacts.basicApi.purge({ objectId: remoteId }));
          results.push({ remoteId, ok: true });
        } catch (error) {
          if (isGoneAlready(error)) {
            results.push({ remoteId, ok: true });
            continue;
          }
          if (!(error instanceof ProviderError) || error.kind !== 'invalid') throw error;
          results.push({ remoteId, ok: false, retryable: false, error: error.message });
        }
      }
      return results;
    },
  };
}

/** A 404 on erasure: the person is not in HubSpot (any more), which is what erasure wants. */
function isGoneAlready(error: unknown): boolean {
  return error instanceof ProviderError && error.kind === 'invalid' && /\b404\b/.test(error.message);
}

/** The engagement object an activity lives in (from its type), or the entity type's only object type. */
function objectTypeFor(entityType: EntityType, fields: Record<string, unknown>): HubSpotObjectType {
  if (entityType !== 'activity') return objectTypesOf(entityType)[0];
  return objectTypeOfActivity((fields.type as 'call' | 'email' | 'meeting' | 'note' | undefined) ?? 'note');
}

/**
 * Runs a batch write. A 400 for the whole batch (HubSpot rejects a batch for
 * one bad input) fails its records for good, so the others are not held up
 * by retries; other errors propagate and the batch is retried as a whole.
 */
async function withRecordErrors<T>(localIds: string[], results: WriteResult[], write: () => Promise<T>): Promise<T | null> {
  try {
    return await write();
  } catch (error) {
    if (error instanceof ProviderError && error.kind === 'invalid') {
      if (localIds.length === 1) {
        results.push({ localId: localIds[0], ok: false, retryable: false, error: error.message });
        return null;
      }
      // Which input was it? Fail them for now as retryable singles is costly; mark all as invalid-but-retryable once.
      for (const localId of localIds) results.push({ localId, ok: false, retryable: true, error: `batch rejected: ${error.message}` });
      return null;
    }
    throw error;
  }
}

function errorFor(response: BatchJson, localId: string): string {
  const match = response.errors?.find((e) => e.objectWriteTraceId === localId || e.context?.ids?.includes(localId));
  return match?.message ?? response.errors?.[0]?.message ?? 'HubSpot did not return the record';
}

function groupBy<T, K>(items: T[], key: (item: T) => K): Map<K, T[]> {
  const groups = new Map<K, T[]>();
  for (const item of items) groups.set(key(item), [...(groups.get(key(item)) ?? []), item]);
  return groups;
}

export { referenceObjectType };
export type { ReferenceName, CreateInput, UpdateInput };
