-- GDPR erasure in SQL: the person leaves every table of the tenant (no trace
-- of name, email or phone), a tombstone without personal data stays, each
-- CRM holding the person gets an erase message; the access export returns
-- what is held.
begin;
select plan(28);

insert into crm.tenants (id, name, slug) values
  ('aaaaaaaa-0000-4000-8000-00000000e000', 'Erase A', 'erase-a'),
  ('bbbbbbbb-0000-4000-8000-00000000e000', 'Erase B', 'erase-b');
insert into sync.connections (id, tenant_id, provider, account_id) values
  ('aaaaaaaa-0000-4000-8000-00000000e0c1', 'aaaaaaaa-0000-4000-8000-00000000e000', 'hubspot', 'erase-hs'),
  ('aaaaaaaa-0000-4000-8000-00000000e0c2', 'aaaaaaaa-0000-4000-8000-00000000e000', 'pipedrive', 'erase-pd');
insert into crm.contacts (id, tenant_id, email, first_name, last_name, phone) values
  ('aaaaaaaa-0000-4000-8000-00000000e001', 'aaaaaaaa-0000-4000-8000-00000000e000', 'zebulon.q@erase.example', 'Zebulon', 'Quixwright', '+44 20 7946 0321'),
  ('aaaaaaaa-0000-4000-8000-00000000e002', 'aaaaaaaa-0000-4000-8000-00000000e000', 'other@erase.example', 'Other', 'Person', '+1 555 0111');
update crm.contacts set lifecycle_stage = 'lead' where id = 'aaaaaaaa-0000-4000-8000-00000000e001';
insert into crm.activities (id, tenant_id, type, subject, body, contact_id) values
  ('aaaaaaaa-0000-4000-8000-00000000e0a1', 'aaaaaaaa-0000-4000-8000-00000000e000', 'call', 'Call with Zebulon', 'Asked about pricing',
   'aaaaaaaa-0000-4000-8000-00000000e001'),
  ('aaaaaaaa-0000-4000-8000-00000000e0a2', 'aaaaaaaa-0000-4000-8000-00000000e000', 'note', 'Team note',
   'Zebulon Quixwright (zebulon.q@erase.example) referred Other', 'aaaaaaaa-0000-4000-8000-00000000e002');
insert into crm.tasks (id, tenant_id, title, contact_id) values
  ('aaaaaaaa-0000-4000-8000-00000000e0b1', 'aaaaaaaa-0000-4000-8000-00000000e000', 'Call Zebulon back on +44 20 7946 0321', 'aaaaaaaa-0000-4000-8000-00000000e001');
insert into crm.deals (id, tenant_id, name, contact_id) values
  ('aaaaaaaa-0000-4000-8000-00000000e0d1', 'aaaaaaaa-0000-4000-8000-00000000e000', 'Zebulon Quixwright renewal', 'aaaaaaaa-0000-4000-8000-00000000e001');
insert into sync.identity_map (connection_id, tenant_id, entity_type, remote_id, local_id, base) values
  ('aaaaaaaa-0000-4000-8000-00000000e0c1', 'aaaaaaaa-0000-4000-8000-00000000e000', 'contact', '501', 'aaaaaaaa-0000-4000-8000-00000000e001',
   '{"email": "zebulon.q@erase.example", "phone": "+44 20 7946 0321"}'),
  ('aaaaaaaa-0000-4000-8000-00000000e0c2', 'aaaaaaaa-0000-4000-8000-00000000e000', 'contact', '77', 'aaaaaaaa-0000-4000-8000-00000000e001',
   '{"email": "zebulon.q@erase.example"}');
insert into sync.webhook_receipts (connection_id, dedupe_key) values
  ('aaaaaaaa-0000-4000-8000-00000000e0c1', 'contact.propertyChange|501|1764100000000|9|email');
select pgmq.send('crm_inbound', '{"connection_id": "aaaaaaaa-0000-4000-8000-00000000e0c1", "event": {"subscriptionType": "contact.propertyChange", "objectId": 501, "propertyName": "email", "propertyValue": "zebulon.q@erase.example"}}');
select pgmq.send('crm_inbound', '{"connection_id": "aaaaaaaa-0000-4000-8000-00000000e0c1", "event": {"subscriptionType": "contact.creation", "objectId": 502}}');
select pgmq.send('crm_inbound', '{"connection_id": "aaaaaaaa-0000-4000-8000-00000000e0c2", "event": {"meta": {"action": "change", "entity": "person", "entity_id": "77"}, "data": {"id": 77}}}');
select pgmq.archive('crm_inbound', pgmq.send('crm_inbound', '{"connection_id": "aaaaaaaa-0000-4000-8000-00000000e0c1", "event": {"subscriptionType": "contact.propertyChange", "objectId": 501, "propertyValue": "Quixwright"}}'));
insert into sync.dead_letters (queue_name, connection_id, tenant_id, message, error, attempts) values
  ('crm_outbound', 'aaaaaaaa-0000-4000-8000-00000000e0c1', 'aaaaaaaa-0000-4000-8000-00000000e000',
   '{"op": "upsert", "local_id": "aaaaaaaa-0000-4000-8000-00000000e001"}', 'HubSpot 400: Property values were not valid', 8),
  ('crm_outbound', 'aaaaaaaa-0000-4000-8000-00000000e0c1', 'aaaaaaaa-0000-4000-8000-00000000e000',
   '{"op": "upsert", "local_id": "aaaaaaaa-0000-4000-8000-00000000e002"}', 'HubSpot 409: Contact already exists: zebulon.q@erase.example', 8);

-- Every text and JSON column of every table, searched for the person.
create function pg_temp.traces(needles text[]) returns setof text language plpgsql as $$
declare
  col record;
  hits bigint;
begin
  for col in
    select c.table_schema, c.table_name, c.column_name from information_schema.columns c
      join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name and t.table_type = 'BASE TABLE'
     where c.table_schema not in ('pg_catalog', 'information_schema') and c.data_type in ('text', 'character varying', 'json', 'jsonb', 'ARRAY')
  loop
    execute format('select count(*) from %I.%I where exists (select from unnest($1) n where strpos(lower(%I::text), n) > 0)',
                   col.table_schema, col.table_name, col.column_name) into hits using needles;
    if hits > 0 then
      return next format('%s.%s.%s', col.table_schema, col.table_name, col.column_name);
    end if;
  end loop;
end $$;

select ok(array_length(array(select pg_temp.traces(array['quixwright', 'zebulon.q@erase.example', '+44 20 7946 0321'])), 1) >= 8,
  'before: the person is in the contacts, activities, tasks, deals, shadows, queues, dead letters and audit');

select pgmq.purge_queue('crm_outbound');
set local role service_role;
select lives_ok($$select privacy.erase_contact('aaaaaaaa-0000-4000-8000-00000000e001', 'dpo@acme.example')$$, 'the service erases a person');
reset role;

select is(array(select pg_temp.traces(array['quixwright', 'zebulon.q@erase.example', '+44 20 7946 0321'])), array[]::text[],
  'after: no text or JSON column of any table holds the name, email or phone');
select is((select count(*)::int from crm.contacts where id = 'aaaaaaaa-0000-4000-8000-00000000e001'), 0, 'the contact row is gone');
select results_eq($$select subject, body from crm.activities where id = 'aaaaaaaa-0000-4000-8000-00000000e0a1'$$,
  $$values (null::text, null::text)$$, 'the person''s activities lose their text');
select is((select body from crm.activities where id = 'aaaaaaaa-0000-4000-8000-00000000e0a2'), '[erased] ([erased]) referred Other',
  'mentions in other activities are replaced');
select is((select title from crm.tasks where id = 'aaaaaaaa-0000-4000-8000-00000000e0b1'), 'Erased (GDPR request)', 'the person''s tasks lose their title');
select is((select contact_id from crm.deals where id = 'aaaaaaaa-0000-4000-8000-00000000e0d1'), null, 'deals no longer point at the person');
select is((select count(*)::int from crm.contacts where id = 'aaaaaaaa-0000-4000-8000-00000000e002'), 1, 'other people are untouched');
select is((select count(*)::int from sync.identity_map where local_id = 'aaaaaaaa-0000-4000-8000-00000000e001'), 0, 'identity rows and shadows go');
select is((select count(*)::int from pgmq.q_crm_inbound where message -> 'event' ->> 'objectId' = '501'), 0, 'queued events about the person go');
select is((select count(*)::int from pgmq.q_crm_inbound where message -> 'event' -> 'meta' ->> 'entity_id' = '77'), 0,
  'queued Pipedrive events about the person go too');
select is((select count(*)::int from pgmq.q_crm_inbound where message -> 'event' ->> 'objectId' = '502'), 1, 'other queued events stay');
select is((select count(*)::int from sync.dead_letters where message ->> 'local_id' = 'aaaaaaaa-0000-4000-8000-00000000e001'), 0,
  'dead letters about the person go');
select is((select error from sync.dead_letters where message ->> 'local_id' = 'aaaaaaaa-0000-4000-8000-00000000e002'),
  'HubSpot 409: Contact already exists: [erased]', 'other dead letters lose the mention');
select is((select count(*)::int from sync.webhook_receipts where dedupe_key like 'contact.propertyChange|501|%'), 0, 'webhook receipts of the person go');

select results_eq(
  $$select message ->> 'connection_id', message ->> 'op', message ->> 'remote_id' from pgmq.q_crm_outbound
     where message ->> 'op' <> 'upsert' order by 1$$,
  $$values ('aaaaaaaa-0000-4000-8000-00000000e0c1', 'erase', '501'), ('aaaaaaaa-0000-4000-8000-00000000e0c2', 'erase', '77')$$,
  'each CRM holding the person gets one erase message, and no plain delete');
select results_eq(
  $$select e.requested_by, e.completed_at is null, (select array_agg(t.status order by t.remote_id) from privacy.erasure_targets t where t.erasure_id = e.id)
      from privacy.erasures e where e.local_id = 'aaaaaaaa-0000-4000-8000-00000000e001'$$,
  $$values ('dpo@acme.example', true, array['queued', 'queued'])$$,
  'the tombstone records who asked, and each CRM''s erasure as queued');
select results_eq(
  $$select action, changes from audit.entries where entity_id = 'aaaaaaaa-0000-4000-8000-00000000e001' order by id desc limit 1$$,
  $$values ('gdpr_deleted', '{}'::jsonb)$$, 'the audit trail ends with a gdpr_deleted entry without values');
select is(privacy.erase_contact('aaaaaaaa-0000-4000-8000-00000000e001', 'dpo@acme.example'),
  (select id from privacy.erasures where local_id = 'aaaaaaaa-0000-4000-8000-00000000e001'), 'erasing again returns the same erasure');

select is(privacy.record_remote_erasures('aaaaaaaa-0000-4000-8000-00000000e0c1',
  array[(select id from privacy.erasures where local_id = 'aaaaaaaa-0000-4000-8000-00000000e001')]),
  1, 'the worker records a CRM''s erasure');
select fail_messages.dead_lettered from pgmq.q_crm_outbound q,
  sync.fail_messages('crm_outbound', array[q.msg_id], 'Pipedrive 403: forbidden', 1) fail_messages
 where q.message ->> 'op' = 'erase' and q.message ->> 'connection_id' = 'aaaaaaaa-0000-4000-8000-00000000e0c2';
select results_eq(
  $$select t.status, t.error, e.completed_at is null from privacy.erasure_targets t join privacy.erasures e on e.id = t.erasure_id
     where e.local_id = 'aaaaaaaa-0000-4000-8000-00000000e001' order by t.remote_id$$,
  $$values ('erased', null::text, true), ('failed', 'Pipedrive 403: forbidden', true)$$,
  'a remote erasure that is dead-lettered shows as failed with its error; the erasure is not complete');
select is(sync.replay_dead_letters(array(select id from sync.dead_letters where message ->> 'op' = 'erase')), 1, 'the operator replays it');
select is((select t.status from privacy.erasure_targets t where t.remote_id = '77'), 'queued', 'and it is queued again');

-- A create that was in flight during the erasure finishes: the record it made is erased too, not mapped.
select pgmq.purge_queue('crm_outbound');
insert into sync.connections (id, tenant_id, provider, account_id) values
  ('aaaaaaaa-0000-4000-8000-00000000e0c3', 'aaaaaaaa-0000-4000-8000-00000000e000', 'hubspot', 'erase-hs-2');
select sync.record_outbound_results('aaaaaaaa-0000-4000-8000-00000000e0c3', 'contact',
  '[{"local_id": "aaaaaaaa-0000-4000-8000-00000000e001", "remote_id": "901", "remote_updated_at": "2026-11-25T12:00:00Z", "base": {}}]');
select is((select count(*)::int from sync.identity_map where local_id = 'aaaaaaaa-0000-4000-8000-00000000e001'), 0,
  'a late CRM record of an erased person is not mapped');
select results_eq($$select message ->> 'op', message ->> 'remote_id' from pgmq.q_crm_outbound
                     where message ->> 'connection_id' = 'aaaaaaaa-0000-4000-8000-00000000e0c3'$$,
  $$values ('erase', '901')$$, 'it is erased in that CRM');

-- Access export, and who may call what.
select is((privacy.export_contact('aaaaaaaa-0000-4000-8000-00000000e002') -> 'contact' ->> 'email'), 'other@erase.example',
  'the export holds the contact');
set local role authenticated;
select throws_ok($$select privacy.erase_contact('aaaaaaaa-0000-4000-8000-00000000e002', 'me')$$, '42501', null,
  'app users cannot call the erasure directly');
reset role;

select * from finish();
rollback;
