// The Pipedrive adapter: webhook events to work items, reads by id in
// batches (v2 lists take up to 100 ids; notes are read one by one in v1),
// creates that a retry cannot double, PATCH updates (references travel in
// the record: org_id, person_id, deal_id), DELETE archives and v1 merges.
//
// Pipedrive has no idempotent create. Each create is noted in the engine's
// ledger of create attempts as it starts; a record attempted before (a run that
// died, or whose answer was lost) is looked for among the records of that
// type changed since the first attempt, and taken over when found.
import type { EntityType, RemoteRecord } from '../../model/unified.ts';
import type { CreateInput, CrmAdapter, EraseResult, MergeResult, UpdateInput, WriteResult } from '../adapter.ts';
import { ProviderError } from '../adapter.ts';
import type { ValueMaps } from '../hubspot/value-maps.ts';
import { BudgetExhaustedError } from '../../sync/rate-budget.ts';
import { type PipedriveCaller, PipedriveNotFoundError } from './client.ts';
import type { PipedriveFieldMap } from './field-map.ts';
import {
  fromUnified,
  objectForCreate,
  parseRemoteId,
  PipedriveMappingError,
  type PipedriveObject,
  remoteIdOf,
  toIsoTime,
  toUnified,
} from './mappers.ts';
import { createPipedriveListing } from './listing.ts';
import { interpretPipedriveEvents } from './webhook-events.ts';

/** The engine's record of creates sent (sync.note_create_attempts / forget_create_attempts). */
export interface CreateAttempts {
  /** Notes an attempt for each; returns the ones attempted before, with the first attempt's time. */
  note(entityType: EntityType, localIds: string[]): Promise<Map<string, string>>;
  forget(entityType: EntityType, localIds: string[]): Promise<void>;
}

type V2Object = Exclude<PipedriveObject, 'note'>;
type Json = Record<string, unknown>;
interface ListPage {
  data?: Json[] | null;
  additional_data?: { next_cursor?: string | null; pagination?: { more_items_in_collection?: boolean; next_start?: number } } | null;
}

/**
 * The version of a record as read at `since` (ISO 8601): its update_time, or
 * that moment when later. Pipedrive's times have whole seconds, so two states
 * of a record can share an update_time; the state a read returns is at least
 * as new as the moment the read was sent, which keeps a change made later in
 * the same second newer than it. A write's version is the update_time alone
 * (see writtenVersion).
 */
export function versionAt(updateTime: string, since: string): string {
  return updateTime > since ? updateTime : since;
}

/** A record as read at `since`: versioned by versionAt, its update_time kept as when it was last modified. */
function asRead(record: RemoteRecord, since: string): RemoteRecord {
  return { ...record, remoteUpdatedAt: versionAt(record.remoteUpdatedAt, since), modifiedAt: record.remoteUpdatedAt };
}

/**
 * The version of a record the engine wrote: exactly its update_time, which is
 * the time its webhook echo is dated at (webhook-events.ts, eventTime). The
 * engine skips as an echo only an event at exactly this time, so any other
 * dating (the moment the write was sent, say) would cost a fetch per echo.
 */
export function writtenVersion(record: Json): string {
  return updateTimeOf(record);
}

/** The fetch size of a v2 list by ids. */
const idsPerRead = 100;
/** Pages of recent records searched for a create that may have happened. */
const recoveryPages = 4;

export function createPipedriveAdapter(api: PipedriveCaller, maps: ValueMaps, fieldMap: PipedriveFieldMap, attempts: CreateAttempts): CrmAdapter {
  const a = api.api;

  /** One page of a v2 list. */
  function listV2(object: V2Object, params: Json): Promise<ListPage> {
    return api.call(() => {
      switch (object) {
        case 'person': return a.persons.getPersons(params as never) as Promise<ListPage>;
        case 'organization': return a.organizations.getOrganizations(params as never) as Promise<ListPage>;
        case 'deal': return a.deals.getDeals(params as never) as Promise<ListPage>;
        case 'activity': return a.activities.getActivities(params as never) as Promise<ListPage>;
      }
    });
  }

  async function create(object: PipedriveObject, body: Json): Promise<Json> {
    const response = await api.call((): Promise<unknown> => {
      switch (object) {
        case 'person': return a.persons.addPerson({ AddPersonRequest: body as never });
        case 'organization': return a.organizations.addOrganization({ AddOrganizationRequest: body as never });
        case 'deal': return a.deals.addDeal({ AddDealRequest: body as never });
        case 'activity': return a.activities.addActivity({ AddActivityRequest: body as never });
        case 'note': return a.notes.addNote({ AddNoteRequest: body as never });
      }
    });
    return dataOf(response);
  }

  async function update(object: PipedriveObject, id: number, body: Json): Promise<Json> {
    const response = await api.call((): Promise<unknown> => {
      switch (object) {
        case 'person': return a.persons.updatePerson({ id, UpdatePersonRequest: body as never });
        case 'organization': return a.organizations.updateOrganization({ id, UpdateOrganizationRequest: body as never });
        case 'deal': return a.deals.updateDeal({ id, UpdateDealRequest: body as never });
        case 'activity': return a.activities.updateActivity({ id, AddActivityRequest: body as never });
        case 'note': return a.notes.updateNote({ id, NoteRequest: body as never });
      }
    });
    return dataOf(response);
  }

  function remove(object: PipedriveObject, id: number): Promise<unknown> {
    return api.call((): Promise<unknown> => {
      switch (object) {
        case 'person': return a.persons.deletePerson({ id });
        case 'organization': return a.organizations.deleteOrganization({ id });
        case 'deal': return a.deals.deleteDeal({ id });
        case 'activity': return a.activities.deleteActivity({ id });
        case 'note': return a.notes.deleteNote({ id });
      }
    });
  }

  /**
   * What a person's name is written whole from. When only one part changes,
   * the other is Pipedrive's current one, not the shadow's: a user's edit of
   * it that the engine has not taken in yet (its webhook late or lost) would
   * otherwise be overwritten with the old value and lost.
   */
  /** A person's name written for one part only: the other part comes from Pipedrive's current name. */
  function writesOnePartOfName(object: PipedriveObject, input: UpdateInput): boolean {
    return object === 'person' && Object.hasOwn(input.fields, 'first_name') !== Object.hasOwn(input.fields, 'last_name');
  }

  async function nameBase(entityType: EntityType, object: PipedriveObject, id: number, input: UpdateInput) {
    if (!writesOnePartOfName(object, input)) return input.base;
    const current = (await read(object, [id])).get(id);
    if (!current) return input.base; // gone: the write answers 404 as it would have
    const fields = toUnified(entityType, object, current, maps, fieldMap).fields as Record<string, unknown>;
    return { ...input.base, first_name: fields.first_name, last_name: fields.last_name };
  }

  /**
   * A person whose name is written from Pipedrive's current one: the read and
   * the write go out back to back, their budget taken first, so a user's edit
   * has the shortest window to land between them (Pipedrive has no
   * conditional write). Other records: as they come.
   */
  async function readThenWrite<T>(object: PipedriveObject, id: number, input: UpdateInput, write: () => Promise<T>): Promise<T> {
    if (!writesOnePartOfName(object, input)) return await write();
    const paid = await api.prepay([{ method: 'GET', path: '/persons' }, { method: 'PATCH', path: `/persons/${id}` }]);
    try {
      return await write();
    } finally {
      await paid.release();
    }
  }

  /** Current state of some records of one object; absent ones are gone. */
  async function read(object: PipedriveObject, ids: number[]): Promise<Map<number, Json>> {
    const found = new Map<number, Json>();
    if (object === 'note') {
      for (const id of ids) {
        try {
          found.set(id, dataOf(await api.call(() => a.notes.getNote({ id }))));
        } catch (error) {
          if (!(error instanceof PipedriveNotFoundError)) throw error;
        }
      }
      return found;
    }
    for (let i = 0; i < ids.length; i += idsPerRead) {
      const chunk = ids.slice(i, i + idsPerRead);
      const page = await listV2(object, { ids: chunk.join(','), limit: chunk.length });
      for (const item of page.data ?? []) found.set(Number(item.id), item);
    }
    return found;
  }

  /**
   * A record an earlier attempt may have created: among the records changed
   * since that attempt, one that holds what the create sent.
   */
  async function findCreated(object: PipedriveObject, body: Json, since: string): Promise<Json | undefined> {
    const after = new Date(Date.parse(since) - 5_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const matches = (item: Json) => sameCreate(object, body, item);
    if (object === 'note') {
      const filter = Object.fromEntries(['person_id', 'org_id', 'deal_id'].filter((k) => body[k]).map((k) => [k, body[k]]));
      for (let page = 0, start = 0; page < recoveryPages; page++) {
        const response = await api.call(() => a.notes.getNotes({ ...filter, start, limit: 500, sort: 'add_time DESC' } as never)) as ListPage;
        const found = (response.data ?? []).find(matches);
        if (found) return found;
        const more = response.additional_data?.pagination;
        if (!more?.more_items_in_collection) return undefined;
        start = more.next_start ?? start + 500;
      }
      return undefined;
    }
    let cursor: string | undefined;
    for (let page = 0; page < recoveryPages; page++) {
      const response = await listV2(object, { updated_since: after, sort_by: 'update_time', sort_direction: 'asc', limit: 500, ...(cursor ? { cursor } : {}) });
      const found = (response.data ?? []).find(matches);
      if (found) return found;
      cursor = response.additional_data?.next_cursor ?? undefined;
      if (!cursor) return undefined;
    }
    return undefined;
  }

  const listing = createPipedriveListing(api, (entityType, object, item, readAt) => {
    return asRead(toUnified(entityType, object, item, maps, fieldMap), readAt);
  });

  return {
    provider: 'pipedrive',

    interpretEvents: (events) => interpretPipedriveEvents(events, (entityType, object, item) => {
      try {
        return toUnified(entityType, object, item, maps, fieldMap);
      } catch (error) {
        if (error instanceof PipedriveMappingError) return undefined; // not a record it can read: the fetch decides alone
        throw error;
      }
    }),

    async fetchRecords(entityType, remoteIds) {
      const byObject = groupBy(remoteIds, (id) => parseRemoteId(entityType, id).object);
      const records: RemoteRecord[] = [];
      for (const [object, ids] of byObject) {
        const readAt = new Date().toISOString();
        const found = await read(object, ids.map((id) => parseRemoteId(entityType, id).id));
        for (const remoteId of ids) {
          const item = found.get(parseRemoteId(entityType, remoteId).id);
          const record = item ? toUnified(entityType, object, item, maps, fieldMap) : undefined;
          records.push(record
            ? asRead(record, readAt)
            : { entityType, remoteId, remoteUpdatedAt: readAt, archived: true, fields: {}, references: {}, unmapped: [] });
        }
      }
      return records;
    },

    async createRecords(entityType, inputs) {
      const results: WriteResult[] = [];
      const created: string[] = [];
      await writeEach(inputs, results, async (input: CreateInput) => {
        const object = objectForCreate(entityType, input.fields);
        const { body, written, unmapped } = fromUnified(entityType, object, input.fields, maps, fieldMap, { create: true, references: input.references });
        // Noted as each write starts, so records a stopped batch never sent cost no search on retry.
        const since = (await attempts.note(entityType, [input.localId])).get(input.localId);
        const found = since ? await findCreated(object, body, since) : undefined;
        // A person is found by its email and holds what the earlier attempt sent: what changed since is written too,
        // so the shadow recorded is what Pipedrive holds.
        const record = found && object === 'person' ? await update(object, found.id as number, body) : found ?? await create(object, body);
        created.push(input.localId);
        return {
          localId: input.localId, ok: true, remoteId: remoteIdOf(object, record.id as number),
          remoteUpdatedAt: writtenVersion(record),
          written, references: input.references, unmapped,
        };
      });
      if (created.length) await attempts.forget(entityType, created);
      return results;
    },

    async updateRecords(entityType, inputs) {
      const results: WriteResult[] = [];
      await writeEach(inputs, results, async (input: UpdateInput) => {
        const { object, id } = parseRemoteId(entityType, input.remoteId);
        return await readThenWrite(object, id, input, async () => {
          const { body, written, unmapped } = fromUnified(entityType, object, input.fields, maps, fieldMap, {
            base: await nameBase(entityType, object, id, input), references: input.references,
          });
          // Nothing Pipedrive holds changed (a column it has no field for): no call.
          const record = Object.keys(body).length > 0 ? await update(object, id, body) : undefined;
          return {
            localId: input.localId, ok: true, remoteId: input.remoteId,
            remoteUpdatedAt: record ? writtenVersion(record) : new Date(0).toISOString(),
            written, references: input.references, unmapped,
          } as WriteResult;
        });
      });
      return results;
    },

    async archiveRecords(entityType, inputs) {
      const results: WriteResult[] = [];
      await writeEach(inputs, results, async (input) => {
        const { object, id } = parseRemoteId(entityType, input.remoteId);
        try {
          await remove(object, id);
        } catch (error) {
          if (!(error instanceof PipedriveNotFoundError)) throw error; // already gone
        }
        return { localId: input.localId, ok: true, remoteId: input.remoteId, remoteUpdatedAt: new Date().toISOString(), written: {}, references: {}, unmapped: [] };
      });
      return results;
    },

    async mergeRecords(entityType, inputs) {
      const results: MergeResult[] = [];
      for (const input of inputs) {
        const done = { survivorLocalId: input.survivorLocalId, mergedRemoteId: input.mergedRemoteId };
        try {
          // v1 merge: the record named in the path is merged into merge_with_id, which survives.
          const id = parseRemoteId(entityType, input.mergedRemoteId).id;
          const merge_with_id = parseRemoteId(entityType, input.survivorRemoteId).id;
          if (entityType === 'contact') await api.call(() => a.personsV1.mergePersons({ id, MergePersonsRequest: { merge_with_id } }));
          else if (entityType === 'company') await api.call(() => a.organizationsV1.mergeOrganizations({ id, MergeOrganizationsRequest: { merge_with_id } }));
          else if (entityType === 'deal') await api.call(() => a.dealsV1.mergeDeals({ id, MergeDealsRequest: { merge_with_id } }));
          else throw new ProviderError(`Pipedrive cannot merge ${entityType} records`, 'invalid');
          results.push({ ...done, ok: true });
        } catch (error) {
          // A 400/404 (merged before, or a record Pipedrive no longer has) cannot be helped by retrying.
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
          // Pipedrive has no purge: a deleted person is removed for good after 30 days.
          await remove('person', parseRemoteId('contact', remoteId).id);
          results.push({ remoteId, ok: true });
        } catch (error) {
          if (error instanceof PipedriveNotFoundError) results.push({ remoteId, ok: true });
          else if (error instanceof ProviderError && error.kind === 'invalid') results.push({ remoteId, ok: false, retryable: false, error: error.message });
          else if (error instanceof ProviderError && error.kind === 'unauthorized') throw error;
          else results.push({ remoteId, ok: false, retryable: true, error: (error as Error).message });
        }
      }
      return results;
    },
  };
}

/**
 * Writes in flight at once: Pipedrive has no batch writes, and one at a time
 * would leave the burst budget unused. Enough for a Growth plan's burst (40
 * per 2 s) to go out at once; the budget, not this, sets the pace.
 */
export const writeConcurrency = 40;

/**
 * Writes records (Pipedrive has no batch writes), a few at a time, each
 * waiting for the shared budget. A record Pipedrive rejects fails alone, for
 * good. When Pipedrive is unavailable or the budget runs out, no more writes
 * start and the records not written are left for a retry; if nothing was
 * written yet the error goes up, so the worker pauses or delays the batch.
 */
async function writeEach<I extends { localId: string }>(inputs: I[], results: WriteResult[], write: (input: I) => Promise<WriteResult>) {
  let next = 0;
  let stop: unknown;
  const written = new Set<string>();
  const worker = async () => {
    while (stop === undefined && next < inputs.length) {
      const input = inputs[next++];
      try {
        results.push(await write(input));
        written.add(input.localId);
      } catch (error) {
        if ((error instanceof ProviderError && error.kind === 'invalid') || error instanceof PipedriveMappingError) {
          results.push({ localId: input.localId, ok: false, retryable: false, error: (error as Error).message });
          written.add(input.localId);
          continue;
        }
        stop ??= error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(writeConcurrency, inputs.length) }, worker));
  if (stop === undefined) return;
  const stoppable = stop instanceof BudgetExhaustedError ||
    (stop instanceof ProviderError && (stop.kind === 'rate_limited' || stop.kind === 'unavailable'));
  if (!stoppable || results.length === 0) throw stop;
  // Records the rate limit stopped wait for its window; they do not use up a retry attempt.
  const retryAfterMs = stop instanceof ProviderError && stop.kind === 'rate_limited' ? stop.retryAfterMs ?? 2_000 : undefined;
  for (const rest of inputs.filter((i) => !written.has(i.localId))) {
    results.push({ localId: rest.localId, ok: false, retryable: true, error: (stop as Error).message,
                   ...(retryAfterMs === undefined ? {} : { retryAfterMs }) });
  }
}

/**
 * What a create sent, found in a record: a person by its email (its name may have been edited since, in the app or
 * in Pipedrive), else the same name, title or subject, the same references.
 */
export function sameCreate(object: PipedriveObject, body: Json, item: Json): boolean {
  const same = (key: string) => body[key] === undefined || (body[key] ?? null) === (item[key] ?? null);
  switch (object) {
    case 'person': {
      const email = (body.emails as { value: string }[] | undefined)?.[0]?.value?.toLowerCase();
      const emails = ((item.emails as { value: string }[] | undefined) ?? []).map((e) => e.value.toLowerCase());
      return email ? emails.includes(email) : same('name') && same('org_id');
    }
    case 'organization':
      return same('name');
    case 'deal':
      return same('title') && same('person_id') && same('org_id');
    case 'activity':
      return same('subject') && same('type') && same('due_date') && same('person_id') && same('deal_id') && same('org_id');
    case 'note':
      return same('content') && same('person_id') && same('deal_id') && same('org_id');
  }
}

function dataOf(response: unknown): Json {
  const data = (response as { data?: unknown })?.data;
  if (!data || typeof data !== 'object') throw new ProviderError('Pipedrive answered without a record', 'unavailable');
  return data as Json;
}

function updateTimeOf(record: Json): string {
  return toIsoTime(String(record.update_time ?? '')) ?? new Date().toISOString();
}

function groupBy<T, K>(items: T[], key: (item: T) => K): Map<K, T[]> {
  const groups = new Map<K, T[]>();
  for (const item of items) groups.set(key(item), [...(groups.get(key(item)) ?? []), item]);
  return groups;
}
