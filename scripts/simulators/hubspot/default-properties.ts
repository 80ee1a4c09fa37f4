/**
 * Property groups and HubSpot-defined properties each object type starts
 * with. Names, types and field types follow HubSpot's portal defaults; the
 * option lists are HubSpot's values (industry is a common subset).
 */

import type { ObjectTypeName } from './object-types.ts';
import { DEFAULT_PIPELINES } from './default-pipelines.ts';

export type PropertyType = 'string' | 'number' | 'date' | 'datetime' | 'enumeration' | 'bool' | 'phone_number';

export interface PropertyOption {
  label: string;
  value: string;
  displayOrder: number;
  hidden: boolean;
}

export interface PropertySeed {
  name: string;
  label: string;
  type: PropertyType;
  fieldType: string;
  groupName: string;
  options?: Array<string | [value: string, label: string]>;
  hasUniqueValue?: boolean;
  readOnlyValue?: boolean;
  /** Options come from elsewhere (owners); values are checked against that source. */
  referencedObjectType?: 'OWNER';
  description?: string;
}

export interface GroupSeed {
  name: string;
  label: string;
}

const text = (name: string, label: string, groupName: string, extra: Partial<PropertySeed> = {}): PropertySeed => ({
  name,
  label,
  type: 'string',
  fieldType: 'text',
  groupName,
  ...extra,
});
const textarea = (name: string, label: string, groupName: string): PropertySeed => ({
  name,
  label,
  type: 'string',
  fieldType: 'textarea',
  groupName,
});
const number = (name: string, label: string, groupName: string, extra: Partial<PropertySeed> = {}): PropertySeed => ({
  name,
  label,
  type: 'number',
  fieldType: 'number',
  groupName,
  ...extra,
});
const datetime = (name: string, label: string, groupName: string, extra: Partial<PropertySeed> = {}): PropertySeed => ({
  name,
  label,
  type: 'datetime',
  fieldType: 'date',
  groupName,
  ...extra,
});
const select = (
  name: string,
  label: string,
  groupName: string,
  options: PropertySeed['options'],
  fieldType = 'select',
): PropertySeed => ({ name, label, type: 'enumeration', fieldType, groupName, options });
const owner = (groupName: string): PropertySeed => ({
  name: 'hubspot_owner_id',
  label: 'Owner',
  type: 'enumeration',
  fieldType: 'select',
  groupName,
  referencedObjectType: 'OWNER',
});
const objectId = (groupName: string): PropertySeed =>
  number('hs_object_id', 'Record ID', groupName, { readOnlyValue: true });
const mergedIds = (groupName: string): PropertySeed => ({
  name: 'hs_merged_object_ids',
  label: 'Merged record IDs',
  type: 'enumeration',
  fieldType: 'checkbox',
  groupName,
  readOnlyValue: true,
});

const LIFECYCLE_STAGES: PropertySeed['options'] = [
  ['subscriber', 'Subscriber'],
  ['lead', 'Lead'],
  ['marketingqualifiedlead', 'Marketing Qualified Lead'],
  ['salesqualifiedlead', 'Sales Qualified Lead'],
  ['opportunity', 'Opportunity'],
  ['customer', 'Customer'],
  ['evangelist', 'Evangelist'],
  ['other', 'Other'],
];

const LEAD_STATUSES: PropertySeed['options'] = [
  ['NEW', 'New'],
  ['OPEN', 'Open'],
  ['IN_PROGRESS', 'In Progress'],
  ['OPEN_DEAL', 'Open Deal'],
  ['UNQUALIFIED', 'Unqualified'],
  ['ATTEMPTED_TO_CONTACT', 'Attempted to Contact'],
  ['CONNECTED', 'Connected'],
  ['BAD_TIMING', 'Bad Timing'],
];

export const INDUSTRIES = [
  'ACCOUNTING',
  'AIRLINES_AVIATION',
  'APPAREL_FASHION',
  'AUTOMOTIVE',
  'BANKING',
  'BIOTECHNOLOGY',
  'BROADCAST_MEDIA',
  'BUILDING_MATERIALS',
  'CHEMICALS',
  'COMPUTER_HARDWARE',
  'COMPUTER_NETWORKING',
  'COMPUTER_SOFTWARE',
  'CONSTRUCTION',
  'CONSUMER_ELECTRONICS',
  'CONSUMER_GOODS',
  'CONSUMER_SERVICES',
  'E_LEARNING',
  'EDUCATION_MANAGEMENT',
  'ENTERTAINMENT',
  'FINANCIAL_SERVICES',
  'FOOD_BEVERAGES',
  'HEALTH_WELLNESS_AND_FITNESS',
  'HOSPITAL_HEALTH_CARE',
  'HOSPITALITY',
  'INFORMATION_TECHNOLOGY_AND_SERVICES',
  'INSURANCE',
  'INTERNET',
  'LEGAL_SERVICES',
  'LOGISTICS_AND_SUPPLY_CHAIN',
  'MANAGEMENT_CONSULTING',
  'MARKETING_AND_ADVERTISING',
  'MEDICAL_DEVICES',
  'NONPROFIT_ORGANIZATION_MANAGEMENT',
  'PHARMACEUTICALS',
  'REAL_ESTATE',
  'RETAIL',
  'TELECOMMUNICATIONS',
  'UTILITIES',
];

const CURRENCIES = ['USD', 'EUR', 'GBP', 'CAD', 'AUD', 'CHF', 'JPY', 'SEK', 'NOK', 'DKK', 'PLN'];

const engagementBase = (group: string): PropertySeed[] => [
  datetime('hs_timestamp', 'Activity date', group),
  owner(group),
  datetime('hs_createdate', 'Create date', group, { readOnlyValue: true }),
  datetime('hs_lastmodifieddate', 'Last modified date', group, { readOnlyValue: true }),
  objectId(group),
];

export const DEFAULT_GROUPS: Record<ObjectTypeName, GroupSeed[]> = {
  contacts: [
    { name: 'contactinformation', label: 'Contact information' },
    { name: 'sales_properties', label: 'Sales properties' },
  ],
  companies: [
    { name: 'companyinformation', label: 'Company information' },
    { name: 'sales_properties', label: 'Sales properties' },
  ],
  deals: [{ name: 'dealinformation', label: 'Deal information' }],
  notes: [{ name: 'engagement', label: 'Note information' }],
  calls: [{ name: 'engagement', label: 'Call information' }],
  meetings: [{ name: 'engagement', label: 'Meeting information' }],
  emails: [{ name: 'engagement', label: 'Email information' }],
};

const dealStages = DEFAULT_PIPELINES.deals.flatMap((pipeline) =>
  pipeline.stages.map((stage): [string, string] => [stage.id, stage.label])
);
const dealPipelines = DEFAULT_PIPELINES.deals.map((pipeline): [string, string] => [pipeline.id, pipeline.label]);

export const DEFAULT_PROPERTIES: Record<ObjectTypeName, PropertySeed[]> = {
  contacts: [
    text('email', 'Email', 'contactinformation', { hasUniqueValue: true }),
    text('firstname', 'First Name', 'contactinformation'),
    text('lastname', 'Last Name', 'contactinformation'),
    { name: 'phone', label: 'Phone Number', type: 'string', fieldType: 'phonenumber', groupName: 'contactinformation' },
    {
      name: 'mobilephone',
      label: 'Mobile Phone Number',
      type: 'string',
      fieldType: 'phonenumber',
      groupName: 'contactinformation',
    },
    text('company', 'Company Name', 'contactinformation'),
    text('jobtitle', 'Job Title', 'contactinformation'),
    text('website', 'Website URL', 'contactinformation'),
    text('city', 'City', 'contactinformation'),
    text('country', 'Country/Region', 'contactinformation'),
    select('lifecyclestage', 'Lifecycle Stage', 'contactinformation', LIFECYCLE_STAGES, 'radio'),
    select('hs_lead_status', 'Lead Status', 'sales_properties', LEAD_STATUSES),
    owner('sales_properties'),
    textarea('hs_additional_emails', 'Additional email addresses', 'contactinformation'),
    datetime('createdate', 'Create Date', 'contactinformation'),
    datetime('lastmodifieddate', 'Last Modified Date', 'contactinformation', { readOnlyValue: true }),
    objectId('contactinformation'),
    mergedIds('contactinformation'),
  ],
  companies: [
    text('name', 'Company name', 'companyinformation'),
    text('domain', 'Company Domain Name', 'companyinformation'),
    select('industry', 'Industry', 'companyinformation', INDUSTRIES),
    number('numberofemployees', 'Number of Employees', 'companyinformation'),
    number('annualrevenue', 'Annual Revenue', 'companyinformation'),
    text('website', 'Website URL', 'companyinformation'),
    { name: 'phone', label: 'Phone Number', type: 'string', fieldType: 'phonenumber', groupName: 'companyinformation' },
    text('city', 'City', 'companyinformation'),
    text('country', 'Country/Region', 'companyinformation'),
    textarea('description', 'Description', 'companyinformation'),
    select('lifecyclestage', 'Lifecycle Stage', 'companyinformation', LIFECYCLE_STAGES, 'radio'),
    owner('sales_properties'),
    datetime('createdate', 'Create Date', 'companyinformation'),
    datetime('hs_lastmodifieddate', 'Last Modified Date', 'companyinformation', { readOnlyValue: true }),
    objectId('companyinformation'),
    mergedIds('companyinformation'),
  ],
  deals: [
    text('dealname', 'Deal Name', 'dealinformation'),
    number('amount', 'Amount', 'dealinformation'),
    select('dealstage', 'Deal Stage', 'dealinformation', dealStages, 'radio'),
    select('pipeline', 'Pipeline', 'dealinformation', dealPipelines),
    number('hs_deal_stage_probability', 'Deal probability', 'dealinformation'),
    datetime('closedate', 'Close Date', 'dealinformation'),
    select('dealtype', 'Deal Type', 'dealinformation', [
      ['newbusiness', 'New Business'],
      ['existingbusiness', 'Existing Business'],
    ]),
    select('deal_currency_code', 'Currency', 'dealinformation', CURRENCIES),
    textarea('description', 'Deal Description', 'dealinformation'),
    owner('dealinformation'),
    datetime('createdate', 'Create Date', 'dealinformation'),
    datetime('hs_lastmodifieddate', 'Last Modified Date', 'dealinformation', { readOnlyValue: true }),
    objectId('dealinformation'),
    mergedIds('dealinformation'),
  ],
  notes: [...engagementBase('engagement'), {
    ...textarea('hs_note_body', 'Note body', 'engagement'),
    fieldType: 'html',
  }],
  calls: [
    ...engagementBase('engagement'),
    text('hs_call_title', 'Call Title', 'engagement'),
    { ...textarea('hs_call_body', 'Call notes', 'engagement'), fieldType: 'html' },
    select('hs_call_direction', 'Call direction', 'engagement', [
      ['INBOUND', 'Inbound'],
      ['OUTBOUND', 'Outbound'],
    ]),
    number('hs_call_duration', 'Call duration', 'engagement'),
    select('hs_call_status', 'Call status', 'engagement', [
      'BUSY',
      'CALLING_CRM_USER',
      'CANCELED',
      'COMPLETED',
      'CONNECTING',
      'FAILED',
      'IN_PROGRESS',
      'NO_ANSWER',
      'QUEUED',
      'RINGING',
    ]),
  ],
  meetings: [
    ...engagementBase('engagement'),
    text('hs_meeting_title', 'Meeting name', 'engagement'),
    { ...textarea('hs_meeting_body', 'Meeting description', 'engagement'), fieldType: 'html' },
    datetime('hs_meeting_start_time', 'Start Time', 'engagement'),
    datetime('hs_meeting_end_time', 'End Time', 'engagement'),
    select('hs_meeting_outcome', 'Meeting outcome', 'engagement', [
      'SCHEDULED',
      'COMPLETED',
      'RESCHEDULED',
      'NO_SHOW',
      'CANCELED',
    ]),
  ],
  emails: [
    ...engagementBase('engagement'),
    text('hs_email_subject', 'Email subject', 'engagement'),
    textarea('hs_email_text', 'Email body', 'engagement'),
    { ...textarea('hs_email_html', 'Email HTML body', 'engagement'), fieldType: 'html' },
    select('hs_email_direction', 'Email direction', 'engagement', ['EMAIL', 'INCOMING_EMAIL', 'FORWARDED_EMAIL']),
    select('hs_email_status', 'Email send status', 'engagement', ['BOUNCED', 'FAILED', 'SCHEDULED', 'SENDING', 'SENT']),
  ],
};
