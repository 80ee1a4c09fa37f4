-- A deletion recorded for a record that a restore brought back meanwhile
-- queues the record again for that CRM (the next run re-creates it there);
-- one still deleted queues nothing.
begin;
select plan(3);

insert into crm.tenants (id, name, slug) values ('bbbbbbbb-0000-4000-8000-000000000000', 'Crossed', 'crossed');
insert into sync.connections (id, tenant_id, provider, account_id) values
  ('bbbbbbbb-0000-4000-8000-0000000000c1', 'bbbbbbbb-0000-4000-8000-000000000000', 'hubspot', 'crossed');
insert into crm.contacts (id, tenant_id, email, deleted_at) values
  ('bbbbbbbb-0000-4000-8000-000000000001', 'bbbbbbbb-0000-4000-8000-000000000000', 'restored@x.io', null),
  ('bbbbbbbb-0000-4000-8000-000000000002', 'bbbbbbbb-0000-4000-8000-000000000000', 'gone@x.io', now());
delete from pgmq.q_crm_outbound;

select sync.record_outbound_results('bbbbbbbb-0000-4000-8000-0000000000c1', 'contact', $$[
  {"local_id": "bbbbbbbb-0000-4000-8000-000000000001", "remote_id": "701", "remote_updated_at": "2026-11-01T10:00:00Z",
   "base": {"email": "restored@x.io"}, "base_references": {}, "deleted": true},
  {"local_id": "bbbbbbbb-0000-4000-8000-000000000002", "remote_id": "702", "remote_updated_at": "2026-11-01T10:00:00Z",
   "base": {"email": "gone@x.io"}, "base_references": {}, "deleted": true}]$$);

select results_eq($$select remote_id, remote_deleted_at is not null from sync.identity_map
                     where connection_id = 'bbbbbbbb-0000-4000-8000-0000000000c1' order by remote_id$$,
  $$values ('701', true), ('702', true)$$, 'both deletions are recorded');
select results_eq($$select message ->> 'local_id', message ->> 'op', message ->> 'connection_id' from pgmq.q_crm_outbound$$,
  $$values ('bbbbbbbb-0000-4000-8000-000000000001', 'upsert', 'bbbbbbbb-0000-4000-8000-0000000000c1')$$,
  'the record live again is queued for that CRM, the one still deleted is not');

-- What the queued message leads to: the outbound state shows a live record whose remote one is deleted (planned as a create).
select results_eq($$select local_id::text, remote_deleted from sync.load_outbound_state('bbbbbbbb-0000-4000-8000-0000000000c1', 'contact',
                     array['bbbbbbbb-0000-4000-8000-000000000001']::uuid[])$$,
  $$values ('bbbbbbbb-0000-4000-8000-000000000001', true)$$, 'the next run sees the remote deletion of a live record');

select * from finish();
rollback;
