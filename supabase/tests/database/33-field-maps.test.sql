-- Field maps: which CRM property each synced column maps to, per connection.
-- The table's checks, sync.set_field_maps (upsert, later element wins,
-- clear errors, service_role only) and tenant isolation by RLS.
begin;
select plan(30);

insert into crm.tenants (id, name, slug) values
  ('aaaaaaaa-0000-4000-8000-000000000000', 'Field maps A', 'field-maps-a'),
  ('bbbbbbbb-0000-4000-8000-000000000000', 'Field maps B', 'field-maps-b');
insert into sync.connections (id, tenant_id, provider, account_id) values
  ('aaaaaaaa-0000-4000-8000-0000000000f1', 'aaaaaaaa-0000-4000-8000-000000000000', 'hubspot', 'field-maps-a'),
  ('bbbbbbbb-0000-4000-8000-0000000000f1', 'bbbbbbbb-0000-4000-8000-000000000000', 'hubspot', 'field-maps-b');

-- The table.
select col_is_pk('sync', 'field_maps', array['connection_id', 'entity_type', 'local_field']::name[],
  'one row per connection, entity type and local field');
select policies_are('sync', 'field_maps', array['members read their tenant''s field maps'],
  'one policy: members read their tenant''s field maps');
select table_privs_are('sync', 'field_maps', 'authenticated', array['SELECT'], 'authenticated may only select');
select table_privs_are('sync', 'field_maps', 'anon', array[]::text[], 'anon has no privilege');

set local role service_role;
insert into sync.field_maps (connection_id, entity_type, local_field, remote_property)
  values ('aaaaaaaa-0000-4000-8000-0000000000f1', 'company', 'employee_count', 'headcount');
select is((select direction from sync.field_maps where remote_property = 'headcount'), 'both',
  'the service writes rows directly; direction defaults to both');
select throws_ok(
  $$insert into sync.field_maps (connection_id, entity_type, local_field, remote_property)
    values ('aaaaaaaa-0000-4000-8000-0000000000f1', 'contact', 'shoe_size', 'shoe_size')$$,
  '23514', null, 'local_field must be a synced column of the entity type');
select throws_ok(
  $$insert into sync.field_maps (connection_id, entity_type, local_field, remote_property)
    values ('aaaaaaaa-0000-4000-8000-0000000000f1', 'company', 'lead_source', 'lead_source')$$,
  '23514', null, 'a synced column of another entity type is refused');
select throws_ok(
  $$insert into sync.field_maps (connection_id, entity_type, local_field, remote_property)
    values ('aaaaaaaa-0000-4000-8000-0000000000f1', 'contact', 'lead_source', 'Lead Source')$$,
  '23514', null, 'remote_property must be a lower-case property name');
select throws_ok(
  format($$insert into sync.field_maps (connection_id, entity_type, local_field, remote_property)
    values ('aaaaaaaa-0000-4000-8000-0000000000f1', 'contact', 'lead_source', %L)$$, 'a' || repeat('b', 100)),
  '23514', null, 'remote_property is at most 100 characters');
select throws_ok(
  $$insert into sync.field_maps (connection_id, entity_type, local_field, remote_property, direction)
    values ('aaaaaaaa-0000-4000-8000-0000000000f1', 'contact', 'lead_source', 'acme_source', 'sideways')$$,
  '23514', null, 'direction is both, inbound or outbound');
reset role;

-- sync.set_field_maps
select is(
  sync.set_field_maps('aaaaaaaa-0000-4000-8000-0000000000f1', $$[
    {"entity_type": "contact", "local_field": "lead_source", "remote_property": "forge_lead_source"},
    {"entity_type": "contact", "local_field": "email", "remote_property": "email"},
    {"entity_type": "deal", "local_field": "probability", "remote_property": "acme_probability", "direction": "outbound"}
  ]$$),
  3, 'set_field_maps adds rows and says how many');
select results_eq(
  $$select entity_type::text, local_field, remote_property, direction from sync.field_maps
     where connection_id = 'aaaaaaaa-0000-4000-8000-0000000000f1' order by 1, 2$$,
  $$values ('company', 'employee_count', 'headcount', 'both'), ('contact', 'email', 'email', 'both'),
           ('contact', 'lead_source', 'forge_lead_source', 'both'), ('deal', 'probability', 'acme_probability', 'outbound')$$,
  'with direction both unless given');
select is(
  sync.set_field_maps('aaaaaaaa-0000-4000-8000-0000000000f1', $$[
    {"entity_type": "contact", "local_field": "lead_source", "remote_property": "acme_source", "direction": "inbound"},
    {"entity_type": "contact", "local_field": "email", "remote_property": "email"}
  ]$$),
  1, 'an upsert counts only the rows it changed');
select results_eq(
  $$select remote_property, direction from sync.field_maps
     where connection_id = 'aaaaaaaa-0000-4000-8000-0000000000f1' and local_field = 'lead_source'$$,
  $$values ('acme_source', 'inbound')$$, 'the existing row takes the new property and direction');
select is(
  sync.set_field_maps('aaaaaaaa-0000-4000-8000-0000000000f1', $$[
    {"entity_type": "company", "local_field": "website", "remote_property": "site_one"},
    {"entity_type": "company", "local_field": "website", "remote_property": "site_two"}
  ]$$),
  1, 'two elements for one field make one row');
select is((select remote_property from sync.field_maps where local_field = 'website'), 'site_two',
  'the later element wins');
select is(sync.set_field_maps('aaaaaaaa-0000-4000-8000-0000000000f1', '[]'), 0, 'an empty list changes nothing');
select throws_ok(
  $$select sync.set_field_maps('cccccccc-0000-4000-8000-0000000000f1', '[]')$$,
  'P0002', null, 'an unknown connection is an error');
select throws_ok(
  $$select sync.set_field_maps('aaaaaaaa-0000-4000-8000-0000000000f1', '{"entity_type": "contact"}')$$,
  '22023', null, 'the field maps must be an array');
select throws_ok(
  $$select sync.set_field_maps('aaaaaaaa-0000-4000-8000-0000000000f1',
    '[{"entity_type": "contact", "local_field": "shoe_size", "remote_property": "shoe_size"}]')$$,
  '22023', 'field map {"entity_type": "contact", "local_field": "shoe_size", "remote_property": "shoe_size"}: shoe_size is not a synced field of contact',
  'a column that is not synced is refused with a clear message');
select throws_ok(
  $$select sync.set_field_maps('aaaaaaaa-0000-4000-8000-0000000000f1',
    '[{"entity_type": "ticket", "local_field": "subject", "remote_property": "subject"}]')$$,
  '22023', null, 'an unknown entity type is refused');
select throws_ok(
  $$select sync.set_field_maps('aaaaaaaa-0000-4000-8000-0000000000f1',
    '[{"entity_type": "contact", "local_field": "lead_source", "remote_property": "Lead-Source"}]')$$,
  '22023', null, 'a property that is no property name is refused');
select throws_ok(
  $$select sync.set_field_maps('aaaaaaaa-0000-4000-8000-0000000000f1',
    '[{"entity_type": "contact", "local_field": "lead_source", "remote_property": "acme_source", "direction": "up"}]')$$,
  '22023', null, 'an unknown direction is refused');
select is((select remote_property from sync.field_maps where local_field = 'lead_source'), 'acme_source',
  'a refused call changes nothing');

-- Who may call it.
select ok(has_function_privilege('service_role', 'sync.set_field_maps(uuid, jsonb)', 'execute'), 'service_role may set field maps');
select ok(not has_function_privilege('authenticated', 'sync.set_field_maps(uuid, jsonb)', 'execute')
  and not has_function_privilege('anon', 'sync.set_field_maps(uuid, jsonb)', 'execute'), 'app users may not');

-- Tenant isolation.
select sync.set_field_maps('bbbbbbbb-0000-4000-8000-0000000000f1',
  '[{"entity_type": "contact", "local_field": "lead_source", "remote_property": "source_b"}]');
select set_config('request.jwt.claims', json_build_object('sub', 'cccccccc-0000-4000-8000-000000000001', 'role', 'authenticated',
  'app_metadata', json_build_object('tenant_id', 'aaaaaaaa-0000-4000-8000-000000000000'))::text, true);
set local role authenticated;
select results_eq($$select distinct connection_id from sync.field_maps$$,
  $$values ('aaaaaaaa-0000-4000-8000-0000000000f1'::uuid)$$, 'a member of tenant A sees only A''s field maps');
select throws_ok(
  $$insert into sync.field_maps (connection_id, entity_type, local_field, remote_property)
    values ('aaaaaaaa-0000-4000-8000-0000000000f1', 'contact', 'phone', 'mobilephone')$$,
  '42501', null, 'a member cannot write field maps (the service does)');
reset role;
set local role anon;
select throws_ok('select * from sync.field_maps', '42501', null, 'anon cannot read field maps');
reset role;
select set_config('request.jwt.claims', '', true);

-- A connection's field maps go with it.
delete from sync.connections where id = 'bbbbbbbb-0000-4000-8000-0000000000f1';
select is((select count(*)::int from sync.field_maps where connection_id = 'bbbbbbbb-0000-4000-8000-0000000000f1'), 0,
  'deleting a connection deletes its field maps');

select * from finish();
rollback;
