/**
 * Plausible records for seeding a company: persons, organizations, deals,
 * activities and notes drawn from a seeded random sequence (the word lists
 * are in `../common/fake-names.ts`), so the same seed gives the same company.
 * Seeded custom fields (person stage and source; organization domain,
 * industry and revenue; deal source) get values too.
 */

import { CITIES, COMPANY_KINDS, COMPANY_WORDS, FIRST_NAMES, LAST_NAMES } from '../common/fake-names.ts';
import { ACTIVITY_TYPES, type EntityKind, parseWrite } from './entities.ts';
import { badRequest } from './errors.ts';
import type { FieldEntity } from './field-registry.ts';
import type { SimulatorState } from './state.ts';

const SOURCES = ['Website', 'Referral', 'Event', 'Cold outreach', 'Partner'];
const slug = (text: string) => text.toLowerCase().replace(/[^a-z0-9]+/g, '');
const DAY = 86_400_000;

export interface SeedRequest {
  entity: EntityKind;
  count: number;
  /** Values applied to every seeded record, over the made-up ones (API v2 names; notes v1). */
  values?: Record<string, unknown>;
  /** Spread add/update times evenly over this many ms before now; 0 gives all one timestamp. */
  spreadMs?: number;
  /** Emit webhooks for the seeded records (off by default: seeding is set-up). */
  emitWebhooks?: boolean;
}

function liveIds(state: SimulatorState, kind: EntityKind): number[] {
  return state.store.all(kind).filter((record) => !record.deleted).map((record) => record.id);
}

/** Custom field values by field name → hash key. */
function custom(state: SimulatorState, entity: FieldEntity, byName: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(byName)) {
    const field = state.fields.customFieldByName(entity, name);
    if (field && value !== undefined) out[field.key] = value;
  }
  return out;
}

function optionId(state: SimulatorState, entity: FieldEntity, name: string): number | undefined {
  const options = state.fields.customFieldByName(entity, name)?.options;
  return options?.length ? state.dataPrng.pick(options).id : undefined;
}

/** Made-up values for the `sequence`-th seeded record of a kind. */
export function fakeValues(state: SimulatorState, kind: EntityKind, sequence: number, at: number) {
  const prng = state.dataPrng;
  const maybe = (ids: number[], probability: number) => ids.length && prng.chance(probability) ? prng.pick(ids) : null;
  const owner = prng.pick(state.users.list()).id;
  switch (kind) {
    case 'person': {
      const first = prng.pick(FIRST_NAMES);
      const last = prng.pick(LAST_NAMES);
      return {
        name: `${first} ${last}`,
        owner_id: owner,
        org_id: maybe(liveIds(state, 'organization'), 0.8),
        emails: [{ value: `${slug(first)}.${slug(last)}.${sequence}@example.com`, primary: true, label: 'work' }],
        phones: [{ value: `+1-555-${String(1000 + prng.int(9000))}`, primary: true, label: 'work' }],
        custom_fields: custom(state, 'person', {
          stage: optionId(state, 'person', 'stage'),
          source: prng.pick(SOURCES),
        }),
      };
    }
    case 'organization': {
      const name = `${prng.pick(COMPANY_WORDS)} ${prng.pick(COMPANY_KINDS)} ${sequence}`;
      const [city, country] = prng.pick(CITIES);
      return {
        name,
        owner_id: owner,
        address: { value: `${city}, ${country}`, locality: city, country },
        custom_fields: custom(state, 'organization', {
          domain: `${slug(name)}.example.com`,
          industry: optionId(state, 'organization', 'industry'),
          revenue: { value: (1 + prng.int(500)) * 100_000, currency: 'USD' },
        }),
      };
    }
    case 'deal': {
      const stages = state.pipelines.stages(1);
      const roll = prng.next();
      return {
        title: `${prng.pick(COMPANY_WORDS)} deal #${sequence}`,
        owner_id: owner,
        value: (1 + prng.int(200)) * 500,
        currency: 'USD',
        stage_id: prng.pick(stages).id,
        status: roll < 0.75 ? 'open' : roll < 0.9 ? 'won' : 'lost',
        person_id: maybe(liveIds(state, 'person'), 0.8),
        org_id: maybe(liveIds(state, 'organization'), 0.8),
        expected_close_date: new Date(at + (1 + prng.int(90)) * DAY).toISOString().slice(0, 10),
        custom_fields: custom(state, 'deal', { source: prng.pick(SOURCES) }),
      };
    }
    case 'activity': {
      const type = prng.pick(Object.keys(ACTIVITY_TYPES));
      return {
        subject: `${ACTIVITY_TYPES[type]} #${sequence}`,
        type,
        owner_id: owner,
        due_date: new Date(at + (prng.int(30) - 10) * DAY).toISOString().slice(0, 10),
        due_time: `${String(8 + prng.int(9)).padStart(2, '0')}:${prng.chance(0.5) ? '00' : '30'}`,
        duration: '00:30',
        done: prng.chance(0.3),
        person_id: maybe(liveIds(state, 'person'), 0.7),
        deal_id: maybe(liveIds(state, 'deal'), 0.5),
        note: prng.chance(0.5) ? 'Agenda: requirements and next steps.' : null,
      };
    }
    case 'note': {
      const targets = (['deal', 'person', 'organization'] as const).filter((target) => liveIds(state, target).length);
      if (!targets.length) throw badRequest('Seed persons, organizations or deals before notes');
      const target = prng.pick(targets);
      const field = target === 'deal' ? 'deal_id' : target === 'person' ? 'person_id' : 'org_id';
      return {
        content: `Follow-up note ${sequence}: discussed pricing and timeline.`,
        [field]: prng.pick(liveIds(state, target)),
        user_id: owner,
      };
    }
  }
}

/** Creates `count` records as a Pipedrive user would (change_source `app`); returns their ids in order. */
export function seedRecords(state: SimulatorState, request: SeedRequest): number[] {
  const now = state.clock.now();
  const spread = request.spreadMs ?? 0;
  let sequence = state.store.count(request.entity, true) + 1;
  const ids: number[] = [];
  for (let index = 0; index < request.count; index++) {
    const at = spread > 0 ? now - spread + Math.floor((index * spread) / request.count) : now;
    const values = { ...fakeValues(state, request.entity, sequence++, at), ...request.values };
    const owner = typeof values.owner_id === 'number' ? values.owner_id : undefined;
    const actor = { ...state.appActor(owner), silent: !request.emitWebhooks };
    const record = state.store.create(request.entity, parseWrite(request.entity, values), actor, { at });
    ids.push(record.id);
  }
  return ids;
}
