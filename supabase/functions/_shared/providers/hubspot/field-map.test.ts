import { describe, expect, it, test } from 'vitest';
import { type EntityType, fieldSchemas } from '../../model/unified.ts';
import {
  buildFieldMap,
  configurableFields,
  defaultHubSpotFieldMap,
  FieldMapError,
  fieldMapRowsMissing,
  type FieldMapRow,
} from './field-map.ts';

describe('defaultHubSpotFieldMap', () => {
  const defaults = defaultHubSpotFieldMap();

  test.each([
    ['contact', 'email', 'email'],
    ['contact', 'first_name', 'firstname'],
    ['contact', 'last_name', 'lastname'],
    ['contact', 'phone', 'phone'],
    ['contact', 'lifecycle_stage', 'lifecyclestage'],
    ['contact', 'lead_source', 'forge_lead_source'],
    ['contact', 'custom_fields', 'forge_custom_fields'],
    ['company', 'name', 'name'],
    ['company', 'domain', 'domain'],
    ['company', 'industry', 'industry'],
    ['company', 'employee_count', 'numberofemployees'],
    ['company', 'annual_revenue', 'annualrevenue'],
    ['company', 'website', 'website'],
    ['deal', 'name', 'dealname'],
    ['deal', 'amount', 'amount'],
    ['deal', 'currency', 'deal_currency_code'],
    ['deal', 'probability', 'hs_deal_stage_probability'],
    ['deal', 'close_date', 'closedate'],
    ['deal', 'owner_id', 'hubspot_owner_id'],
  ] as const)('%s.%s is %s both ways', (entityType, field, property) => {
    expect(defaults).toContainEqual({ entity_type: entityType, local_field: field, remote_property: property, direction: 'both' });
  });

  it('has one row per configurable field and none for the fixed ones', () => {
    expect(defaults).toHaveLength(19);
    const fields = defaults.map((row) => `${row.entity_type}.${row.local_field}`);
    expect(new Set(fields).size).toBe(fields.length);
    for (const fixed of ['deal.stage', 'deal.status', 'activity.subject', 'activity.occurred_at', 'task.title']) {
      expect(fields).not.toContain(fixed);
    }
  });

  it('names only unified fields and property names sync.field_maps accepts', () => {
    for (const row of defaults) {
      expect(Object.keys(fieldSchemas[row.entity_type].shape)).toContain(row.local_field);
      expect(row.remote_property).toMatch(/^[a-z][a-z0-9_]{0,99}$/);
    }
  });

  it('returns fresh rows each time', () => {
    const rows = defaultHubSpotFieldMap();
    rows[0].remote_property = 'changed';
    expect(defaultHubSpotFieldMap()[0].remote_property).not.toBe('changed');
  });
});

describe('buildFieldMap', () => {
  it('without rows is the default mapping', () => {
    const fieldMap = buildFieldMap();
    expect(fieldMap.readProperty('contact', 'lead_source')).toBe('forge_lead_source');
    expect(fieldMap.writeProperty('company', 'employee_count')).toBe('numberofemployees');
    expect(fieldMap.rows).toEqual(defaultHubSpotFieldMap());
  });

  it('lays a connection\'s rows over the defaults; a field without a row keeps its default', () => {
    const fieldMap = buildFieldMap([
      { entity_type: 'contact', local_field: 'lead_source', remote_property: 'acme_source', direction: 'both' },
    ]);
    expect(fieldMap.readProperty('contact', 'lead_source')).toBe('acme_source');
    expect(fieldMap.writeProperty('contact', 'lead_source')).toBe('acme_source');
    expect(fieldMap.readProperty('contact', 'email')).toBe('email');
    expect(fieldMap.rows).toHaveLength(defaultHubSpotFieldMap().length);
  });

  it('takes rows as the database returns them, direction defaulting to both', () => {
    const fieldMap = buildFieldMap([{ entity_type: 'deal', local_field: 'amount', remote_property: 'acme_amount' }]);
    expect(fieldMap.rows).toContainEqual({ entity_type: 'deal', local_field: 'amount', remote_property: 'acme_amount', direction: 'both' });
  });

  it('lets the later of two rows for one field win', () => {
    const fieldMap = buildFieldMap([
      { entity_type: 'company', local_field: 'website', remote_property: 'site_one' },
      { entity_type: 'company', local_field: 'website', remote_property: 'site_two' },
    ]);
    expect(fieldMap.readProperty('company', 'website')).toBe('site_two');
  });

  it('reads an inbound row and never writes it; writes an outbound row and never reads it', () => {
    const fieldMap = buildFieldMap([
      { entity_type: 'contact', local_field: 'phone', remote_property: 'mobilephone', direction: 'inbound' },
      { entity_type: 'contact', local_field: 'lead_source', remote_property: 'acme_source', direction: 'outbound' },
    ]);
    expect(fieldMap.readProperty('contact', 'phone')).toBe('mobilephone');
    expect(fieldMap.writeProperty('contact', 'phone')).toBeUndefined();
    expect(fieldMap.readProperty('contact', 'lead_source')).toBeUndefined();
    expect(fieldMap.writeProperty('contact', 'lead_source')).toBe('acme_source');
    expect(fieldMap.propertiesRead('contact')).toContain('mobilephone');
    expect(fieldMap.propertiesRead('contact')).not.toContain('acme_source');
  });

  it('lists the properties read per entity type, none for activities and tasks', () => {
    const fieldMap = buildFieldMap();
    expect(fieldMap.propertiesRead('company').sort()).toEqual(
      ['annualrevenue', 'domain', 'industry', 'name', 'numberofemployees', 'website'],
    );
    expect(fieldMap.propertiesRead('activity')).toEqual([]);
    expect(fieldMap.propertiesRead('task')).toEqual([]);
    expect(fieldMap.readProperty('activity', 'subject')).toBeUndefined();
  });

  it('allows two fields to swap properties', () => {
    const fieldMap = buildFieldMap([
      { entity_type: 'contact', local_field: 'first_name', remote_property: 'lastname' },
      { entity_type: 'contact', local_field: 'last_name', remote_property: 'firstname' },
    ]);
    expect(fieldMap.writeProperty('contact', 'first_name')).toBe('lastname');
    expect(fieldMap.writeProperty('contact', 'last_name')).toBe('firstname');
  });

  test.each([
    ['deal', 'stage'],
    ['deal', 'status'],
    ['activity', 'subject'],
    ['activity', 'occurred_at'],
    ['task', 'title'],
    ['contact', 'shoe_size'],
  ] as const)('refuses a row for %s.%s, which is not configurable', (entityType, field) => {
    expect(() => buildFieldMap([{ entity_type: entityType, local_field: field, remote_property: 'acme_value' }]))
      .toThrow(FieldMapError);
  });

  test.each([
    ['contact', 'lead_source', 'forge_local_id'],
    ['contact', 'lead_source', 'lastmodifieddate'],
    ['contact', 'lead_source', 'associatedcompanyid'],
    ['company', 'name', 'hs_lastmodifieddate'],
    ['deal', 'name', 'dealstage'],
    ['deal', 'name', 'pipeline'],
  ] as const)('refuses %s.%s on %s, which the engine uses itself', (entityType, field, property) => {
    expect(() => buildFieldMap([{ entity_type: entityType, local_field: field, remote_property: property }]))
      .toThrow(/uses that property itself/);
  });

  it('refuses two fields of an entity type on one property, including a default one', () => {
    expect(() => buildFieldMap([{ entity_type: 'contact', local_field: 'first_name', remote_property: 'lastname' }]))
      .toThrow(/contact\.first_name and contact\.last_name are both mapped to lastname/);
    expect(() =>
      buildFieldMap([
        { entity_type: 'company', local_field: 'website', remote_property: 'acme_site' },
        { entity_type: 'company', local_field: 'domain', remote_property: 'acme_site', direction: 'inbound' },
      ])
    ).toThrow(FieldMapError);
  });

  it('allows the same property on different entity types', () => {
    const fieldMap = buildFieldMap([
      { entity_type: 'contact', local_field: 'lead_source', remote_property: 'acme_source' },
      { entity_type: 'deal', local_field: 'name', remote_property: 'acme_source' },
    ]);
    expect(fieldMap.readProperty('deal', 'name')).toBe('acme_source');
  });

  test.each([
    [{ entity_type: 'contact', local_field: 'lead_source', remote_property: 'Lead Source' }],
    [{ entity_type: 'contact', local_field: 'lead_source', remote_property: 'acme_source', direction: 'sideways' }],
    [{ entity_type: 'ticket', local_field: 'subject', remote_property: 'subject' }],
    [{ entity_type: 'contact', local_field: 'lead_source' }],
  ])('refuses a malformed row %j', (row) => {
    expect(() => buildFieldMap([row])).toThrow();
  });
});

describe('configurableFields', () => {
  test.each([
    ['contact', 7],
    ['company', 6],
    ['deal', 6],
    ['activity', 0],
    ['task', 0],
  ] as const)('%s has %d', (entityType: EntityType, count) => {
    expect(configurableFields(entityType)).toHaveLength(count);
  });
});

describe('fieldMapRowsMissing', () => {
  const defaults = defaultHubSpotFieldMap();

  it('is every default for a connection without rows', () => {
    expect(fieldMapRowsMissing([], defaults)).toEqual(defaults);
  });

  it('leaves out fields that have a row, whatever its property', () => {
    const existing = [
      { entity_type: 'contact', local_field: 'lead_source' },
      { entity_type: 'company', local_field: 'employee_count' },
    ];
    const missing = fieldMapRowsMissing(existing, defaults);
    expect(missing).toHaveLength(defaults.length - 2);
    expect(missing.some((row: FieldMapRow) => row.entity_type === 'contact' && row.local_field === 'lead_source')).toBe(false);
    expect(missing).toContainEqual({ entity_type: 'contact', local_field: 'email', remote_property: 'email', direction: 'both' });
  });

  it('is empty once every field has a row', () => {
    expect(fieldMapRowsMissing(defaults, defaults)).toEqual([]);
  });
});
