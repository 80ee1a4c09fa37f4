-- A write's time is not a version read: record_outbound_results keeps it in
-- remote_written_at and moves remote_updated_at only for a create (the
-- engine wrote the whole record); load_inbound_state returns both, so the
-- worker skips exactly the write's echo and still reads an older CRM edit.
begin;
select plan(5);

insert into crm.tenants (id, name, slug) values ('aaaaaaaa-0000-4000-8000-000000000000', 'Written versions', 'written-versions');
insert into sync.connections (id, tenant_id, provider, account_id) values
  ('aaaaaaaa-0000-4000-8000-0000000000c1', 'aaaaaaaa-0000-4000-8000-000000000000', 'hubspot', 'written-versions');
insert into crm.contacts (id, tenant_id, email) values
  ('aaaaaaaa-0000-4000-8000-000000000001', 'aaaaaaaa-0000-4000-8000-000000000000', 'w@x.io');

select sync.record_outbound_results('aaaaaaaa-0000-4000-8000-0000000000c1', 'contact', $$[
  {"local_id": "aaaaaaaa-0000-4000-8000-000000000001", "remote_id": "901", "remote_updated_at": "2026-11-01T10:00:00Z",
   "base": {"email": "w@x.io"}, "base_references": {}}]$$);
select results_eq($$select remote_updated_at, remote_written_at from sync.identity_map where remote_id = '901'$$,
  $$values ('2026-11-01T10:00:00Z'::timestamptz, '2026-11-01T10:00:00Z'::timestamptz)$$,
  'a create is a version read and written');

select sync.record_outbound_results('aaaaaaaa-0000-4000-8000-0000000000c1', 'contact', $$[
  {"local_id": "aaaaaaaa-0000-4000-8000-000000000001", "remote_id": "901", "remote_updated_at": "2026-11-01T10:05:00Z",
   "base": {"email": "w@x.io", "phone": "1"}, "base_references": {}}]$$);
select results_eq($$select remote_updated_at, remote_written_at, base ->> 'phone' from sync.identity_map where remote_id = '901'$$,
  $$values ('2026-11-01T10:00:00Z'::timestamptz, '2026-11-01T10:05:00Z'::timestamptz, '1')$$,
  'an update records its time apart and the new shadow, not a new version read');

select sync.record_outbound_results('aaaaaaaa-0000-4000-8000-0000000000c1', 'contact', $$[
  {"local_id": "aaaaaaaa-0000-4000-8000-000000000001", "remote_id": "901", "remote_updated_at": "2026-11-01T10:01:00Z",
   "base": {"email": "w@x.io", "phone": "1"}, "base_references": {}}]$$);
select is((select remote_written_at from sync.identity_map where remote_id = '901'), '2026-11-01T10:05:00Z'::timestamptz,
  'a late replay of an older write does not move the write time back');

select results_eq($$select remote_updated_at, remote_written_at from sync.load_inbound_state('aaaaaaaa-0000-4000-8000-0000000000c1', 'contact', array['901'])$$,
  $$values ('2026-11-01T10:00:00Z'::timestamptz, '2026-11-01T10:05:00Z'::timestamptz)$$, 'load_inbound_state returns both');

-- The record read after the write (it may hold a CRM edit the write did not touch) is applied, not stale.
select results_eq($$select outcome from sync.apply_inbound_changes('aaaaaaaa-0000-4000-8000-0000000000c1', 'contact', $j$[
  {"remote_id": "901", "remote_updated_at": "2026-11-01T10:05:00Z", "set": {"first_name": "From CRM"},
   "base": {"email": "w@x.io", "phone": "1", "first_name": "From CRM"}}]$j$)$$,
  $$values ('updated')$$, 'the version of the engine''s own write is still applied when read');

select * from finish();
rollback;
