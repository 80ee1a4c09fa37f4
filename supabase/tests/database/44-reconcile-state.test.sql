-- sync.load_reconcile_state: what reconciliation compares of each listed
-- record, the local row's synced columns and references only; and the rate
-- budget's window, rewritten by every grant, kept uncompressed.
begin;
select plan(6);

insert into crm.tenants (id, name, slug) values ('aaaaaaaa-0000-4000-8000-000000000000', 'Reconcile state', 'reconcile-state');
insert into sync.connections (id, tenant_id, provider, account_id) values
  ('aaaaaaaa-0000-4000-8000-0000000000c1', 'aaaaaaaa-0000-4000-8000-000000000000', 'hubspot', 'reconcile-state');
insert into crm.companies (id, tenant_id, name, domain) values
  ('aaaaaaaa-0000-4000-8000-0000000000a1', 'aaaaaaaa-0000-4000-8000-000000000000', 'Acme', 'acme.io');
insert into crm.contacts (id, tenant_id, email, phone, company_id, deleted_at) values
  ('aaaaaaaa-0000-4000-8000-000000000001', 'aaaaaaaa-0000-4000-8000-000000000000', 'live@x.io', '1', 'aaaaaaaa-0000-4000-8000-0000000000a1', null),
  ('aaaaaaaa-0000-4000-8000-000000000002', 'aaaaaaaa-0000-4000-8000-000000000000', 'gone@x.io', '2', null, now());
select sync.record_outbound_results('aaaaaaaa-0000-4000-8000-0000000000c1', 'contact', $$[
  {"local_id": "aaaaaaaa-0000-4000-8000-000000000001", "remote_id": "701", "remote_updated_at": "2026-11-01T10:00:00Z",
   "base": {"email": "live@x.io"}, "base_references": {}},
  {"local_id": "aaaaaaaa-0000-4000-8000-000000000002", "remote_id": "702", "remote_updated_at": "2026-11-01T10:00:00Z",
   "base": {"email": "gone@x.io"}, "base_references": {}, "deleted": true}]$$);

select results_eq($$select remote_id, local_id, local_deleted, remote_deleted
                      from sync.load_reconcile_state('aaaaaaaa-0000-4000-8000-0000000000c1', 'contact', array['701', '702', '799'])
                     order by remote_id$$,
  $$values ('701', 'aaaaaaaa-0000-4000-8000-000000000001'::uuid, false, false),
           ('702', 'aaaaaaaa-0000-4000-8000-000000000002'::uuid, true, true),
           ('799', null::uuid, false, false)$$,
  'one row per remote id: mapped or not, and deleted on which side');
select is((select local::jsonb from sync.load_reconcile_state('aaaaaaaa-0000-4000-8000-0000000000c1', 'contact', array['701'])),
  '{"email": "live@x.io", "first_name": null, "last_name": null, "phone": "1", "lifecycle_stage": null, "lead_source": null,
    "custom_fields": {}, "company_id": "aaaaaaaa-0000-4000-8000-0000000000a1"}'::jsonb,
  'the local row: its synced columns and its references, no bookkeeping columns');
select is((select local from sync.load_reconcile_state('aaaaaaaa-0000-4000-8000-0000000000c1', 'contact', array['799']))::text, null,
  'no local row for an unmapped record');

-- Every entity type reads the columns the engine syncs, and its references.
select is((select array_agg(k order by k) from json_object_keys(
            (select local from sync.load_reconcile_state('aaaaaaaa-0000-4000-8000-0000000000c1', 'company', array['801'])
              where local is not null)) k),
  null, 'an unmapped company has no local row');
select sync.record_outbound_results('aaaaaaaa-0000-4000-8000-0000000000c1', 'company', $$[
  {"local_id": "aaaaaaaa-0000-4000-8000-0000000000a1", "remote_id": "801", "remote_updated_at": "2026-11-01T10:00:00Z",
   "base": {"name": "Acme"}, "base_references": {}}]$$);
select is((select array_agg(k order by k) from json_object_keys(
            (select local from sync.load_reconcile_state('aaaaaaaa-0000-4000-8000-0000000000c1', 'company', array['801']))) k),
  (select array_agg(c order by c) from unnest(sync._synced_columns('company')) c),
  'a company: its synced columns');

select is((select attstorage from pg_attribute where attrelid = 'sync.rate_budgets'::regclass and attname = 'grants'), 'e',
  'the rate budget''s window is stored out of line, uncompressed');

select * from finish();
