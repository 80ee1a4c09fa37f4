-- A deletion the engine makes in the CRM is the record's newest version: a
-- CRM event dated before it (late, an edit from before the deletion) is
-- stale, and cannot restore the record; a later one (a restore there) is
-- applied.
begin;
select plan(4);

insert into crm.tenants (id, name, slug) values ('ffffffff-0000-4000-8000-000000000000', 'Deletion version', 'deletion-version');
insert into sync.connections (id, tenant_id, provider, account_id) values
  ('ffffffff-0000-4000-8000-0000000000c1', 'ffffffff-0000-4000-8000-000000000000', 'pipedrive', 'deletion-version');
insert into crm.contacts (id, tenant_id, email) values
  ('ffffffff-0000-4000-8000-000000000001', 'ffffffff-0000-4000-8000-000000000000', 'd@x.io');
select sync.record_outbound_results('ffffffff-0000-4000-8000-0000000000c1', 'contact', $$[
  {"local_id": "ffffffff-0000-4000-8000-000000000001", "remote_id": "person:12", "remote_updated_at": "2026-11-01T10:00:00Z",
   "base": {"email": "d@x.io"}, "base_references": {}}]$$);

-- Deleted locally (another CRM's deletion, say), then in this CRM by the engine.
update crm.contacts set deleted_at = now() where id = 'ffffffff-0000-4000-8000-000000000001';
select sync.record_outbound_results('ffffffff-0000-4000-8000-0000000000c1', 'contact', $$[
  {"local_id": "ffffffff-0000-4000-8000-000000000001", "remote_id": "person:12", "remote_updated_at": "2026-11-01T10:05:00.450Z",
   "base": {"email": "d@x.io"}, "base_references": {}, "deleted": true}]$$);
select results_eq($$select remote_updated_at, remote_deleted_at from sync.identity_map where remote_id = 'person:12'$$,
  $$values ('2026-11-01T10:05:00.450Z'::timestamptz, '2026-11-01T10:05:00.450Z'::timestamptz)$$,
  'the deletion is the record''s version');

select results_eq($$select outcome from sync.apply_inbound_changes('ffffffff-0000-4000-8000-0000000000c1', 'contact',
  '[{"remote_id": "person:12", "remote_updated_at": "2026-11-01T10:05:00Z", "set": {}, "base": {"email": "d@x.io"}, "restore": true}]')$$,
  $$values ('stale')$$, 'an event from before the deletion is stale');
select isnt((select deleted_at from crm.contacts where id = 'ffffffff-0000-4000-8000-000000000001'), null, 'and the record stays deleted');

select results_eq($$select outcome from sync.apply_inbound_changes('ffffffff-0000-4000-8000-0000000000c1', 'contact',
  '[{"remote_id": "person:12", "remote_updated_at": "2026-11-01T10:07:00Z", "set": {}, "base": {"email": "d@x.io"}, "restore": true}]')$$,
  $$values ('updated')$$, 'a later one (restored in the CRM) is applied');

select * from finish();
rollback;
