-- Merges made in the app (public.merge_records): references repointed, the
-- merged record soft-deleted, one merge message per connection that holds
-- both records, the survivor taking over where only the merged one is mapped,
-- clear errors, and RLS: a member merges only records of their own tenant.
begin;
select plan(20);

insert into crm.tenants (id, name, slug) values
  ('aaaaaaaa-0000-4000-8000-000000000000', 'Local merge A', 'local-merge-a'),
  ('bbbbbbbb-0000-4000-8000-000000000000', 'Local merge B', 'local-merge-b');
insert into sync.connections (id, tenant_id, provider, account_id, enabled) values
  ('aaaaaaaa-0000-4000-8000-0000000000c1', 'aaaaaaaa-0000-4000-8000-000000000000', 'hubspot', 'local-merge-hs', true),
  ('aaaaaaaa-0000-4000-8000-0000000000c2', 'aaaaaaaa-0000-4000-8000-000000000000', 'pipedrive', 'local-merge-pd', true),
  ('aaaaaaaa-0000-4000-8000-0000000000c3', 'aaaaaaaa-0000-4000-8000-000000000000', 'hubspot', 'local-merge-off', false);
insert into crm.contacts (id, tenant_id, email) values
  ('aaaaaaaa-0000-4000-8000-000000000001', 'aaaaaaaa-0000-4000-8000-000000000000', 'survivor@x.io'),
  ('aaaaaaaa-0000-4000-8000-000000000002', 'aaaaaaaa-0000-4000-8000-000000000000', 'merged@x.io'),
  ('aaaaaaaa-0000-4000-8000-000000000003', 'aaaaaaaa-0000-4000-8000-000000000000', 'gone@x.io'),
  ('bbbbbbbb-0000-4000-8000-000000000001', 'bbbbbbbb-0000-4000-8000-000000000000', 'other@y.io');
update crm.contacts set deleted_at = now() where id = 'aaaaaaaa-0000-4000-8000-000000000003';
insert into sync.identity_map (connection_id, tenant_id, entity_type, remote_id, local_id) values
  -- c1 holds both: HubSpot merges them.
  ('aaaaaaaa-0000-4000-8000-0000000000c1', 'aaaaaaaa-0000-4000-8000-000000000000', 'contact', '1', 'aaaaaaaa-0000-4000-8000-000000000001'),
  ('aaaaaaaa-0000-4000-8000-0000000000c1', 'aaaaaaaa-0000-4000-8000-000000000000', 'contact', '2', 'aaaaaaaa-0000-4000-8000-000000000002'),
  -- c2 holds only the merged one: the survivor takes it over.
  ('aaaaaaaa-0000-4000-8000-0000000000c2', 'aaaaaaaa-0000-4000-8000-000000000000', 'contact', 'p2', 'aaaaaaaa-0000-4000-8000-000000000002'),
  -- c3 holds both but is disabled: no merge is queued there.
  ('aaaaaaaa-0000-4000-8000-0000000000c3', 'aaaaaaaa-0000-4000-8000-000000000000', 'contact', 'x1', 'aaaaaaaa-0000-4000-8000-000000000001'),
  ('aaaaaaaa-0000-4000-8000-0000000000c3', 'aaaaaaaa-0000-4000-8000-000000000000', 'contact', 'x2', 'aaaaaaaa-0000-4000-8000-000000000002');
insert into crm.deals (id, tenant_id, name, contact_id) values
  ('aaaaaaaa-0000-4000-8000-0000000000d1', 'aaaaaaaa-0000-4000-8000-000000000000', 'Deal of merged', 'aaaaaaaa-0000-4000-8000-000000000002');
insert into crm.tasks (id, tenant_id, title, contact_id) values
  ('aaaaaaaa-0000-4000-8000-0000000000e1', 'aaaaaaaa-0000-4000-8000-000000000000', 'Call merged', 'aaaaaaaa-0000-4000-8000-000000000002');
select pgmq.purge_queue('crm_outbound');

create function pg_temp.act_as_member(tenant text) returns void language plpgsql as $$
begin
  perform set_config('request.jwt.claims', json_build_object(
    'sub', 'cccccccc-0000-4000-8000-000000000001', 'role', 'authenticated',
    'app_metadata', json_build_object('tenant_id', tenant))::text, true);
  execute 'set local role authenticated';
end $$;
create function pg_temp.act_as_superuser() returns void language plpgsql as $$
begin
  execute 'reset role';
  perform set_config('request.jwt.claims', '', true);
end $$;
grant execute on function pg_temp.act_as_member(text), pg_temp.act_as_superuser() to authenticated;

-- A member of another tenant cannot see, so cannot merge, tenant A's records.
select pg_temp.act_as_member('bbbbbbbb-0000-4000-8000-000000000000');
select throws_ok($$select public.merge_records('contact', 'aaaaaaaa-0000-4000-8000-000000000001', 'aaaaaaaa-0000-4000-8000-000000000002')$$,
  'P0002', null, 'a member of another tenant cannot merge records they cannot see');
select throws_ok($$select sync._apply_local_merge('contact', 'aaaaaaaa-0000-4000-8000-000000000001', 'aaaaaaaa-0000-4000-8000-000000000002')$$,
  '42501', null, 'nor finish a merge of another tenant''s records through the helper');

select pg_temp.act_as_member('aaaaaaaa-0000-4000-8000-000000000000');
select is(public.merge_records('contact', 'aaaaaaaa-0000-4000-8000-000000000001', 'aaaaaaaa-0000-4000-8000-000000000002'),
  'aaaaaaaa-0000-4000-8000-000000000001'::uuid, 'a member merges two contacts of their tenant; the survivor is returned');
select pg_temp.act_as_superuser();

select is((select contact_id from crm.deals where id = 'aaaaaaaa-0000-4000-8000-0000000000d1'),
  'aaaaaaaa-0000-4000-8000-000000000001'::uuid, 'deals of the merged contact point at the survivor');
select is((select contact_id from crm.tasks where id = 'aaaaaaaa-0000-4000-8000-0000000000e1'),
  'aaaaaaaa-0000-4000-8000-000000000001'::uuid, 'so do its tasks');
select isnt((select deleted_at from crm.contacts where id = 'aaaaaaaa-0000-4000-8000-000000000002'), null,
  'the merged contact is soft-deleted');
select is((select deleted_at from crm.contacts where id = 'aaaaaaaa-0000-4000-8000-000000000001'), null, 'the survivor is not');
select results_eq(
  $$select message ->> 'connection_id', message ->> 'entity_type', message ->> 'local_id', message ->> 'merged_local_id'
      from pgmq.q_crm_outbound where message ->> 'op' = 'merge'$$,
  $$values ('aaaaaaaa-0000-4000-8000-0000000000c1', 'contact', 'aaaaaaaa-0000-4000-8000-000000000001',
            'aaaaaaaa-0000-4000-8000-000000000002')$$,
  'one merge message, for the enabled connection that holds both records');
select isnt((select remote_deleted_at from sync.identity_map
              where connection_id = 'aaaaaaaa-0000-4000-8000-0000000000c1' and remote_id = '2'), null,
  'the merged record''s remote record is marked gone there, so no archive is sent for it');
select is((select remote_deleted_at from sync.identity_map
            where connection_id = 'aaaaaaaa-0000-4000-8000-0000000000c1' and remote_id = '1'), null,
  'the survivor''s remote record is not');
select is((select local_id from sync.identity_map where connection_id = 'aaaaaaaa-0000-4000-8000-0000000000c2' and remote_id = 'p2'),
  'aaaaaaaa-0000-4000-8000-000000000001'::uuid, 'where only the merged record was mapped, the survivor takes over its remote record');
select is((select count(*)::int from pgmq.q_crm_outbound
            where message ->> 'connection_id' = 'aaaaaaaa-0000-4000-8000-0000000000c2' and message ->> 'op' = 'upsert'
              and message ->> 'local_id' = 'aaaaaaaa-0000-4000-8000-000000000001'),
  1, 'and is queued there, so its values reach that record');
select is((select local_id from sync.identity_map where connection_id = 'aaaaaaaa-0000-4000-8000-0000000000c3' and remote_id = 'x2'),
  'aaaaaaaa-0000-4000-8000-000000000002'::uuid, 'a disabled connection is left alone');

-- sync.record_remote_merge: after the CRM merged them, the merged remote id is forgotten.
select ok(sync.record_remote_merge('aaaaaaaa-0000-4000-8000-0000000000c1', 'contact', '2'), 'record_remote_merge drops the merged identity row');
select is((select count(*)::int from sync.identity_map where connection_id = 'aaaaaaaa-0000-4000-8000-0000000000c1' and remote_id = '2'), 0,
  'so the CRM''s merge webhook finds no mapping for the merged id');

-- Errors.
select throws_ok($$select public.merge_records('activity', 'aaaaaaaa-0000-4000-8000-000000000001', 'aaaaaaaa-0000-4000-8000-000000000002')$$,
  '22023', null, 'an entity type that cannot be merged is refused');
select throws_ok($$select public.merge_records('contact', 'aaaaaaaa-0000-4000-8000-000000000001', 'aaaaaaaa-0000-4000-8000-000000000001')$$,
  '22023', null, 'a record cannot be merged into itself');
select throws_ok($$select public.merge_records('contact', 'aaaaaaaa-0000-4000-8000-000000000001', 'aaaaaaaa-0000-4000-8000-00000000ffff')$$,
  'P0002', null, 'a record that does not exist is reported');
select throws_ok($$select public.merge_records('contact', 'aaaaaaaa-0000-4000-8000-000000000001', 'aaaaaaaa-0000-4000-8000-000000000003')$$,
  '55000', null, 'a deleted record cannot be merged');
select throws_ok($$select public.merge_records('contact', 'aaaaaaaa-0000-4000-8000-000000000001', 'bbbbbbbb-0000-4000-8000-000000000001')$$,
  '22023', null, 'records of different tenants cannot be merged');

select * from finish();
rollback;
