/**
 * Plausible records for seeding a portal: names, emails, companies, deals and
 * activities drawn from a seeded random sequence, so the same seed gives the same
 * portal.
 */

import { CITIES, COMPANY_KINDS, COMPANY_WORDS, FIRST_NAMES, JOB_TITLES, LAST_NAMES } from '../common/fake-names.ts';
import type { Prng } from '../common/prng.ts';
import { defaultAssociationType } from './association-types.ts';
import { DEFAULT_PIPELINES } from './default-pipelines.ts';
import { HubSpotApiError } from './errors.ts';
import type { ObjectTypeName } from './object-types.ts';
import type { SimulatorState } from './state.ts';
import type { ChangeSource } from './store.ts';

const INDUSTRY_SAMPLE = [
  'COMPUTER_SOFTWARE',
  'RETAIL',
  'FINANCIAL_SERVICES',
  'HOSPITAL_HEALTH_CARE',
  'LOGISTICS_AND_SUPPLY_CHAIN',
];
const LIFECYCLE = ['subscriber', 'lead', 'marketingqualifiedlead', 'salesqualifiedlead', 'opportunity', 'customer'];
const LEAD_STATUS = ['NEW', 'OPEN', 'IN_PROGRESS', 'CONNECTED', 'ATTEMPTED_TO_CONTACT'];

const slug = (text: string) => text.toLowerCase().replace(/[^a-z0-9]+/g, '');

/** Property values for the `sequence`-th seeded record of a type. */
export function fakeProperties(
  type: ObjectTypeName,
  sequence: number,
  prng: Prng,
  context: { ownerIds: string[]; at: number },
): Record<string, string> {
  const owner = context.ownerIds.length ? prng.pick(context.ownerIds) : undefined;
  const withOwner = (values: Record<string, string>) => (owner ? { ...values, hubspot_owner_id: owner } : values);
  const timestamp = new Date(context.at - prng.int(30) * 86_400_000).toISOString();
  switch (type) {
    case 'contacts': {
      const first = prng.pick(FIRST_NAMES);
      const last = prng.pick(LAST_NAMES);
      const company = `${prng.pick(COMPANY_WORDS)} ${prng.pick(COMPANY_KINDS)}`;
      const [city, country] = prng.pick(CITIES);
      return withOwner({
        firstname: first,
        lastname: last,
        email: `${slug(first)}.${slug(last)}.${sequence}@${slug(company)}.example.com`,
        phone: `+1-555-${String(1000 + prng.int(9000))}`,
        company,
        jobtitle: prng.pick(JOB_TITLES),
        city,
        country,
        lifecyclestage: prng.pick(LIFECYCLE),
        hs_lead_status: prng.pick(LEAD_STATUS),
      });
    }
    case 'companies': {
      const name = `${prng.pick(COMPANY_WORDS)} ${prng.pick(COMPANY_KINDS)} ${sequence}`;
      const [city, country] = prng.pick(CITIES);
      const domain = `${slug(name)}.example.com`;
      return withOwner({
        name,
        domain,
        website: `https://${domain}`,
        industry: prng.pick(INDUSTRY_SAMPLE),
        numberofemployees: String(5 + prng.int(5000)),
        annualrevenue: String((1 + prng.int(500)) * 100_000),
        city,
        country,
      });
    }
    case 'deals': {
      const stages = DEFAULT_PIPELINES.deals[0].stages;
      return withOwner({
        dealname: `${prng.pick(COMPANY_WORDS)} renewal #${sequence}`,
        amount: String((1 + prng.int(200)) * 500),
        pipeline: DEFAULT_PIPELINES.deals[0].id,
        dealstage: prng.pick(stages).id,
        closedate: new Date(context.at + (1 + prng.int(90)) * 86_400_000).toISOString(),
        deal_currency_code: 'USD',
        dealtype: prng.chance(0.5) ? 'newbusiness' : 'existingbusiness',
      });
    }
    case 'notes':
      return withOwner({ hs_timestamp: timestamp, hs_note_body: `Follow-up note ${sequence}: discussed pricing.` });
    case 'calls':
      return withOwner({
        hs_timestamp: timestamp,
        hs_call_title: `Discovery call ${sequence}`,
        hs_call_body: 'Talked through requirements and next steps.',
        hs_call_direction: prng.chance(0.5) ? 'INBOUND' : 'OUTBOUND',
        hs_call_duration: String(60_000 * (1 + prng.int(45))),
        hs_call_status: 'COMPLETED',
      });
    case 'meetings': {
      const start = context.at + prng.int(14) * 86_400_000;
      return withOwner({
        hs_timestamp: new Date(start).toISOString(),
        hs_meeting_title: `Demo ${sequence}`,
        hs_meeting_body: 'Product walkthrough.',
        hs_meeting_start_time: new Date(start).toISOString(),
        hs_meeting_end_time: new Date(start + 30 * 60_000).toISOString(),
        hs_meeting_outcome: 'SCHEDULED',
      });
    }
    case 'emails':
      return withOwner({
        hs_timestamp: timestamp,
        hs_email_subject: `Proposal ${sequence}`,
        hs_email_text: 'Please find the proposal attached.',
        hs_email_direction: prng.chance(0.5) ? 'EMAIL' : 'INCOMING_EMAIL',
        hs_email_status: 'SENT',
      });
  }
}

export interface SeedRequest {
  objectType: ObjectTypeName;
  count: number;
  /** Values applied to every seeded record, over the made-up ones. */
  properties?: Record<string, string>;
  /** Spread creation/modification times evenly over this many ms before now; 0 gives all one timestamp. */
  spreadMs?: number;
  /** Associate each record (default association type) with a random live record of this type. */
  associateWith?: ObjectTypeName;
  /** Emit webhooks for the seeded records (off by default: seeding is set-up). */
  emitWebhooks?: boolean;
}

/** Creates `count` records; returns their ids in creation order. */
export function seedRecords(state: SimulatorState, request: SeedRequest): string[] {
  const source: ChangeSource = { changeSource: 'IMPORT', sourceId: 'import', silent: !request.emitWebhooks };
  const now = state.clock.now();
  const spread = request.spreadMs ?? 0;
  const ownerIds = state.owners.list().map((owner) => owner.id);
  const targets = request.associateWith
    ? [...state.store.all(request.associateWith)].filter((record) => !record.archived)
    : [];
  const association = request.associateWith
    ? defaultAssociationType(request.objectType, request.associateWith)
    : undefined;
  let sequence = state.store.count(request.objectType) + state.store.count(request.objectType, true) + 1;
  const ids: string[] = [];
  for (let index = 0; index < request.count; index++) {
    const at = spread > 0 ? now - spread + Math.floor((index * spread) / request.count) : now;
    for (let tries = 0;; tries++) {
      const properties = {
        ...fakeProperties(request.objectType, sequence++, state.dataPrng, { ownerIds, at }),
        ...request.properties,
      };
      try {
        const record = state.store.create(request.objectType, properties, source, { at });
        ids.push(record.id);
        if (association && targets.length) {
          state.store.associate(
            request.objectType,
            record.id,
            association.to,
            state.dataPrng.pick(targets).id,
            [
              association.typeId,
            ],
            source,
            at,
          );
        }
        break;
      } catch (error) {
        // A made-up unique value (email) may collide with an existing one: draw again.
        if (!(error instanceof HubSpotApiError) || error.status !== 409 || tries > 10) throw error;
      }
    }
  }
  return ids;
}
