-- A record deleted in the CRM and restored locally is created there anew:
-- load_inbound_state says the CRM's deletion is known (its late webhook
-- echo does not delete the restored record), record_outbound_results maps
-- the local record to the new remote record in place of the deleted one, and
-- still refuses a second live mapping.
begin;
select plan(4);

insert into crm.tenants (id, name, slug) values ('aaaaaaaa-0000-4000-8000-000000000000', 'Recreate', 'recreate');
insert into sync.connections (id, tenant_id, provider, account_id) values
  ('aaaaaaaa-0000-4000-8000-0000000000c1', 'aaaaaaaa-0000-4000-8000-000000000000', 'pipedrive', 'recreate');
insert into crm.contacts (id, tenant_id, email) values
  ('aaaaaaaa-0000-4000-8000-000000000001', 'aaaaaaaa-0000-4000-8000-000000000000', 'r@x.io'),
  ('aaaaaaaa-0000-4000-8000-000000000002', 'aaaaaaaa-0000-4000-8000-000000000000', 's@x.io');

-- 901 was deleted in the CRM (the local deletion reached it); 902 is live.
select sync.record_outbound_results('aaaaaaaa-0000-4000-8000-0000000000c1', 'contact', $$[
  {"local_id": "aaaaaaaa-0000-4000-8000-000000000001", "remote_id": "person:901", "remote_updated_at": "2026-11-01T10:00:00Z",
   "base": {"email": "r@x.io"}, "base_references": {}, "deleted": true},
  {"local_id": "aaaaaaaa-0000-4000-8000-000000000002", "remote_id": "person:902", "remote_updated_at": "2026-11-01T10:00:00Z",
   "base": {"email": "s@x.io"}, "base_references": {}}]$$);

select results_eq($$select remote_id, remote_deleted from sync.load_inbound_state('aaaaaaaa-0000-4000-8000-0000000000c1', 'contact',
                     array['person:901', 'person:902'])$$,
  $$values ('person:901', true), ('person:902', false)$$, 'load_inbound_state says which CRM deletions are known');

select sync.record_outbound_results('aaaaaaaa-0000-4000-8000-0000000000c1', 'contact', $$[
  {"local_id": "aaaaaaaa-0000-4000-8000-000000000001", "remote_id": "person:911", "remote_updated_at": "2026-11-01T10:05:00Z",
   "base": {"email": "r@x.io"}, "base_references": {}}]$$);
select results_eq($$select remote_id, remote_deleted_at is null from sync.identity_map
                     where local_id = 'aaaaaaaa-0000-4000-8000-000000000001'$$,
  $$values ('person:911', true)$$, 'the record created anew takes the place of the deleted one');
select is((select count(*)::int from sync.identity_map where remote_id = 'person:901'), 0, 'the deleted remote record is forgotten');

select throws_ok($$select sync.record_outbound_results('aaaaaaaa-0000-4000-8000-0000000000c1', 'contact', '[
  {"local_id": "aaaaaaaa-0000-4000-8000-000000000002", "remote_id": "person:912", "remote_updated_at": "2026-11-01T10:05:00Z",
   "base": {"email": "s@x.io"}, "base_references": {}}]')$$,
  '23505', null, 'a live mapping is not replaced');

select * from finish();
rollback;
