/**
 * v1 merges: `PUT /v1/persons/{id}/merge` and `PUT /v1/organizations/{id}/merge`
 * with `{merge_with_id}`. The record `{id}` is merged into `merge_with_id`,
 * which survives (its data wins conflicts). Webhooks v2 then send a delete
 * of `{id}` (`meta.merged_to_id`) and a change of the survivor
 * (`meta.merged_from_id`).
 */

import { z } from 'zod';
import type { EntityRecord } from '../entities.ts';
import { badRequest } from '../errors.ts';
import type { SimulatorState } from '../state.ts';
import { v1Time } from '../timestamps.ts';
import { idParam } from './params.ts';
import { ok, type PipedriveRoute, v1Cost } from './route.ts';

const mergeBody = z.object({ merge_with_id: z.coerce.number().int().positive() });

function parseMergeBody(body: unknown): number {
  const parsed = mergeBody.safeParse(body ?? {});
  if (!parsed.success) throw badRequest('merge_with_id is required and must be an id');
  return parsed.data.merge_with_id;
}

/** The merged person in API v1's shape (as the merge endpoint answers). */
function mergedPersonJson(state: SimulatorState, person: EntityRecord, mergedId: number): Record<string, unknown> {
  const v = person.values;
  const org = typeof v.org_id === 'number' ? state.store.get('organization', v.org_id) : undefined;
  const owner = state.users.get(v.owner_id as number);
  const deals = state.store.all('deal').filter((deal) => !deal.deleted && deal.values.person_id === person.id);
  const activities = state.store.all('activity').filter((activity) =>
    !activity.deleted && activity.values.person_id === person.id
  );
  const count = (status: string) => deals.filter((deal) => deal.values.status === status).length;
  return {
    id: person.id,
    company_id: state.options.companyId,
    owner_id: v.owner_id,
    org_id: v.org_id,
    name: v.name,
    first_name: v.first_name,
    last_name: v.last_name,
    open_deals_count: count('open'),
    related_open_deals_count: 0,
    closed_deals_count: count('won') + count('lost'),
    related_closed_deals_count: 0,
    participant_open_deals_count: 0,
    participant_closed_deals_count: 0,
    email_messages_count: 0,
    activities_count: activities.length,
    done_activities_count: activities.filter((activity) => activity.values.done).length,
    undone_activities_count: activities.filter((activity) => !activity.values.done).length,
    files_count: 0,
    notes_count: state.store.all('note').filter((note) => !note.deleted && note.values.person_id === person.id).length,
    followers_count: 0,
    won_deals_count: count('won'),
    related_won_deals_count: 0,
    lost_deals_count: count('lost'),
    related_lost_deals_count: 0,
    active_flag: !person.deleted,
    phone: structuredClone(v.phones),
    email: structuredClone(v.emails),
    first_char: String(v.name ?? '').charAt(0).toLowerCase(),
    update_time: v1Time(person.updateTime),
    add_time: v1Time(person.addTime),
    visible_to: String(v.visible_to),
    label_ids: [...(v.label_ids as number[])],
    ...(org ? { org_name: org.values.name } : {}),
    ...(owner ? { owner_name: owner.name } : {}),
    cc_email: `${state.options.companyDomain}@pipedrivemail.com`,
    merge_what_id: mergedId,
  };
}

export const mergeRoutes: PipedriveRoute[] = [
  {
    method: 'PUT',
    pattern: '/v1/persons/{id}/merge',
    api: 'v1',
    rateLimit: 'standard',
    cost: v1Cost('PUT', true),
    handler(request, state) {
      const mergedId = idParam(request.params.id);
      const survivor = state.store.merge(
        'person',
        mergedId,
        parseMergeBody(request.body),
        state.apiActor(request.correlationId),
      );
      return ok(mergedPersonJson(state, survivor, mergedId));
    },
  },
  {
    method: 'PUT',
    pattern: '/v1/organizations/{id}/merge',
    api: 'v1',
    rateLimit: 'standard',
    cost: v1Cost('PUT', true),
    handler(request, state) {
      const survivor = state.store.merge(
        'organization',
        idParam(request.params.id),
        parseMergeBody(request.body),
        state.apiActor(request.correlationId),
      );
      return ok({ id: survivor.id });
    },
  },
];
