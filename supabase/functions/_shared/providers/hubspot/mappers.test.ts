import { describe, expect, it, test } from 'vitest';
import { type EntityType, fieldSchemas, type RemoteRecord } from '../../model/unified.ts';
import { dealStatusOf, fromUnified, HubSpotMappingError, toUnified } from './mappers.ts';
import { entityTypeOf, type HubSpotObjectType, modifiedDateProperty, propertiesToRequest } from './object-types.ts';
import { buildFieldMap, defaultHubSpotFieldMap } from './field-map.ts';
import { type HubSpotObjectInput, hubSpotObjectPageSchema } from './schemas.ts';
import { buildValueMaps, defaultHubSpotValueMaps } from './value-maps.ts';
import callsPage from './fixtures/calls.page.json' with { type: 'json' };
import companiesPage from './fixtures/companies.page.json' with { type: 'json' };
import contactsPage from './fixtures/contacts.page.json' with { type: 'json' };
import dealsPage from './fixtures/deals.page.json' with { type: 'json' };
import emailsPage from './fixtures/emails.page.json' with { type: 'json' };
import meetingsPage from './fixtures/meetings.page.json' with { type: 'json' };
import notesPage from './fixtures/notes.page.json' with { type: 'json' };

const OWNER = '6f1d2c3b-4a5e-4f60-8a7b-9c0d1e2f3a4b';
const maps = buildValueMaps([
  ...defaultHubSpotValueMaps(),
  { kind: 'owner', remote_value: '73650012', local_value: OWNER, remote_context: null },
]);

const defaultMap = buildFieldMap();

const pages: Record<HubSpotObjectType, unknown> = {
  contacts: contactsPage,
  companies: companiesPage,
  deals: dealsPage,
  notes: notesPage,
  calls: callsPage,
  meetings: meetingsPage,
  emails: emailsPage,
};

/** A recorded object by type and id. */
function recorded(objectType: HubSpotObjectType, id: string): HubSpotObjectInput {
  const page = hubSpotObjectPageSchema.parse(pages[objectType]);
  const object = page.results.find((result) => result.id === id);
  if (object === undefined) throw new Error(`no ${objectType} ${id} in the fixtures`);
  return object;
}

function read(objectType: HubSpotObjectType, id: string): RemoteRecord {
  return toUnified(entityTypeOf(objectType), recorded(objectType, id), maps, { objectType });
}

type Expected = Omit<RemoteRecord, 'entityType' | 'remoteId'>;

const inbound: Array<[HubSpotObjectType, string, string, Expected]> = [
  ['contacts', '51', 'every field, primary company from the associations', {
    remoteUpdatedAt: '2024-05-02T14:21:07.112Z',
    archived: false,
    fields: {
      email: 'ada@analytical-engines.example',
      first_name: 'Ada',
      last_name: 'Lovelace',
      phone: '+44 20 7946 0958',
      lifecycle_stage: 'sales_qualified_lead',
      lead_source: 'webinar',
      custom_fields: { plan: 'enterprise', seats: 25 },
    },
    references: { company: '9845651234' },
    unmapped: [],
  }],
  ['contacts', '101', 'cleared values become null, empty custom fields {}', {
    remoteUpdatedAt: '2024-05-03T08:02:44.950Z',
    archived: false,
    fields: {
      email: 'grace@compilers.example',
      first_name: 'Grace',
      last_name: null,
      phone: null,
      lifecycle_stage: null,
      lead_source: null,
      custom_fields: {},
    },
    references: { company: null },
    unmapped: [],
  }],
  ['contacts', '151', 'unmapped lifecycle stage kept raw, bad custom JSON reported, company from associatedcompanyid', {
    remoteUpdatedAt: '2024-05-04T10:11:12.013Z',
    archived: false,
    fields: {
      email: 'charles@difference-engines.example',
      first_name: 'Charles',
      last_name: 'Babbage',
      phone: '+44 20 7946 0011',
      lifecycle_stage: '1029384756',
      lead_source: 'referral',
    },
    references: { company: '9845651299' },
    unmapped: [
      { kind: 'lifecycle_stage', remoteValue: '1029384756' },
      { kind: 'invalid_json:forge_custom_fields', remoteValue: 'plan=starter' },
    ],
  }],
  ['companies', '9845651234', 'every field, domain lower-cased', {
    remoteUpdatedAt: '2024-05-01T17:45:30.090Z',
    archived: false,
    fields: {
      name: 'Analytical Engines Ltd',
      domain: 'analytical-engines.example',
      industry: 'Software',
      employee_count: 250,
      annual_revenue: 12_500_000,
      website: 'https://analytical-engines.example',
    },
    references: {},
    unmapped: [],
  }],
  ['companies', '9845651299', 'cleared numbers and texts become null', {
    remoteUpdatedAt: '2024-05-04T10:09:58.402Z',
    archived: false,
    fields: {
      name: 'Difference Engines',
      domain: 'difference-engines.example',
      industry: null,
      employee_count: null,
      annual_revenue: null,
      website: null,
    },
    references: {},
    unmapped: [],
  }],
  ['companies', '9845651300', 'archived; an unreadable and a negative number are reported, the rest kept', {
    remoteUpdatedAt: '2024-05-05T12:00:00.000Z',
    archived: true,
    fields: {
      name: 'Jacquard Looms',
      domain: 'jacquard-looms.example',
      industry: 'Consumer Goods',
      website: 'jacquard-looms.example',
    },
    references: {},
    unmapped: [
      { kind: 'invalid_number:numberofemployees', remoteValue: 'about 40' },
      { kind: 'invalid_value:annualrevenue', remoteValue: '-5000' },
    ],
  }],
  ['deals', '7001', 'open stage, probability in percent, owner mapped, primary company', {
    remoteUpdatedAt: '2024-05-02T15:03:41.776Z',
    archived: false,
    fields: {
      name: 'Analytical Engines - Enterprise plan',
      amount: 48_000,
      currency: 'GBP',
      stage: 'contract_sent',
      status: 'open',
      probability: 90,
      close_date: '2024-06-30',
      owner_id: OWNER,
    },
    references: { contact: '51', company: '9845651234' },
    unmapped: [],
  }],
  ['deals', '7002', 'closed won gives status won; close date and modification time as epoch ms', {
    remoteUpdatedAt: '2024-07-01T13:00:00.000Z',
    archived: false,
    fields: {
      name: 'Difference Engines - Pilot',
      amount: 12_500.5,
      currency: 'EUR',
      stage: 'closed_won',
      status: 'won',
      probability: 100,
      close_date: '2024-07-01',
      owner_id: OWNER,
    },
    references: { contact: null, company: '9845651299' },
    unmapped: [],
  }],
  ['deals', '7003', 'unmapped stage kept raw, unmapped owner null, invalid amount reported', {
    remoteUpdatedAt: '2024-05-06T11:30:15.250Z',
    archived: false,
    fields: {
      name: 'Jacquard Looms - Renewal',
      currency: 'USD',
      stage: '1029384756',
      status: 'open',
      probability: 30,
      close_date: null,
      owner_id: null,
    },
    references: {},
    unmapped: [
      { kind: 'invalid_number:amount', remoteValue: 'TBD' },
      { kind: 'deal_stage', remoteValue: '1029384756' },
      { kind: 'owner', remoteValue: '99887766' },
    ],
  }],
  ['deals', '7004', 'closed lost gives status lost; cleared values', {
    remoteUpdatedAt: '2024-05-07T07:07:07.007Z',
    archived: false,
    fields: {
      name: 'Grace Compilers - Training',
      amount: null,
      currency: null,
      stage: 'closed_lost',
      status: 'lost',
      probability: 0,
      close_date: null,
      owner_id: null,
    },
    references: { contact: '101', company: null },
    unmapped: [],
  }],
  ['notes', '40001', 'note body, no subject or direction', {
    remoteUpdatedAt: '2024-05-02T09:31:14.208Z',
    archived: false,
    fields: {
      type: 'note',
      body: '<p>Renewal call booked for June. Wants SSO in the enterprise plan.</p>',
      occurred_at: '2024-05-02T09:30:00.000Z',
      owner_id: OWNER,
    },
    references: { contact: '51', company: '9845651234', deal: '7001' },
    unmapped: [],
  }],
  ['calls', '40101', 'outbound call', {
    remoteUpdatedAt: '2024-05-03T15:32:08.114Z',
    archived: false,
    fields: {
      type: 'call',
      subject: 'Pricing call with Ada',
      body: '<p>Walked through pricing; sending the contract this week.</p>',
      direction: 'outbound',
      occurred_at: '2024-05-03T15:00:00.000Z',
      owner_id: OWNER,
    },
    references: { contact: '51', company: null, deal: '7001' },
    unmapped: [],
  }],
  ['calls', '40102', 'inbound call, cleared body and owner, timestamp as epoch ms', {
    remoteUpdatedAt: '2024-05-04T08:12:40.500Z',
    archived: false,
    fields: {
      type: 'call',
      subject: 'Missed call from Grace',
      body: null,
      direction: 'inbound',
      occurred_at: '2024-05-04T08:11:40.000Z',
      owner_id: null,
    },
    references: {},
    unmapped: [],
  }],
  ['meetings', '40201', 'meeting at its start time', {
    remoteUpdatedAt: '2024-05-06T14:05:00.000Z',
    archived: false,
    fields: {
      type: 'meeting',
      subject: 'Reporting demo',
      body: 'Demo of the reporting module for the finance team.',
      occurred_at: '2024-05-06T13:00:00.000Z',
      owner_id: OWNER,
    },
    references: { contact: '51', company: '9845651234', deal: null },
    unmapped: [],
  }],
  ['meetings', '40202', 'meeting without a start time falls back to hs_timestamp; unmapped owner', {
    remoteUpdatedAt: '2024-05-07T09:00:00.000Z',
    archived: false,
    fields: {
      type: 'meeting',
      subject: 'Intro',
      body: null,
      occurred_at: '2024-05-09T11:30:00.000Z',
      owner_id: null,
    },
    references: {},
    unmapped: [{ kind: 'owner', remoteValue: '99887766' }],
  }],
  ['emails', '40301', 'sent email (EMAIL) is outbound', {
    remoteUpdatedAt: '2024-05-03T16:10:02.020Z',
    archived: false,
    fields: {
      type: 'email',
      subject: 'Your Analytical Engines contract',
      body: 'Hi Ada,\n\nPlease find the contract attached.\n\nBest,\nSam',
      direction: 'outbound',
      occurred_at: '2024-05-03T16:10:00.000Z',
      owner_id: OWNER,
    },
    references: { contact: '51', company: null, deal: '7001' },
    unmapped: [],
  }],
  ['emails', '40302', 'INCOMING_EMAIL is inbound', {
    remoteUpdatedAt: '2024-05-04T07:55:33.410Z',
    archived: false,
    fields: {
      type: 'email',
      subject: 'RE: Your Analytical Engines contract',
      body: 'Signed copy attached.',
      direction: 'inbound',
      occurred_at: '2024-05-04T07:55:31.000Z',
      owner_id: OWNER,
    },
    references: { contact: '51', company: null, deal: null },
    unmapped: [],
  }],
  ['emails', '40303', 'FORWARDED_EMAIL is outbound', {
    remoteUpdatedAt: '2024-05-04T09:00:01.000Z',
    archived: false,
    fields: {
      type: 'email',
      subject: 'FW: Signed contract',
      body: 'For the finance team.',
      direction: 'outbound',
      occurred_at: '2024-05-04T09:00:00.000Z',
      owner_id: OWNER,
    },
    references: {},
    unmapped: [],
  }],
];

describe('toUnified', () => {
  test.each(inbound)('%s %s: %s', (objectType, id, _title, expected) => {
    const record = read(objectType, id);
    expect(record).toEqual({ entityType: entityTypeOf(objectType), remoteId: id, ...expected });
    expect(() => fieldSchemas[record.entityType].parse(record.fields)).not.toThrow();
  });

  it('treats a missing associations block as "none" when associations were requested', () => {
    const record = toUnified('deal', recorded('deals', '7003'), maps, { associationsRequested: true });
    expect(record.references).toEqual({ contact: null, company: null });
  });

  it('leaves out fields whose properties HubSpot did not send', () => {
    const record = toUnified('deal', {
      id: '7001',
      properties: { dealname: 'Renamed', hs_lastmodifieddate: '2024-05-08T10:00:00.000Z' },
      createdAt: '2024-04-02T10:00:00.000Z',
      updatedAt: '2024-05-08T10:00:00.000Z',
    }, maps);
    expect(record.fields).toEqual({ name: 'Renamed' });
    expect(record.archived).toBe(false);
  });

  it('reports a value the strict schema refuses and keeps the other fields', () => {
    const record = toUnified('contact', {
      id: '301',
      properties: { email: 'not an address', firstname: 'Lin', lastmodifieddate: '2024-05-08T10:00:00.000Z' },
      createdAt: '2024-05-08T10:00:00.000Z',
      updatedAt: '2024-05-08T10:00:00.000Z',
    }, maps);
    expect(record.fields).toEqual({ first_name: 'Lin' });
    expect(record.unmapped).toEqual([{ kind: 'invalid_value:email', remoteValue: 'not an address' }]);
  });

  it('falls back to updatedAt when the modification property is missing', () => {
    const record = toUnified('company', {
      id: '9845651234',
      properties: { name: 'Analytical Engines Ltd' },
      createdAt: '2024-03-11T09:14:03.551Z',
      updatedAt: '2024-05-01T19:45:30.090+02:00',
    }, maps);
    expect(record.remoteUpdatedAt).toBe('2024-05-01T17:45:30.090Z');
  });

  it('accepts numbers where HubSpot documents strings (ids, property values)', () => {
    const record = toUnified('company', {
      id: 9845651234,
      properties: { numberofemployees: 12, hs_lastmodifieddate: '2024-05-01T17:45:30.090Z' },
      createdAt: '2024-03-11T09:14:03.551Z',
      updatedAt: '2024-05-01T17:45:30.090Z',
    } as unknown as HubSpotObjectInput, maps);
    expect(record.remoteId).toBe('9845651234');
    expect(record.fields).toEqual({ employee_count: 12 });
  });

  it('recognises the engagement object from its properties when no object type is given', () => {
    const record = toUnified('activity', recorded('emails', '40302'), maps);
    expect(record.fields.type).toBe('email');
  });

  it('throws when it cannot tell which engagement an activity is', () => {
    const object = { ...recorded('notes', '40001'), properties: { hs_timestamp: '2024-05-02T09:30:00Z' } };
    expect(() => toUnified('activity', object, maps)).toThrow(HubSpotMappingError);
  });

  it('refuses an object type that is not of the entity type, tasks, and objects that are no HubSpot object', () => {
    expect(() => toUnified('contact', recorded('deals', '7001'), maps, { objectType: 'deals' })).toThrow(
      HubSpotMappingError,
    );
    expect(() => toUnified('task', recorded('notes', '40001'), maps)).toThrow(HubSpotMappingError);
    expect(() => toUnified('contact', { id: '1' } as unknown as HubSpotObjectInput, maps)).toThrow(
      HubSpotMappingError,
    );
  });

  test.each([
    ['0.2', 20],
    ['0.90000000000000002220446049250313080847263336181640625', 90],
    ['0.055', 5.5],
    ['1', 100],
    ['0', 0],
  ])('probability %s is %d percent', (raw, percent) => {
    expect(readDealProperty({ hs_deal_stage_probability: raw }).fields.probability).toBe(percent);
  });

  it('reports a probability above 1 instead of storing more than 100 percent', () => {
    const record = readDealProperty({ hs_deal_stage_probability: '1.5' });
    expect(record.fields.probability).toBeUndefined();
    expect(record.unmapped).toEqual([{ kind: 'invalid_value:hs_deal_stage_probability', remoteValue: '1.5' }]);
  });

  test.each([
    ['2024-06-30T00:00:00Z', '2024-06-30'],
    ['2024-06-30T00:00:00.000Z', '2024-06-30'],
    ['2024-06-30T23:59:59.999Z', '2024-06-30'],
    ['1719705600000', '2024-06-30'],
    ['2024-06-30', '2024-06-30'],
    ['', null],
  ])('close date %j is %j', (raw, date) => {
    const record = readDealProperty({ closedate: raw });
    expect(record.fields.close_date).toBe(date);
    expect(record.unmapped).toEqual([]);
  });

  test.each(['next week', '2024-02-30', '30/06/2024'])('close date %j is reported, not guessed', (raw) => {
    const record = readDealProperty({ closedate: raw });
    expect(record.fields).not.toHaveProperty('close_date');
    expect(record.unmapped).toEqual([{ kind: 'invalid_date:closedate', remoteValue: raw }]);
  });

  test.each([
    ['INCOMING_EMAIL', 'inbound'],
    ['EMAIL', 'outbound'],
    ['FORWARDED_EMAIL', 'outbound'],
    ['', null],
  ])('email direction %j is %j', (raw, direction) => {
    const record = readEmail({ hs_email_direction: raw });
    expect(record.fields.direction).toBe(direction);
    expect(record.unmapped).toEqual([]);
  });

  it('maps an industry through the value maps, keeping one with no row raw and reporting it', () => {
    const company = (industry: string) => toUnified('company', {
      id: '77', properties: { name: 'Skyward', industry }, createdAt: '2026-01-01T00:00:00Z', updatedAt: '2026-01-01T00:00:00Z',
    }, maps);
    expect(company('RETAIL').fields.industry).toBe('Retail');
    const unmapped = company('AIRLINES_AVIATION');
    expect(unmapped.fields.industry).toBe('AIRLINES_AVIATION');
    expect(unmapped.unmapped).toEqual([{ kind: 'industry', remoteValue: 'AIRLINES_AVIATION' }]);
  });

  it('reports an email direction it does not know', () => {
    const record = readEmail({ hs_email_direction: 'DRAFT_EMAIL' });
    expect(record.fields).not.toHaveProperty('direction');
    expect(record.unmapped).toEqual([{ kind: 'invalid_value:hs_email_direction', remoteValue: 'DRAFT_EMAIL' }]);
  });

  it('matches a stage only in the pipeline its map row names', () => {
    const record = readDealProperty({ dealstage: 'closedwon', pipeline: '875430211' });
    expect(record.fields).toMatchObject({ stage: 'closedwon', status: 'open' });
    expect(record.unmapped).toEqual([{ kind: 'deal_stage', remoteValue: 'closedwon' }]);
  });
});

function readDealProperty(properties: Record<string, string>): RemoteRecord<'deal'> {
  return toUnified('deal', {
    id: '7001',
    properties: { ...properties, hs_lastmodifieddate: '2024-05-02T15:03:41.776Z' },
    createdAt: '2024-04-02T10:00:00.000Z',
    updatedAt: '2024-05-02T15:03:41.776Z',
  }, maps);
}

function readEmail(properties: Record<string, string>): RemoteRecord<'activity'> {
  return toUnified(
    'activity',
    {
      id: '40301',
      properties: { ...properties, hs_lastmodifieddate: '2024-05-03T16:10:02.020Z' },
      createdAt: '2024-05-03T16:10:00.000Z',
      updatedAt: '2024-05-03T16:10:02.020Z',
    },
    maps,
    { objectType: 'emails' },
  );
}

// Compares property values as HubSpot means them: numbers by value, datetimes
// by instant, "" and null both as empty.
const numberProperties = new Set(['numberofemployees', 'annualrevenue', 'amount', 'hs_deal_stage_probability']);
const datetimeProperties = new Set(['closedate', 'hs_timestamp', 'hs_meeting_start_time']);

function normalized(property: string, value: string | null | undefined): unknown {
  if (value === null || value === undefined || value === '') return '';
  if (numberProperties.has(property)) return Number(value);
  if (datetimeProperties.has(property)) return new Date(/^\d+$/.test(value) ? Number(value) : value).toISOString();
  if (property === 'domain') return value.toLowerCase();
  return value;
}

// Records whose every mapped value survives the trip (the others lose
// something on purpose: an unmapped or invalid value, FORWARDED_EMAIL sent
// back as EMAIL, a meeting start time filled in from hs_timestamp).
const roundTrips: Array<[HubSpotObjectType, string]> = [
  ['contacts', '51'],
  ['contacts', '101'],
  ['companies', '9845651234'],
  ['companies', '9845651299'],
  ['deals', '7001'],
  ['deals', '7002'],
  ['deals', '7004'],
  ['notes', '40001'],
  ['calls', '40101'],
  ['calls', '40102'],
  ['meetings', '40201'],
  ['emails', '40301'],
  ['emails', '40302'],
];

describe('fromUnified', () => {
  test.each(roundTrips)('%s %s: fromUnified(toUnified(x)) gives back the mapped properties', (objectType, id) => {
    const object = recorded(objectType, id);
    const record = read(objectType, id);
    expect(record.unmapped).toEqual([]);
    const { properties, unmapped } = fromUnified(record.entityType as EntityType, record.fields, maps);
    expect(unmapped).toEqual([]);
    const expected = Object.fromEntries(
      propertiesToRequest(objectType, defaultMap)
        .filter((property) => property !== 'associatedcompanyid' && property !== modifiedDateProperty(objectType))
        .filter((property) => property in object.properties)
        .map((property) => [property, normalized(property, object.properties[property] as string | null)]),
    );
    const actual = Object.fromEntries(
      Object.entries(properties).map(([property, value]) => [property, normalized(property, value)]),
    );
    expect(actual).toEqual(expected);
  });

  test.each(
    [
      ['contacts', 'contact', { first_name: 'Ada', lifecycle_stage: 'customer', custom_fields: {} }],
      ['deals', 'deal', { status: 'won', probability: 100, owner_id: OWNER }],
      ['calls', 'activity', { type: 'call', subject: 'x', direction: 'inbound', occurred_at: '2024-05-03T15:00:00Z' }],
    ] as const,
  )('%s: writes only properties the adapter requests', (objectType, entityType, fields) => {
    const { properties } = fromUnified(entityType, fields, maps);
    expect(Object.keys(properties).length).toBeGreaterThan(0);
    for (const property of Object.keys(properties)) expect(propertiesToRequest(objectType, defaultMap)).toContain(property);
  });

  it('writes every contact field, custom fields as canonical JSON', () => {
    expect(fromUnified('contact', {
      email: 'ada@analytical-engines.example',
      first_name: 'Ada',
      last_name: null,
      phone: '+44 20 7946 0958',
      lifecycle_stage: 'marketing_qualified_lead',
      lead_source: 'webinar',
      custom_fields: { seats: 25, plan: { tier: 'enterprise', addons: ['sso'] } },
    }, maps)).toEqual({
      properties: {
        email: 'ada@analytical-engines.example',
        firstname: 'Ada',
        lastname: '',
        phone: '+44 20 7946 0958',
        lifecyclestage: 'marketingqualifiedlead',
        forge_lead_source: 'webinar',
        forge_custom_fields: '{"plan":{"addons":["sso"],"tier":"enterprise"},"seats":25}',
      },
      unmapped: [],
    });
  });

  it('clears with the empty string', () => {
    expect(fromUnified('deal', { amount: null, close_date: null, owner_id: null, currency: null }, maps)).toEqual({
      properties: { amount: '', closedate: '', hubspot_owner_id: '', deal_currency_code: '' },
      unmapped: [],
    });
    expect(fromUnified('company', { employee_count: null, domain: null }, maps).properties).toEqual({
      numberofemployees: '',
      domain: '',
    });
  });

  it('writes a stage with its pipeline, the probability as a fraction, the close date at midnight UTC', () => {
    expect(fromUnified('deal', { stage: 'negotiation', probability: 55.5, close_date: '2024-06-30' }, maps)).toEqual({
      properties: {
        dealstage: 'decisionmakerboughtin',
        pipeline: 'default',
        hs_deal_stage_probability: '0.555',
        closedate: '2024-06-30T00:00:00.000Z',
      },
      unmapped: [],
    });
  });

  test.each(
    [
      ['won', 'closedwon'],
      ['lost', 'closedlost'],
    ] as const,
  )('a %s status without a stage moves the deal to %s', (status, dealstage) => {
    expect(fromUnified('deal', { status }, maps).properties).toEqual({ dealstage, pipeline: 'default' });
    expect(fromUnified('deal', { status, stage: null }, maps).properties).toEqual({ dealstage, pipeline: 'default' });
  });

  it('sends no stage for an open status alone or a null stage', () => {
    expect(fromUnified('deal', { status: 'open' }, maps).properties).toEqual({});
    expect(fromUnified('deal', { stage: null }, maps).properties).toEqual({});
  });

  it('lets the stage win over the status', () => {
    expect(fromUnified('deal', { stage: 'qualified', status: 'won' }, maps).properties).toEqual({
      dealstage: 'qualifiedtobuy',
      pipeline: 'default',
    });
  });

  it('does not send a stage, lifecycle stage or owner with no map row, and reports each', () => {
    const unknownUser = '0b5d1c4e-2f3a-4b6c-8d7e-9f0a1b2c3d4e';
    expect(fromUnified('deal', { name: 'Renewal', stage: 'verbal_yes', owner_id: unknownUser }, maps)).toEqual({
      properties: { dealname: 'Renewal' },
      unmapped: [
        { kind: 'deal_stage', remoteValue: 'verbal_yes' },
        { kind: 'owner', remoteValue: unknownUser },
      ],
    });
    expect(fromUnified('contact', { lifecycle_stage: 'churned' }, maps)).toEqual({
      properties: {},
      unmapped: [{ kind: 'lifecycle_stage', remoteValue: 'churned' }],
    });
    // HubSpot's industry is an enumeration: a free-text value it would reject is not sent.
    expect(fromUnified('company', { industry: 'Quantum widgets' }, maps)).toEqual({
      properties: {},
      unmapped: [{ kind: 'industry', remoteValue: 'Quantum widgets' }],
    });
    expect(fromUnified('company', { industry: 'Software' }, maps).properties).toEqual({ industry: 'COMPUTER_SOFTWARE' });
  });

  it('reports local values the unified schema refuses instead of sending them', () => {
    const { properties, unmapped } = fromUnified('deal', { name: 'Pilot', currency: 'usd' } as never, maps);
    expect(properties).toEqual({ dealname: 'Pilot' });
    expect(unmapped).toEqual([{ kind: 'invalid_value:currency', remoteValue: 'usd' }]);
  });

  test.each(
    [
      ['notes', { type: 'note', body: 'Hello' }, { hs_note_body: 'Hello' }],
      ['calls', { type: 'call', direction: 'outbound' }, { hs_call_direction: 'OUTBOUND' }],
      ['calls', { type: 'call', direction: 'inbound' }, { hs_call_direction: 'INBOUND' }],
      ['emails', { type: 'email', direction: 'inbound' }, { hs_email_direction: 'INCOMING_EMAIL' }],
      ['emails', { type: 'email', direction: 'outbound' }, { hs_email_direction: 'EMAIL' }],
      ['emails', { type: 'email', direction: null }, { hs_email_direction: '' }],
      [
        'meetings',
        { type: 'meeting', subject: 'Demo', occurred_at: '2024-05-06T15:00:00+02:00' },
        {
          hs_meeting_title: 'Demo',
          hs_meeting_start_time: '2024-05-06T13:00:00.000Z',
          hs_timestamp: '2024-05-06T13:00:00.000Z',
        },
      ],
    ] as const,
  )('%s: %j', (_objectType, fields, properties) => {
    expect(fromUnified('activity', fields, maps)).toEqual({ properties, unmapped: [] });
  });

  it('needs the activity type or the object type for an activity', () => {
    expect(() => fromUnified('activity', { body: 'x' }, maps)).toThrow(HubSpotMappingError);
    expect(fromUnified('activity', { body: 'x' }, maps, { objectType: 'calls' }).properties).toEqual({
      hs_call_body: 'x',
    });
    expect(() => fromUnified('activity', { type: 'note' }, maps, { objectType: 'calls' })).toThrow(HubSpotMappingError);
  });

  it('always sends hs_timestamp when creating an engagement, and no empty properties', () => {
    expect(fromUnified(
      'activity',
      {
        type: 'note',
        body: 'Kick-off',
        subject: 'Ignored: notes have no title',
        occurred_at: '2024-05-02T09:30:00.000Z',
        owner_id: null,
      },
      maps,
      { create: true },
    )).toEqual({
      properties: { hs_note_body: 'Kick-off', hs_timestamp: '2024-05-02T09:30:00.000Z' },
      unmapped: [],
    });
    expect(() => fromUnified('activity', { type: 'note', body: 'Kick-off' }, maps, { create: true })).toThrow(
      /hs_timestamp/,
    );
  });

  it('refuses tasks', () => {
    expect(() => fromUnified('task', { title: 'Follow up' }, maps)).toThrow(HubSpotMappingError);
  });
});

describe('a connection\'s field map', () => {
  const modifiedAt = '2024-05-08T10:00:00.000Z';
  const object = (id: string, properties: Record<string, string | null>, modified = 'hs_lastmodifieddate') => ({
    id,
    properties: { ...properties, [modified]: modifiedAt },
    createdAt: modifiedAt,
    updatedAt: modifiedAt,
  });
  const contact = (properties: Record<string, string | null>) => object('51', properties, 'lastmodifieddate');
  const acmeSource = buildFieldMap([
    { entity_type: 'contact', local_field: 'lead_source', remote_property: 'acme_source' },
  ]);

  it('reads contact.lead_source from the property it names instead of forge_lead_source', () => {
    const record = toUnified('contact', contact({ acme_source: 'trade show', forge_lead_source: 'webinar', firstname: 'Ada' }),
      maps, { fieldMap: acmeSource });
    expect(record.fields).toEqual({ lead_source: 'trade show', first_name: 'Ada' });
    expect(record.unmapped).toEqual([]);
  });

  it('writes contact.lead_source to that property, and the other fields where they always went', () => {
    expect(fromUnified('contact', { lead_source: 'trade show', first_name: 'Ada', custom_fields: { seats: 3 } }, maps, {
      fieldMap: acmeSource,
    })).toEqual({
      properties: { acme_source: 'trade show', firstname: 'Ada', forge_custom_fields: '{"seats":3}' },
      unmapped: [],
    });
    expect(fromUnified('contact', { lead_source: null }, maps, { fieldMap: acmeSource, create: true }).properties).toEqual({});
  });

  it('converts a value by its field, whatever the property is called', () => {
    const fieldMap = buildFieldMap([
      { entity_type: 'company', local_field: 'employee_count', remote_property: 'acme_headcount' },
      { entity_type: 'company', local_field: 'domain', remote_property: 'acme_web_domain' },
      { entity_type: 'contact', local_field: 'custom_fields', remote_property: 'acme_extra' },
      { entity_type: 'deal', local_field: 'probability', remote_property: 'acme_likelihood' },
      { entity_type: 'deal', local_field: 'close_date', remote_property: 'acme_close' },
      { entity_type: 'deal', local_field: 'currency', remote_property: 'acme_currency' },
      { entity_type: 'deal', local_field: 'owner_id', remote_property: 'acme_owner' },
    ]);
    const company = toUnified('company', object('1', { acme_headcount: '250', acme_web_domain: ' Acme.EXAMPLE ' }), maps, {
      fieldMap,
    });
    expect(company.fields).toEqual({ employee_count: 250, domain: 'acme.example' });
    expect(toUnified('company', object('1', { acme_headcount: 'about 40' }), maps, { fieldMap }).unmapped).toEqual([
      { kind: 'invalid_number:acme_headcount', remoteValue: 'about 40' },
    ]);
    expect(toUnified('contact', contact({ acme_extra: '{"plan":"pro"}' }), maps, { fieldMap }).fields).toEqual({
      custom_fields: { plan: 'pro' },
    });
    expect(toUnified('contact', contact({ acme_extra: 'plan=pro' }), maps, { fieldMap }).unmapped).toEqual([
      { kind: 'invalid_json:acme_extra', remoteValue: 'plan=pro' },
    ]);
    const deal = toUnified('deal', object('7001', {
      acme_likelihood: '0.25',
      acme_close: '1719705600000',
      acme_currency: 'eur',
      acme_owner: '73650012',
      dealstage: 'closedwon',
      pipeline: 'default',
    }), maps, { fieldMap });
    expect(deal.fields).toEqual({
      probability: 25,
      close_date: '2024-06-30',
      currency: 'EUR',
      owner_id: OWNER,
      stage: 'closed_won',
      status: 'won',
    });
    expect(fromUnified('deal', { probability: 25, close_date: '2024-06-30', currency: 'EUR', owner_id: OWNER, stage: 'qualified' },
      maps, { fieldMap }).properties).toEqual({
        acme_likelihood: '0.25',
        acme_close: '2024-06-30T00:00:00.000Z',
        acme_currency: 'EUR',
        acme_owner: '73650012',
        dealstage: 'qualifiedtobuy',
        pipeline: 'default',
      });
  });

  test.each(roundTrips)('%s %s: the default rows map exactly as no field map does', (objectType, id) => {
    const fromRows = buildFieldMap(defaultHubSpotFieldMap());
    const record = read(objectType, id);
    expect(toUnified(record.entityType, recorded(objectType, id), maps, { objectType, fieldMap: fromRows })).toEqual(record);
    expect(fromUnified(record.entityType as EntityType, record.fields, maps, { fieldMap: fromRows }))
      .toEqual(fromUnified(record.entityType as EntityType, record.fields, maps));
  });

  it('reads an inbound row but never writes it', () => {
    const fieldMap = buildFieldMap([
      { entity_type: 'contact', local_field: 'lead_source', remote_property: 'acme_source', direction: 'inbound' },
    ]);
    expect(toUnified('contact', contact({ acme_source: 'partner' }), maps, { fieldMap }).fields).toEqual({
      lead_source: 'partner',
    });
    expect(fromUnified('contact', { lead_source: 'partner', phone: '+1 555 0100' }, maps, { fieldMap }).properties).toEqual({
      phone: '+1 555 0100',
    });
  });

  it('writes an outbound row but never reads it', () => {
    const fieldMap = buildFieldMap([
      { entity_type: 'company', local_field: 'annual_revenue', remote_property: 'acme_revenue', direction: 'outbound' },
    ]);
    expect(fromUnified('company', { annual_revenue: 1_000_000 }, maps, { fieldMap }).properties).toEqual({
      acme_revenue: '1000000',
    });
    const record = toUnified('company', object('1', { acme_revenue: '1000000', annualrevenue: '5', name: 'Acme' }), maps, {
      fieldMap,
    });
    expect(record.fields).toEqual({ name: 'Acme' });
  });

  it('keeps HubSpot\'s own properties fixed: deal stage and pipeline, engagement properties, hs_timestamp', () => {
    const fieldMap = buildFieldMap([{ entity_type: 'deal', local_field: 'name', remote_property: 'acme_title' }]);
    expect(fromUnified('deal', { name: 'Pilot', status: 'won' }, maps, { fieldMap }).properties).toEqual({
      acme_title: 'Pilot',
      dealstage: 'closedwon',
      pipeline: 'default',
    });
    expect(fromUnified('activity', { type: 'call', subject: 'Hi', occurred_at: modifiedAt }, maps, { fieldMap }).properties)
      .toEqual({ hs_call_title: 'Hi', hs_timestamp: modifiedAt });
  });
});

describe('dealStatusOf', () => {
  test.each(
    [
      ['closed_won', 'won'],
      ['closed_lost', 'lost'],
      ['negotiation', 'open'],
      [null, 'open'],
    ] as const,
  )('%s → %s', (stage, status) => {
    expect(dealStatusOf(stage)).toBe(status);
  });
});
