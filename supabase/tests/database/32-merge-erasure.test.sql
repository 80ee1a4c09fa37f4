-- Merges remap the identity map and repoint references; privacy deletions
-- erase the local record and tell the other connections.
begin;
select plan(11);

insert into crm.tenants (id, name, slug) values ('aaaaaaaa-0000-4000-8000-000000000000', 'Merge A', 'merge-a');
insert into sync.connections (id, tenant_id, provider, account_id) values
  ('aaaaaaaa-0000-4000-8000-0000000000c1', 'aaaaaaaa-0000-4000-8000-000000000000', 'hubspot', 'merge-hs'),
  ('aaaaaaaa-0000-4000-8000-0000000000c2', 'aaaaaaaa-0000-4000-8000-000000000000', 'pipedrive', 'merge-pd');
insert into crm.contacts (id, tenant_id, email) values
  ('aaaaaaaa-0000-4000-8000-000000000001', 'aaaaaaaa-0000-4000-8000-000000000000', 'primary@x.io'),
  ('aaaaaaaa-0000-4000-8000-000000000002', 'aaaaaaaa-0000-4000-8000-000000000000', 'dup@x.io'),
  ('aaaaaaaa-0000-4000-8000-000000000003', 'aaaaaaaa-0000-4000-8000-000000000000', 'only-merged@x.io'),
  ('aaaaaaaa-0000-4000-8000-000000000004', 'aaaaaaaa-0000-4000-8000-000000000000', 'erase@x.io');
insert into sync.identity_map (connection_id, tenant_id, entity_type, remote_id, local_id) values
  ('aaaaaaaa-0000-4000-8000-0000000000c1', 'aaaaaaaa-0000-4000-8000-000000000000', 'contact', '1', 'aaaaaaaa-0000-4000-8000-000000000001'),
  ('aaaaaaaa-0000-4000-8000-0000000000c1', 'aaaaaaaa-0000-4000-8000-000000000000', 'contact', '2', 'aaaaaaaa-0000-4000-8000-000000000002'),
  ('aaaaaaaa-0000-4000-8000-0000000000c1', 'aaaaaaaa-0000-4000-8000-000000000000', 'contact', '3', 'aaaaaaaa-0000-4000-8000-000000000003'),
  ('aaaaaaaa-0000-4000-8000-0000000000c1', 'aaaaaaaa-0000-4000-8000-000000000000', 'contact', '4', 'aaaaaaaa-0000-4000-8000-000000000004'),
  ('aaaaaaaa-0000-4000-8000-0000000000c2', 'aaaaaaaa-0000-4000-8000-000000000000', 'contact', 'p4', 'aaaaaaaa-0000-4000-8000-000000000004');
insert into crm.deals (id, tenant_id, name, contact_id) values
  ('aaaaaaaa-0000-4000-8000-0000000000d1', 'aaaaaaaa-0000-4000-8000-000000000000', 'Deal of dup', 'aaaaaaaa-0000-4000-8000-000000000002');
select pgmq.purge_queue('crm_outbound');

select is(sync.apply_remote_merge('aaaaaaaa-0000-4000-8000-0000000000c1', 'contact', '1', array['2']),
  'aaaaaaaa-0000-4000-8000-000000000001'::uuid, 'the primary''s local record survives a merge');
select is((select contact_id from crm.deals where name = 'Deal of dup'), 'aaaaaaaa-0000-4000-8000-000000000001'::uuid,
  'references to the merged record now point at the survivor');
select isnt((select deleted_at from crm.contacts where email = 'dup@x.io'), null, 'the merged record is soft-deleted');
select is((select count(*)::int from sync.identity_map where remote_id = '2'), 0, 'the merged remote id leaves the identity map');
select is((select count(*)::int from pgmq.q_crm_outbound where message ->> 'connection_id' = 'aaaaaaaa-0000-4000-8000-0000000000c1'), 0,
  'the merge is not sent back to the CRM where it happened');
select is((select count(*)::int from pgmq.q_crm_outbound where message ->> 'connection_id' = 'aaaaaaaa-0000-4000-8000-0000000000c2'), 2,
  'the other connection hears of it (the deletion and the repointed deal)');

select is(sync.apply_remote_merge('aaaaaaaa-0000-4000-8000-0000000000c1', 'contact', '99', array['3']),
  'aaaaaaaa-0000-4000-8000-000000000003'::uuid, 'when only a merged record is known, it survives');
select is((select remote_id from sync.identity_map where local_id = 'aaaaaaaa-0000-4000-8000-000000000003'), '99',
  'and takes the primary''s remote id');

select pgmq.purge_queue('crm_outbound');
select is(sync.apply_remote_erasure('aaaaaaaa-0000-4000-8000-0000000000c1', 'contact', '4'),
  'aaaaaaaa-0000-4000-8000-000000000004'::uuid, 'a privacy deletion erases the local record');
select is((select count(*)::int from crm.contacts where email = 'erase@x.io'), 0, 'no row is left (not a soft delete)');
select results_eq(
  $$select message ->> 'connection_id', message ->> 'op' from pgmq.q_crm_outbound$$,
  $$values ('aaaaaaaa-0000-4000-8000-0000000000c2', 'erase')$$,
  'only the other connection is told to erase the person');

select * from finish();
rollback;
