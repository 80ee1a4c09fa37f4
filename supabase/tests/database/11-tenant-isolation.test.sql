-- Tenant isolation by RLS: for every crm table, a member of tenant A reads
-- and writes only A's rows, anon gets nothing, service_role sees everything.
-- Each policy has a test that fails when it is removed: the positive checks
-- (A can read/add/change/delete its own rows) catch a missing policy, the
-- negative ones catch a policy that lets another tenant through.
begin;
select plan(97);

insert into crm.tenants (id, name, slug) values
  ('aaaaaaaa-0000-4000-8000-000000000000', 'Tenant A', 'tenant-a'),
  ('bbbbbbbb-0000-4000-8000-000000000000', 'Tenant B', 'tenant-b');
insert into crm.companies (id, tenant_id, name) values
  ('aaaaaaaa-0000-4000-8000-000000000001', 'aaaaaaaa-0000-4000-8000-000000000000', 'A company'),
  ('bbbbbbbb-0000-4000-8000-000000000001', 'bbbbbbbb-0000-4000-8000-000000000000', 'B company');
insert into crm.contacts (id, tenant_id, email) values
  ('aaaaaaaa-0000-4000-8000-000000000002', 'aaaaaaaa-0000-4000-8000-000000000000', 'a@a.example'),
  ('bbbbbbbb-0000-4000-8000-000000000002', 'bbbbbbbb-0000-4000-8000-000000000000', 'b@b.example');
-- Deals without a contact: isolation rests on the deal's own tenant_id.
insert into crm.deals (id, tenant_id, name) values
  ('aaaaaaaa-0000-4000-8000-000000000003', 'aaaaaaaa-0000-4000-8000-000000000000', 'A deal'),
  ('bbbbbbbb-0000-4000-8000-000000000003', 'bbbbbbbb-0000-4000-8000-000000000000', 'B deal');
insert into crm.activities (id, tenant_id, type, subject) values
  ('aaaaaaaa-0000-4000-8000-000000000004', 'aaaaaaaa-0000-4000-8000-000000000000', 'note', 'A note'),
  ('bbbbbbbb-0000-4000-8000-000000000004', 'bbbbbbbb-0000-4000-8000-000000000000', 'note', 'B note');
insert into crm.tasks (id, tenant_id, title) values
  ('aaaaaaaa-0000-4000-8000-000000000005', 'aaaaaaaa-0000-4000-8000-000000000000', 'A task'),
  ('bbbbbbbb-0000-4000-8000-000000000005', 'bbbbbbbb-0000-4000-8000-000000000000', 'B task');
insert into sync.connections (id, tenant_id, provider, account_id) values
  ('aaaaaaaa-0000-4000-8000-000000000006', 'aaaaaaaa-0000-4000-8000-000000000000', 'hubspot', 'portal-a'),
  ('bbbbbbbb-0000-4000-8000-000000000006', 'bbbbbbbb-0000-4000-8000-000000000000', 'hubspot', 'portal-b');
insert into sync.value_maps (connection_id, kind, remote_value, local_value) values
  ('aaaaaaaa-0000-4000-8000-000000000006', 'deal_stage', 'stage-a', 'qualified'),
  ('bbbbbbbb-0000-4000-8000-000000000006', 'deal_stage', 'stage-b', 'qualified');
insert into sync.field_maps (connection_id, entity_type, local_field, remote_property) values
  ('aaaaaaaa-0000-4000-8000-000000000006', 'contact', 'lead_source', 'source_a'),
  ('bbbbbbbb-0000-4000-8000-000000000006', 'contact', 'lead_source', 'source_b');
insert into sync.unmapped_values (connection_id, kind, remote_value, direction) values
  ('aaaaaaaa-0000-4000-8000-000000000006', 'owner', 'owner-a', 'inbound'),
  ('bbbbbbbb-0000-4000-8000-000000000006', 'owner', 'owner-b', 'inbound');
insert into sync.rate_budgets (connection_id, max_requests, interval_ms) values
  ('aaaaaaaa-0000-4000-8000-000000000006', 11, 10000),
  ('bbbbbbbb-0000-4000-8000-000000000006', 22, 10000);
insert into sync.dead_letters (queue_name, connection_id, tenant_id, message, error, attempts) values
  ('crm_outbound', 'aaaaaaaa-0000-4000-8000-000000000006', 'aaaaaaaa-0000-4000-8000-000000000000', '{}', 'error a', 8),
  ('crm_outbound', 'bbbbbbbb-0000-4000-8000-000000000006', 'bbbbbbbb-0000-4000-8000-000000000000', '{}', 'error b', 8);
insert into sync.identity_map (connection_id, tenant_id, entity_type, remote_id, local_id) values
  ('aaaaaaaa-0000-4000-8000-000000000006', 'aaaaaaaa-0000-4000-8000-000000000000', 'contact', '101', 'aaaaaaaa-0000-4000-8000-000000000002'),
  ('bbbbbbbb-0000-4000-8000-000000000006', 'bbbbbbbb-0000-4000-8000-000000000000', 'contact', '201', 'bbbbbbbb-0000-4000-8000-000000000002');
insert into sync.conflict_strategies (tenant_id, strategy) values
  ('aaaaaaaa-0000-4000-8000-000000000000', 'manual_review'),
  ('bbbbbbbb-0000-4000-8000-000000000000', 'timestamp');
insert into sync.conflicts (tenant_id, entity_type, local_id, field, local_value, remote_value) values
  ('aaaaaaaa-0000-4000-8000-000000000000', 'contact', 'aaaaaaaa-0000-4000-8000-000000000002', 'first_name', '"A local"', '"A remote"'),
  ('bbbbbbbb-0000-4000-8000-000000000000', 'contact', 'bbbbbbbb-0000-4000-8000-000000000002', 'first_name', '"B local"', '"B remote"');
insert into sync.conflict_decisions (tenant_id, entity_type, field, strategy, scope, winner, reason) values
  ('aaaaaaaa-0000-4000-8000-000000000000', 'contact', 'phone', 'timestamp', 'default', 'local', 'reason a'),
  ('bbbbbbbb-0000-4000-8000-000000000000', 'contact', 'phone', 'timestamp', 'default', 'remote', 'reason b');
insert into sync.admin_notifications (tenant_id, kind, subject) values
  ('aaaaaaaa-0000-4000-8000-000000000000', 'conflict_pending_review', 'notice a'),
  ('bbbbbbbb-0000-4000-8000-000000000000', 'conflict_pending_review', 'notice b');
insert into sync.jobs (id, tenant_id, connection_id, kind, entity_types, started_by) values
  ('aaaaaaaa-0000-4000-8000-000000000007', 'aaaaaaaa-0000-4000-8000-000000000000', 'aaaaaaaa-0000-4000-8000-000000000006', 'reconcile', '{contact}', 'job-a'),
  ('bbbbbbbb-0000-4000-8000-000000000007', 'bbbbbbbb-0000-4000-8000-000000000000', 'bbbbbbbb-0000-4000-8000-000000000006', 'reconcile', '{contact}', 'job-b');
insert into sync.reconcile_runs (id, job_id, tenant_id, connection_id, records_compared) values
  ('aaaaaaaa-0000-4000-8000-000000000008', 'aaaaaaaa-0000-4000-8000-000000000007', 'aaaaaaaa-0000-4000-8000-000000000000', 'aaaaaaaa-0000-4000-8000-000000000006', 11),
  ('bbbbbbbb-0000-4000-8000-000000000008', 'bbbbbbbb-0000-4000-8000-000000000007', 'bbbbbbbb-0000-4000-8000-000000000000', 'bbbbbbbb-0000-4000-8000-000000000006', 22);
insert into sync.reconcile_drift (run_id, tenant_id, connection_id, entity_type, remote_id, field, kind, resolution) values
  ('aaaaaaaa-0000-4000-8000-000000000008', 'aaaaaaaa-0000-4000-8000-000000000000', 'aaaaaaaa-0000-4000-8000-000000000006', 'contact', '101', 'phone', 'field', 'applied_locally'),
  ('bbbbbbbb-0000-4000-8000-000000000008', 'bbbbbbbb-0000-4000-8000-000000000000', 'bbbbbbbb-0000-4000-8000-000000000006', 'contact', '201', 'email', 'field', 'applied_locally');

-- Acts as an authenticated user whose JWT says tenant_id = tenant.
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

-- Twelve checks for one crm table. `col` and `val` are a text column that an
-- insert and an update set; `required_col`/`required_val` a not-null column
-- an insert must also fill.
create function pg_temp.check_isolation(tbl text, own_id uuid, other_id uuid, col text, val text,
  required_col text default null, required_val text default null)
returns setof text language plpgsql as $$
declare
  insert_sql constant text := format('insert into crm.%I (tenant_id, %I%s) values ($1, $2%s) returning id', tbl, col,
    coalesce(', ' || quote_ident(required_col), ''), coalesce(', ' || quote_literal(required_val), ''));
  other_exists int;
  seen_own int; seen_other int; inserted uuid; foreign_insert_denied boolean := false;
  updated_own int; updated_other int; deleted_own int; deleted_other int;
  other_val_after text; anon_denied boolean := false; service_seen int;
  tenant_a constant uuid := 'aaaaaaaa-0000-4000-8000-000000000000';
  tenant_b constant uuid := 'bbbbbbbb-0000-4000-8000-000000000000';
begin
  perform pg_temp.act_as_member(tenant_a::text);
  execute format('select count(*) from crm.%I where id = $1', tbl) using own_id into seen_own;
  execute format('select count(*) from crm.%I where id = $1', tbl) using other_id into seen_other;
  begin
    execute insert_sql using tenant_a, val || ' new' into inserted;
  exception when insufficient_privilege then
    inserted := null; -- reported below as a failed check, not an aborted test
  end;
  begin
    execute insert_sql using tenant_b, val || ' intruder';
  exception when insufficient_privilege then
    foreign_insert_denied := true;
  end;
  execute format('with u as (update crm.%I set %I = $2 where id = $1 returning 1) select count(*) from u', tbl, col)
    using own_id, val || ' changed' into updated_own;
  execute format('with u as (update crm.%I set %I = $2 where id = $1 returning 1) select count(*) from u', tbl, col)
    using other_id, val || ' hijacked' into updated_other;
  execute format('with d as (delete from crm.%I where id = $1 returning 1) select count(*) from d', tbl)
    using inserted into deleted_own;
  execute format('with d as (delete from crm.%I where id = $1 returning 1) select count(*) from d', tbl)
    using other_id into deleted_other;
  perform pg_temp.act_as_superuser();
  execute format('select count(*), max(%I) from crm.%I where id = $1', col, tbl) using other_id into other_exists, other_val_after;

  execute 'set local role anon';
  begin
    execute format('select count(*) from crm.%I', tbl);
  exception when insufficient_privilege then
    anon_denied := true;
  end;
  execute 'set local role service_role';
  execute format('select count(*) from crm.%I where id in ($1, $2)', tbl) using own_id, other_id into service_seen;
  perform pg_temp.act_as_superuser();

  return next is(seen_own, 1, format('%s: a member reads a row of their tenant', tbl));
  return next is(seen_other, 0, format('%s: a member cannot read another tenant''s row', tbl));
  return next isnt(inserted, null, format('%s: a member adds a row to their tenant', tbl));
  return next ok(foreign_insert_denied, format('%s: a member cannot add a row to another tenant', tbl));
  return next is(updated_own, 1, format('%s: a member changes a row of their tenant', tbl));
  return next is(updated_other, 0, format('%s: a member cannot change another tenant''s row', tbl));
  return next is(deleted_own, 1, format('%s: a member deletes a row of their tenant', tbl));
  return next is(deleted_other, 0, format('%s: a member cannot delete another tenant''s row', tbl));
  return next ok(other_val_after is distinct from val || ' hijacked', format('%s: the other tenant''s row is unchanged', tbl));
  return next is(other_exists, 1, format('%s: the other tenant''s row still exists', tbl));
  return next ok(anon_denied, format('%s: anon has no access', tbl));
  return next is(service_seen, 2, format('%s: service_role sees every tenant', tbl));
end $$;

select * from pg_temp.check_isolation('companies', 'aaaaaaaa-0000-4000-8000-000000000001', 'bbbbbbbb-0000-4000-8000-000000000001', 'name', 'Co');
select * from pg_temp.check_isolation('contacts', 'aaaaaaaa-0000-4000-8000-000000000002', 'bbbbbbbb-0000-4000-8000-000000000002', 'first_name', 'Pat');
select * from pg_temp.check_isolation('deals', 'aaaaaaaa-0000-4000-8000-000000000003', 'bbbbbbbb-0000-4000-8000-000000000003', 'name', 'Deal');
select * from pg_temp.check_isolation('activities', 'aaaaaaaa-0000-4000-8000-000000000004', 'bbbbbbbb-0000-4000-8000-000000000004', 'subject', 'Note', 'type', 'note');
select * from pg_temp.check_isolation('tasks', 'aaaaaaaa-0000-4000-8000-000000000005', 'bbbbbbbb-0000-4000-8000-000000000005', 'title', 'Task');

-- A member cannot move their own row into another tenant.
select pg_temp.act_as_member('aaaaaaaa-0000-4000-8000-000000000000');
select throws_ok(
  $$update crm.contacts set tenant_id = 'bbbbbbbb-0000-4000-8000-000000000000' where id = 'aaaaaaaa-0000-4000-8000-000000000002'$$,
  '42501', null, 'a member cannot move a contact into another tenant');
select pg_temp.act_as_superuser();

-- The public views carry the same isolation (security invoker).
select pg_temp.act_as_member('aaaaaaaa-0000-4000-8000-000000000000');
select is((select count(*)::int from public.contacts where tenant_id = 'bbbbbbbb-0000-4000-8000-000000000000'), 0,
  'public.contacts shows a member nothing of another tenant');
select is((select count(*)::int from public.deals), 1, 'public.deals shows a member their own tenant''s deals');
select pg_temp.act_as_superuser();
set local role anon;
select throws_ok('select * from public.contacts', '42501', null, 'anon cannot read public.contacts');
reset role;

-- Tenants: a member sees only their own tenant row.
select pg_temp.act_as_member('aaaaaaaa-0000-4000-8000-000000000000');
select results_eq('select slug from crm.tenants order by slug', array['tenant-a'], 'a member sees only their tenant');
select throws_ok($$insert into crm.tenants (name, slug) values ('X', 'x-tenant')$$, '42501', null, 'a member cannot create tenants');
select pg_temp.act_as_superuser();

-- Sync state: members read their tenant's connections and identity map, never
-- the Vault reference, and cannot write.
select pg_temp.act_as_member('aaaaaaaa-0000-4000-8000-000000000000');
select results_eq('select account_id from sync.connections', array['portal-a'], 'a member sees only their tenant''s connections');
select throws_ok('select secret_id from sync.connections', '42501', null, 'a member cannot read which Vault secret a connection uses');
select throws_ok($$insert into sync.connections (tenant_id, provider, account_id) values ('aaaaaaaa-0000-4000-8000-000000000000', 'pipedrive', 'p1')$$,
  '42501', null, 'a member cannot create connections (the service does)');
select results_eq('select remote_id from sync.identity_map', array['101'], 'a member sees only their tenant''s identity map');
select results_eq('select remote_value from sync.value_maps', array['stage-a'], 'a member sees only their tenant''s value maps');
select results_eq('select remote_property from sync.field_maps', array['source_a'], 'a member sees only their tenant''s field maps');
select results_eq('select remote_value from sync.unmapped_values', array['owner-a'], 'a member sees only their tenant''s unmapped values');
select results_eq('select max_requests from sync.rate_budgets', array[11], 'a member sees only their tenant''s rate budgets');
select results_eq('select error from sync.dead_letters', array['error a'], 'a member sees only their tenant''s dead letters');
select results_eq('select strategy from sync.conflict_strategies', array['manual_review'], 'a member sees only their tenant''s conflict strategies');
select lives_ok($$insert into sync.conflict_strategies (tenant_id, entity_type, strategy) values ('aaaaaaaa-0000-4000-8000-000000000000', 'deal', 'timestamp')$$,
  'a member sets a conflict strategy for their tenant');
select throws_ok($$insert into sync.conflict_strategies (tenant_id, entity_type, strategy) values ('bbbbbbbb-0000-4000-8000-000000000000', 'deal', 'timestamp')$$,
  '42501', null, 'a member cannot set another tenant''s conflict strategy');
select results_eq('select local_value #>> ''{}'' from sync.conflicts', array['A local'], 'a member sees only their tenant''s conflicts');
select throws_ok($$insert into sync.conflicts (tenant_id, entity_type, local_id, field) values ('aaaaaaaa-0000-4000-8000-000000000000', 'contact', gen_random_uuid(), 'phone')$$,
  '42501', null, 'a member cannot open conflicts (the engine does)');
select results_eq('select reason from sync.conflict_decisions', array['reason a'], 'a member sees only their tenant''s conflict decisions');
select results_eq('select subject from sync.admin_notifications', array['notice a'], 'a member sees only their tenant''s notifications');
select results_eq('select started_by from sync.jobs', array['job-a'], 'a member sees only their tenant''s sync jobs');
select results_eq('select records_compared::int from sync.reconcile_runs', array[11], 'a member sees only their tenant''s reconcile runs');
select results_eq('select field from sync.reconcile_drift', array['phone'], 'a member sees only their tenant''s drift');
select pg_temp.act_as_superuser();

-- Audit entries and GDPR tombstones: members read their own tenant's.
insert into privacy.erasures (id, tenant_id, local_id, requested_by) values
  ('aaaaaaaa-0000-4000-8000-0000000000e1', 'aaaaaaaa-0000-4000-8000-000000000000', gen_random_uuid(), 'dpo a'),
  ('bbbbbbbb-0000-4000-8000-0000000000e1', 'bbbbbbbb-0000-4000-8000-000000000000', gen_random_uuid(), 'dpo b');
insert into privacy.erasure_targets (erasure_id, connection_id, remote_id, status) values
  ('aaaaaaaa-0000-4000-8000-0000000000e1', 'aaaaaaaa-0000-4000-8000-000000000006', 'ra', 'queued'),
  ('bbbbbbbb-0000-4000-8000-0000000000e1', 'bbbbbbbb-0000-4000-8000-000000000006', 'rb', 'queued');
insert into sync.alerts (tenant_id, connection_id, kind, message) values
  ('aaaaaaaa-0000-4000-8000-000000000000', 'aaaaaaaa-0000-4000-8000-000000000006', 'needs_reauth', 'alert a'),
  ('bbbbbbbb-0000-4000-8000-000000000000', 'bbbbbbbb-0000-4000-8000-000000000006', 'needs_reauth', 'alert b');
select pg_temp.act_as_member('aaaaaaaa-0000-4000-8000-000000000000');
select results_eq('select message from sync.alerts', array['alert a'], 'a member sees only their tenant''s alerts');
select results_eq('select distinct tenant_id from audit.entries', array['aaaaaaaa-0000-4000-8000-000000000000'::uuid],
  'a member sees only their tenant''s audit entries');
select results_eq('select requested_by from privacy.erasures', array['dpo a'], 'a member sees only their tenant''s erasures');
select results_eq('select remote_id from privacy.erasure_targets', array['ra'], 'a member sees only their tenant''s erasure targets');
select pg_temp.act_as_superuser();
set local role anon;
select throws_ok('select * from privacy.erasures', '42501', null, 'anon cannot read erasures');
reset role;
set local role anon;
select throws_ok('select * from sync.connections', '42501', null, 'anon cannot read connections');
select throws_ok('select * from sync.identity_map', '42501', null, 'anon cannot read the identity map');
reset role;
set local role service_role;
select is((select count(*)::int from sync.connections where account_id in ('portal-a', 'portal-b')), 2, 'service_role sees every connection');
reset role;

-- The tenant helper: JWT claim first; the app.current_tenant_id setting only
-- for sessions without a JWT; anything malformed matches nothing.
set local role authenticated;
select set_config('app.current_tenant_id', 'aaaaaaaa-0000-4000-8000-000000000000', true);
select results_eq('select email from crm.contacts order by email', array['a@a.example'],
  'without a JWT, app.current_tenant_id selects the tenant (server-side fallback)');
select pg_temp.act_as_member('bbbbbbbb-0000-4000-8000-000000000000');
select set_config('app.current_tenant_id', 'aaaaaaaa-0000-4000-8000-000000000000', true);
select results_eq('select email from crm.contacts order by email', array['b@b.example'],
  'with a JWT, the claim wins and app.current_tenant_id cannot switch tenants');
select pg_temp.act_as_member('not-a-uuid');
select is((select count(*)::int from crm.contacts), 0, 'a malformed tenant claim matches no row (and raises no error)');
select set_config('request.jwt.claims', '{"role": "authenticated", "sub": "cccccccc-0000-4000-8000-000000000001"}', true);
set local role authenticated;
select is((select count(*)::int from crm.contacts), 0, 'a JWT without a tenant claim matches no row');
select pg_temp.act_as_superuser();
select set_config('app.current_tenant_id', '', true);

select * from finish();
rollback;
