/**
 * The in-memory company data: persons, organizations, deals, activities and
 * notes. Every write goes through here so defaults, references, timestamps
 * (whole seconds, from the simulator clock) and change notifications (which
 * become webhooks v2) stay consistent. Deletes are soft: the record stays,
 * flagged `is_deleted` (deals also get status `deleted`).
 */

import { randomUUID } from 'node:crypto';
import type { SimulatorClock } from '../common/clock.ts';
import {
  ACTIVITY_TYPES,
  changedFields,
  ENTITY_KINDS,
  entityJson,
  type EntityKind,
  type EntityRecord,
  LABEL,
  normalizeContacts,
  splitName,
  type WriteInput,
} from './entities.ts';
import { badRequest, notFound } from './errors.ts';
import { checkCustomValue, type FieldEntity, type FieldRegistry } from './field-registry.ts';
import type { PipelineDirectory } from './pipelines.ts';
import { floorToSecond, normalizeTime, parseRfc3339, parseV1Time, rfc3339 } from './timestamps.ts';
import type { UserDirectory } from './users.ts';

/** `api`: a write through the API; `app`: a user in the Pipedrive web app (the control API). */
export type ChangeSource = 'api' | 'app';

export interface Actor {
  source: ChangeSource;
  userId: number;
  /** Shared by every change one request causes; generated when absent. */
  correlationId?: string;
  isBulkEdit?: boolean;
  /** No change notifications (seeding). */
  silent?: boolean;
}

export interface StoreChange {
  action: 'create' | 'change' | 'delete';
  entity: EntityKind;
  id: number;
  /** The record after the change; null on delete. */
  data: Record<string, unknown> | null;
  /** null on create; the changed fields' old values on change; the last state on delete. */
  previous: Record<string, unknown> | null;
  actor: Actor & { correlationId: string };
  at: number;
  meta: { merged_to_id?: string; merged_from_id?: string };
}

export interface StoreContext {
  clock: SimulatorClock;
  fields: FieldRegistry;
  users: UserDirectory;
  pipelines: PipelineDirectory;
}

const HAS_CUSTOM_FIELDS = new Set<EntityKind>(['person', 'organization', 'deal']);

/** Where merged records' references live: kind → fields pointing at a person or an organization. */
const REFERENCES: Record<'person' | 'organization', Array<[EntityKind, string]>> = {
  person: [['deal', 'person_id'], ['activity', 'person_id'], ['note', 'person_id']],
  organization: [['person', 'org_id'], ['deal', 'org_id'], ['activity', 'org_id'], ['note', 'org_id']],
};

export class EntityStore {
  private records = new Map<EntityKind, Map<number, EntityRecord>>();
  private nextId = new Map<EntityKind, number>();
  private listeners = new Set<(change: StoreChange) => void>();

  constructor(private readonly ctx: StoreContext) {
    this.reset();
  }

  reset(): void {
    for (const kind of ENTITY_KINDS) {
      this.records.set(kind, new Map());
      this.nextId.set(kind, 1);
    }
  }

  onChange(listener: (change: StoreChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A record, deleted or not. */
  get(kind: EntityKind, id: number): EntityRecord | undefined {
    return this.records.get(kind)!.get(id);
  }

  /** A record that is not deleted. */
  live(kind: EntityKind, id: number): EntityRecord | undefined {
    const record = this.get(kind, id);
    return record && !record.deleted ? record : undefined;
  }

  /** Every record of a kind in id order, deleted ones included. */
  all(kind: EntityKind): EntityRecord[] {
    return [...this.records.get(kind)!.values()];
  }

  count(kind: EntityKind, includeDeleted = false): number {
    let n = 0;
    for (const record of this.records.get(kind)!.values()) if (includeDeleted || !record.deleted) n++;
    return n;
  }

  json(record: EntityRecord, options: { customFields?: readonly string[] } = {}): Record<string, unknown> {
    return entityJson(record, this.ctx.fields, options);
  }

  create(kind: EntityKind, input: WriteInput, actor: Actor, options: { at?: number } = {}): EntityRecord {
    const now = floorToSecond(options.at ?? this.ctx.clock.now());
    const record: EntityRecord = {
      kind,
      id: 0,
      values: this.defaults(kind, actor),
      custom: {},
      addTime: now,
      updateTime: now,
      deleted: false,
    };
    this.requireOnCreate(kind, input);
    this.apply(record, input, now, true);
    record.id = this.nextId.get(kind)!;
    this.nextId.set(kind, record.id + 1);
    this.records.get(kind)!.set(record.id, record);
    this.emit({ action: 'create', entity: kind, id: record.id, data: this.json(record), previous: null }, actor, now);
    return record;
  }

  /** Applies a partial write; a write that changes nothing leaves update_time alone and notifies no one. */
  update(
    kind: EntityKind,
    id: number,
    input: WriteInput,
    actor: Actor,
  ): { record: EntityRecord; previous: Record<string, unknown> } {
    const record = this.live(kind, id);
    if (!record) throw notFound(LABEL[kind]);
    const now = floorToSecond(this.ctx.clock.now());
    const before = this.json(record);
    const draft: EntityRecord = { ...record, values: structuredClone(record.values), custom: { ...record.custom } };
    this.apply(draft, input, now, false);
    const previous = changedFields(before, this.json(draft));
    if (Object.keys(previous).length === 0) return { record, previous };
    record.values = draft.values;
    record.custom = draft.custom;
    record.addTime = draft.addTime;
    record.updateTime = now;
    this.emit({ action: 'change', entity: kind, id, data: this.json(record), previous }, actor, now);
    return { record, previous };
  }

  delete(kind: EntityKind, id: number, actor: Actor, meta: StoreChange['meta'] = {}): EntityRecord {
    const record = this.live(kind, id);
    if (!record) throw notFound(LABEL[kind]);
    const now = floorToSecond(this.ctx.clock.now());
    const previous = this.json(record);
    record.deleted = true;
    record.updateTime = now;
    this.emit({ action: 'delete', entity: kind, id, data: null, previous, meta }, actor, now);
    return record;
  }

  /**
   * Merges `mergedId` into `survivorId` (Pipedrive's `PUT /v1/persons/{id}/merge`
   * with `merge_with_id` = the survivor, whose data wins conflicts). Empty
   * survivor fields are filled from the merged record, emails and phones are
   * united, and deals, activities and notes (and persons, for organizations)
   * that pointed at the merged record are moved to the survivor. Notifies a
   * delete of the merged record (`merged_to_id`) and a change of the survivor
   * (`merged_from_id`).
   */
  merge(kind: 'person' | 'organization', mergedId: number, survivorId: number, actor: Actor): EntityRecord {
    if (mergedId === survivorId) throw badRequest(`Cannot merge a ${kind} with itself`);
    const merged = this.live(kind, mergedId);
    const survivor = this.live(kind, survivorId);
    if (!merged || !survivor) throw notFound(LABEL[kind]);
    const shared: Actor = { ...actor, correlationId: actor.correlationId ?? randomUUID() };

    for (const [otherKind, field] of REFERENCES[kind]) {
      for (const other of this.all(otherKind)) {
        if (!other.deleted && other.values[field] === mergedId) {
          this.update(otherKind, other.id, { [field]: survivorId }, shared);
        }
      }
    }

    const now = floorToSecond(this.ctx.clock.now());
    const before = this.json(survivor);
    for (const [key, value] of Object.entries(merged.values)) {
      const current = survivor.values[key];
      if ((key === 'emails' || key === 'phones') && Array.isArray(value)) {
        const seen = new Set((current as Array<{ value: string }>).map((item) => item.value.toLowerCase()));
        const extra = (value as Array<{ value: string; label: string }>)
          .filter((item) => !seen.has(item.value.toLowerCase()))
          .map((item) => ({ ...item, primary: false }));
        survivor.values[key] = normalizeContacts([...(current as Array<{ value: string }>), ...extra]);
      } else if (current === null || current === '' || (Array.isArray(current) && current.length === 0)) {
        survivor.values[key] = structuredClone(value);
      }
    }
    for (const [key, value] of Object.entries(merged.custom)) {
      if (survivor.custom[key] === undefined) survivor.custom[key] = structuredClone(value);
    }
    merged.mergedInto = survivorId;
    this.delete(kind, mergedId, shared, { merged_to_id: String(survivorId) });
    survivor.updateTime = now;
    const data = this.json(survivor);
    this.emit(
      { action: 'change', entity: kind, id: survivorId, data, previous: changedFields(before, data) },
      shared,
      now,
      { merged_from_id: String(mergedId) },
    );
    return survivor;
  }

  // ---------------------------------------------------------------- writes

  private defaults(kind: EntityKind, actor: Actor): Record<string, unknown> {
    const owner = actor.userId;
    switch (kind) {
      case 'person':
        return {
          name: null,
          first_name: null,
          last_name: null,
          owner_id: owner,
          org_id: null,
          emails: [],
          phones: [],
          visible_to: 3,
          label_ids: [],
        };
      case 'organization':
        return { name: null, owner_id: owner, address: null, visible_to: 3, label_ids: [] };
      case 'deal':
        return {
          title: null,
          creator_user_id: owner,
          owner_id: owner,
          value: 0,
          currency: 'USD',
          person_id: null,
          org_id: null,
          pipeline_id: null,
          stage_id: null,
          stage_change_time: null,
          status: 'open',
          probability: null,
          lost_reason: null,
          visible_to: 3,
          close_time: null,
          won_time: null,
          lost_time: null,
          expected_close_date: null,
          label_ids: [],
          origin: actor.source === 'api' ? 'API' : 'ManuallyCreated',
        };
      case 'activity':
        return {
          subject: null,
          type: 'task',
          owner_id: owner,
          creator_user_id: owner,
          deal_id: null,
          person_id: null,
          org_id: null,
          due_date: null,
          due_time: null,
          duration: null,
          busy: false,
          done: false,
          marked_as_done_time: null,
          location: null,
          participants: [],
          public_description: null,
          priority: null,
          note: null,
        };
      case 'note':
        return {
          content: null,
          deal_id: null,
          person_id: null,
          org_id: null,
          lead_id: null,
          user_id: owner,
          pinned_to_deal_flag: false,
          pinned_to_person_flag: false,
          pinned_to_organization_flag: false,
          pinned_to_lead_flag: false,
        };
    }
  }

  private requireOnCreate(kind: EntityKind, input: WriteInput): void {
    const required: Partial<Record<EntityKind, string>> = {
      person: 'name',
      organization: 'name',
      deal: 'title',
      note: 'content',
    };
    const field = required[kind];
    if (field && (input[field] === undefined || input[field] === null)) {
      throw badRequest(`Validation failed: ${field}: Required`);
    }
  }

  private checkReference(kind: EntityKind, field: string, value: unknown): void {
    if (value === null || value === undefined) return;
    const target: Record<string, EntityKind> = {
      org_id: 'organization',
      person_id: 'person',
      deal_id: 'deal',
    };
    if (field === 'owner_id' || field === 'user_id') {
      if (!this.ctx.users.get(value as number)) throw badRequest(`User ${value} not found`);
      return;
    }
    const targetKind = target[field];
    if (targetKind && !this.live(targetKind, value as number)) {
      throw badRequest(`${LABEL[targetKind]} ${value} not found (${LABEL[kind].toLowerCase()}.${field})`);
    }
  }

  private apply(record: EntityRecord, input: WriteInput, now: number, creating: boolean): void {
    const values = record.values;
    const { custom_fields: custom, add_time: addTime, ...rest } = input;
    for (const [field, value] of Object.entries(rest)) this.checkReference(record.kind, field, value);

    if (typeof addTime === 'string') {
      const ms = record.kind === 'note' ? parseV1Time(addTime) : parseRfc3339(addTime);
      if (ms === undefined) throw badRequest(`Validation failed: add_time: invalid time ${addTime}`);
      record.addTime = floorToSecond(ms);
    }

    switch (record.kind) {
      case 'person':
        Object.assign(values, rest);
        if (typeof rest.name === 'string') Object.assign(values, splitName(rest.name));
        if (rest.emails) values.emails = normalizeContacts(rest.emails as Array<{ value: string }>);
        if (rest.phones) values.phones = normalizeContacts(rest.phones as Array<{ value: string }>);
        break;
      case 'organization':
        Object.assign(values, rest);
        break;
      case 'deal':
        this.applyDeal(values, rest, now, creating);
        break;
      case 'activity':
        this.applyActivity(values, rest, now, creating);
        break;
      case 'note':
        Object.assign(values, rest);
        if (!values.deal_id && !values.person_id && !values.org_id && !values.lead_id) {
          throw badRequest('Validation failed: a note must be attached to a deal, person, organization or lead');
        }
        break;
    }

    if (custom !== undefined) {
      if (!HAS_CUSTOM_FIELDS.has(record.kind)) throw badRequest(`${LABEL[record.kind]}s have no custom fields`);
      for (const [key, raw] of Object.entries(custom)) {
        const field = this.ctx.fields.customField(record.kind as FieldEntity, key);
        if (!field) throw badRequest(`Validation failed: unknown custom field ${key}`);
        const value = checkCustomValue(field, raw);
        if (value === null) delete record.custom[key];
        else record.custom[key] = value;
      }
    }
  }

  private applyDeal(values: Record<string, unknown>, input: Record<string, unknown>, now: number, creating: boolean) {
    const { pipeline_id: pipelineId, stage_id: stageId, status, ...rest } = input as {
      pipeline_id?: number;
      stage_id?: number;
      status?: string;
    } & Record<string, unknown>;
    Object.assign(values, rest);
    const pipelines = this.ctx.pipelines;
    if (stageId !== undefined) {
      const stage = pipelines.stage(stageId);
      if (!stage) throw badRequest(`Stage ${stageId} not found`);
      if (pipelineId !== undefined && pipelineId !== stage.pipelineId) {
        throw badRequest(`Stage ${stageId} is not in pipeline ${pipelineId}`);
      }
      if (values.stage_id !== stageId && !creating) values.stage_change_time = rfc3339(now);
      values.stage_id = stageId;
      values.pipeline_id = stage.pipelineId;
    } else if (pipelineId !== undefined && pipelineId !== values.pipeline_id) {
      if (!pipelines.pipeline(pipelineId)) throw badRequest(`Pipeline ${pipelineId} not found`);
      values.stage_id = pipelines.firstStage(pipelineId)!.id;
      values.pipeline_id = pipelineId;
      if (!creating) values.stage_change_time = rfc3339(now);
    }
    if (values.stage_id === null) {
      values.stage_id = pipelines.firstStage(1)!.id;
      values.pipeline_id = 1;
    }
    if (status !== undefined && status !== values.status) {
      values.status = status;
      const at = rfc3339(now);
      if (status === 'won') Object.assign(values, { won_time: at, close_time: at, lost_time: null });
      if (status === 'lost') Object.assign(values, { lost_time: at, close_time: at, won_time: null });
      if (status === 'open') Object.assign(values, { won_time: null, lost_time: null, close_time: null });
    }
  }

  private applyActivity(
    values: Record<string, unknown>,
    input: Record<string, unknown>,
    now: number,
    creating: boolean,
  ) {
    if (input.type !== undefined && !(String(input.type) in ACTIVITY_TYPES)) {
      throw badRequest(`Activity type ${input.type} not found (known: ${Object.keys(ACTIVITY_TYPES).join(', ')})`);
    }
    Object.assign(values, input);
    for (const field of ['due_time', 'duration'] as const) {
      if (typeof input[field] === 'string') values[field] = normalizeTime(input[field] as string);
    }
    if (input.done !== undefined) values.marked_as_done_time = input.done ? rfc3339(now) : null;
    if (creating) {
      if (values.subject === null) values.subject = ACTIVITY_TYPES[values.type as string];
      if (input.participants === undefined && typeof values.person_id === 'number') {
        values.participants = [{ person_id: values.person_id, primary: true }];
      }
    }
  }

  private emit(
    change: Omit<StoreChange, 'actor' | 'at' | 'meta'> & { meta?: StoreChange['meta'] },
    actor: Actor,
    at: number,
    meta: StoreChange['meta'] = {},
  ): void {
    if (actor.silent || this.listeners.size === 0) return;
    const full: StoreChange = {
      ...change,
      meta: { ...change.meta, ...meta },
      actor: { ...actor, correlationId: actor.correlationId ?? randomUUID() },
      // The event time keeps milliseconds (meta.timestamp); the record's times are whole seconds.
      at: Math.max(at, this.ctx.clock.now()),
    };
    for (const listener of this.listeners) listener(full);
  }
}
