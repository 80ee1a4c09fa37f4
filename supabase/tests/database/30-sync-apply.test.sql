-- Inbound apply and outbound queueing: order-safe, idempotent upserts, the
-- identity map and shadows, references that arrive out of order, and echo
-- suppression by origin connection.
begin;
select plan(32);

insert into crm.tenants (id, name, slug) values ('aaaaaaaa-0000-4000-8000-000000000000', 'Apply A', 'apply-a');
insert into sync.connections (id, tenant_id, provider, account_id) values
  ('aaaaaaaa-0000-4000-8000-0000000000c1', 'aaaaaaaa-0000-4000-8000-000000000000', 'hubspot', 'apply-hs'),
  ('aaaaaaaa-0000-4000-8000-0000000000c2', 'aaaaaaaa-0000-4000-8000-000000000000', 'pipedrive', 'apply-pd');
select pgmq.purge_queue('crm_outbound');

-- A contact whose company has not arrived yet.
select results_eq(
  $$select outcome from sync.apply_inbound_changes('aaaaaaaa-0000-4000-8000-0000000000c1', 'contact',
    '[{"remote_id": "501", "remote_updated_at": "2026-01-01T10:00:00Z",
       "set": {"email": "ann@example.com", "first_name": "Ann"}, "base": {"email": "ann@example.com", "first_name": "Ann"},
       "references": {"company": "900"}}]')$$,
  $$values ('created')$$, 'a new remote contact is created locally');
select is((select first_name from crm.contacts where email = 'ann@example.com'), 'Ann', 'with its fields');
select is((select base ->> 'first_name' from sync.identity_map where remote_id = '501'), 'Ann', 'and its shadow');
select is((select company_id from crm.contacts where email = 'ann@example.com'), null, 'an unknown company leaves the reference empty');
select is((select target_remote_id from sync.pending_references where reference = 'company'), '900', 'and remembers it');

-- Echo suppression: the change came from c1, so only c2 is told.
select results_eq(
  $$select message ->> 'connection_id' from pgmq.q_crm_outbound where message ->> 'entity_type' = 'contact'$$,
  $$values ('aaaaaaaa-0000-4000-8000-0000000000c2')$$,
  'a change applied from one CRM is queued for the other connection only');
select pgmq.purge_queue('crm_outbound');

-- The company arrives: the waiting contact now points at it.
select results_eq(
  $$select outcome from sync.apply_inbound_changes('aaaaaaaa-0000-4000-8000-0000000000c1', 'company',
    '[{"remote_id": "900", "remote_updated_at": "2026-01-01T10:00:05Z", "set": {"name": "Acme"}, "base": {"name": "Acme"}}]')$$,
  $$values ('created')$$, 'the company is created');
select is((select c.name from crm.contacts p join crm.companies c on c.id = p.company_id where p.email = 'ann@example.com'), 'Acme',
  'the contact that referenced it now points at it');
select is((select count(*)::int from sync.pending_references), 0, 'no reference is left pending');

-- Duplicates and late events change nothing.
select results_eq(
  $$select outcome from sync.apply_inbound_changes('aaaaaaaa-0000-4000-8000-0000000000c1', 'contact',
    '[{"remote_id": "501", "remote_updated_at": "2026-01-01T10:00:00Z", "set": {"first_name": "Dup"}, "base": {}}]')$$,
  $$values ('stale')$$, 'the same version again is stale');
select results_eq(
  $$select outcome from sync.apply_inbound_changes('aaaaaaaa-0000-4000-8000-0000000000c1', 'contact',
    '[{"remote_id": "501", "remote_updated_at": "2025-12-31T00:00:00Z", "set": {"first_name": "Old"}, "base": {}}]')$$,
  $$values ('stale')$$, 'an older version is stale');
select is((select first_name from crm.contacts where email = 'ann@example.com'), 'Ann', 'stale changes are not applied');

-- A newer version updates only the fields it sets.
update crm.contacts set phone = '+1 555 0100' where email = 'ann@example.com';
select results_eq(
  $$select outcome from sync.apply_inbound_changes('aaaaaaaa-0000-4000-8000-0000000000c1', 'contact',
    '[{"remote_id": "501", "remote_updated_at": "2026-01-02T00:00:00Z", "set": {"first_name": "Anne"},
       "base": {"email": "ann@example.com", "first_name": "Anne"}}]')$$,
  $$values ('updated')$$, 'a newer version is applied');
select results_eq($$select first_name, phone from crm.contacts where email = 'ann@example.com'$$,
  $$values ('Anne', '+1 555 0100')$$, 'only the fields it sets change; the local phone stays');

-- A local edit between read and apply makes the worker read again.
select results_eq(
  $$select outcome from sync.apply_inbound_changes('aaaaaaaa-0000-4000-8000-0000000000c1', 'contact',
    '[{"remote_id": "501", "remote_updated_at": "2026-01-03T00:00:00Z", "expected_local_updated_at": "2000-01-01T00:00:00Z",
       "set": {"first_name": "Race"}, "base": {}}]')$$,
  $$values ('retry')$$, 'a local row changed since it was read asks for a retry');
select is((select remote_updated_at from sync.identity_map where remote_id = '501'), '2026-01-02T00:00:00Z'::timestamptz,
  'a retried change does not advance the applied version');

-- Columns outside the synced set are ignored.
select results_eq(
  $$select outcome from sync.apply_inbound_changes('aaaaaaaa-0000-4000-8000-0000000000c1', 'contact',
    '[{"remote_id": "501", "remote_updated_at": "2026-01-04T00:00:00Z", "set": {"tenant_id": "00000000-0000-4000-8000-000000000000", "id": "00000000-0000-4000-8000-000000000000"}, "base": {}}]')$$,
  $$values ('updated')$$, 'a change naming non-synced columns is accepted');
select is((select tenant_id from crm.contacts where email = 'ann@example.com'), 'aaaaaaaa-0000-4000-8000-000000000000'::uuid,
  'but cannot set tenant_id or id');

-- Matching: a new remote record with the email of an unmapped local contact attaches to it.
insert into crm.contacts (id, tenant_id, email, first_name) values
  ('aaaaaaaa-0000-4000-8000-0000000000d1', 'aaaaaaaa-0000-4000-8000-000000000000', 'bo@example.com', 'Bo');
select results_eq(
  $$select local_id from sync.match_local_records('aaaaaaaa-0000-4000-8000-0000000000c1', 'contact', '{"777": "BO@example.com"}')$$,
  $$values ('aaaaaaaa-0000-4000-8000-0000000000d1'::uuid)$$, 'an unmapped local contact is matched by email, case-insensitively');
select results_eq(
  $$select outcome from sync.apply_inbound_changes('aaaaaaaa-0000-4000-8000-0000000000c1', 'contact',
    '[{"remote_id": "777", "local_id": "aaaaaaaa-0000-4000-8000-0000000000d1", "remote_updated_at": "2026-01-01T00:00:00Z",
       "set": {"last_name": "Diddley"}, "base": {"email": "bo@example.com", "last_name": "Diddley"}}]')$$,
  $$values ('matched')$$, 'and attached instead of duplicated');
select is((select count(*)::int from crm.contacts where email = 'bo@example.com'), 1, 'one Bo');
select is((select count(*)::int from sync.match_local_records('aaaaaaaa-0000-4000-8000-0000000000c1', 'contact', '{"778": "bo@example.com"}')),
  0, 'a contact already mapped is not matched again');

-- Deletion and restore.
select results_eq(
  $$select outcome from sync.apply_inbound_changes('aaaaaaaa-0000-4000-8000-0000000000c1', 'contact',
    '[{"remote_id": "777", "remote_updated_at": "2026-01-05T00:00:00Z", "deleted": true}]')$$,
  $$values ('deleted')$$, 'a remote deletion is applied');
select isnt((select deleted_at from crm.contacts where email = 'bo@example.com'), null, 'as a soft delete');
select apply_inbound_changes from sync.apply_inbound_changes('aaaaaaaa-0000-4000-8000-0000000000c1', 'contact',
  '[{"remote_id": "777", "remote_updated_at": "2026-01-06T00:00:00Z", "set": {}, "base": {}, "restore": true}]');
select is((select deleted_at from crm.contacts where email = 'bo@example.com'), null, 'a restore brings it back');

-- Outbound: one message per enabled connection and changed row, one batch per statement.
select pgmq.purge_queue('crm_outbound');
update sync.connections set enabled = false where id = 'aaaaaaaa-0000-4000-8000-0000000000c2';
insert into crm.deals (tenant_id, name) values
  ('aaaaaaaa-0000-4000-8000-000000000000', 'D1'), ('aaaaaaaa-0000-4000-8000-000000000000', 'D2'),
  ('aaaaaaaa-0000-4000-8000-000000000000', 'D3');
select is((select count(*)::int from pgmq.q_crm_outbound where message ->> 'entity_type' = 'deal'
             and message ->> 'connection_id' = 'aaaaaaaa-0000-4000-8000-0000000000c1' and message ->> 'op' = 'upsert'), 3,
  'a local insert of three deals queues three upserts for the enabled connection');
select is((select count(*)::int from pgmq.q_crm_outbound where message ->> 'connection_id' = 'aaaaaaaa-0000-4000-8000-0000000000c2'), 0,
  'a disabled connection gets nothing');
insert into crm.tasks (tenant_id, title) values ('aaaaaaaa-0000-4000-8000-000000000000', 'local only');
select is((select count(*)::int from pgmq.q_crm_outbound where message ->> 'entity_type' = 'task'), 0,
  'tasks stay local unless a connection lists them in settings.entities');
delete from crm.deals where name = 'D3';
select is((select count(*)::int from pgmq.q_crm_outbound where message ->> 'op' = 'delete'), 1, 'a hard delete queues a delete');

-- The outbound state translates references into the connection's remote ids.
update crm.deals set contact_id = (select id from crm.contacts where email = 'ann@example.com'),
  company_id = (select id from crm.companies where name = 'Acme') where name = 'D1';
insert into crm.companies (id, tenant_id, name) values ('aaaaaaaa-0000-4000-8000-0000000000e1', 'aaaaaaaa-0000-4000-8000-000000000000', 'Not synced yet');
update crm.deals set company_id = 'aaaaaaaa-0000-4000-8000-0000000000e1' where name = 'D2';
select results_eq(
  $$select local_references from sync.load_outbound_state('aaaaaaaa-0000-4000-8000-0000000000c1', 'deal',
     array(select id from crm.deals where name in ('D1', 'D2') order by name))$$,
  $$values ('{"company": "900", "contact": "501"}'::jsonb), ('{"company": "", "contact": null}'::jsonb)$$,
  'references are remote ids, empty when the referenced record is not in the CRM yet');

select is(sync.record_outbound_results('aaaaaaaa-0000-4000-8000-0000000000c1', 'deal',
  jsonb_build_array(jsonb_build_object('local_id', (select id from crm.deals where name = 'D1'), 'remote_id', '3001',
    'remote_updated_at', '2026-02-01T00:00:00Z', 'base', '{"name": "D1"}'::jsonb, 'base_references', '{"company": "900"}'::jsonb))), 1,
  'a created record is recorded');
select results_eq(
  $$select remote_id, base from sync.load_outbound_state('aaaaaaaa-0000-4000-8000-0000000000c1', 'deal',
     array(select id from crm.deals where name = 'D1'))$$,
  $$values ('3001', '{"name": "D1"}'::jsonb)$$, 'with its remote id and shadow');

select * from finish();
rollback;
