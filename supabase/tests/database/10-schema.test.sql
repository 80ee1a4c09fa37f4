-- The core schema: platform pieces, crm and sync tables, and RLS enabled on
-- every table of every project schema.
begin;
select plan(33);

select has_role('anon');
select has_role('authenticated');
select has_role('service_role');
select has_role('authenticator');
select has_function('auth', 'uid', array[]::text[]);
select has_function('auth', 'jwt', array[]::text[]);
select has_function('auth', 'role', array[]::text[]);
select has_schema('crm');
select has_schema('sync');
select tables_are('crm', array['tenants', 'companies', 'contacts', 'deals', 'activities', 'tasks']);
select tables_are('sync', array['connections', 'identity_map', 'webhook_receipts', 'value_maps', 'field_maps', 'unmapped_values', 'pending_references', 'rate_budgets', 'dead_letters', 'worker_state', 'alerts', 'create_attempts', 'conflict_strategies', 'conflicts', 'conflict_decisions', 'admin_notifications', 'jobs', 'job_locks', 'sync_marks', 'reconcile_runs', 'reconcile_drift', 'reconcile_listed', 'reconcile_unseen', 'worker_leases']);
select has_schema('audit');
select is(array(select c.relname::text from pg_class c where c.relnamespace = 'audit'::regnamespace and c.relkind in ('r', 'p')
                   and not c.relispartition order by 1), array['entries'], 'audit holds one table (its monthly partitions aside)');
select has_schema('privacy');
select tables_are('privacy', array['erasures', 'erasure_targets']);

select columns_are('crm', 'contacts', array['id', 'tenant_id', 'email', 'first_name', 'last_name', 'phone', 'company_id',
  'lifecycle_stage', 'lead_source', 'custom_fields', 'created_at', 'updated_at', 'deleted_at']);
select columns_are('crm', 'companies', array['id', 'tenant_id', 'name', 'domain', 'industry', 'employee_count',
  'annual_revenue', 'website', 'created_at', 'updated_at', 'deleted_at']);
select columns_are('crm', 'deals', array['id', 'tenant_id', 'name', 'amount', 'currency', 'stage', 'status', 'probability',
  'close_date', 'owner_id', 'company_id', 'contact_id', 'created_at', 'updated_at', 'deleted_at']);
select columns_are('crm', 'activities', array['id', 'tenant_id', 'type', 'subject', 'body', 'occurred_at', 'direction',
  'owner_id', 'contact_id', 'company_id', 'deal_id', 'created_at', 'updated_at', 'deleted_at']);
select columns_are('crm', 'tasks', array['id', 'tenant_id', 'title', 'due_date', 'status', 'assigned_to', 'contact_id',
  'company_id', 'deal_id', 'created_at', 'updated_at', 'deleted_at']);
select col_is_pk('sync', 'identity_map', array['connection_id', 'entity_type', 'remote_id']::name[], 'the identity map is keyed by connection, entity type and remote id');

select is(
  (select array_agg(format('%I.%I', n.nspname, c.relname) order by 1)
     from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname in ('public', 'crm', 'sync', 'audit', 'privacy') and c.relkind in ('r', 'p') and not c.relrowsecurity),
  null,
  'RLS is enabled on every table of the project schemas');

select is(
  (select count(*)::int from pg_publication_tables
    where pubname = 'supabase_realtime' and schemaname = 'crm'),
  5, 'the five crm record tables are in the supabase_realtime publication');

-- updated_at is kept by trigger; created_at and tenant_id cannot change.
insert into crm.tenants (id, name, slug) values
  ('11111111-1111-4111-8111-111111111111', 'Stamp A', 'stamp-a'),
  ('22222222-2222-4222-8222-222222222222', 'Stamp B', 'stamp-b');
insert into crm.contacts (id, tenant_id, email, created_at, updated_at)
  values ('11111111-0000-4000-8000-000000000001', '11111111-1111-4111-8111-111111111111', 'stamp@a.example',
          '2020-01-01', '2020-01-01');
update crm.contacts set first_name = 'Stamp', created_at = '2021-01-01'
 where id = '11111111-0000-4000-8000-000000000001';
select is((select updated_at from crm.contacts where id = '11111111-0000-4000-8000-000000000001'), now(),
  'an update sets updated_at to the time of the write');
select is((select created_at from crm.contacts where id = '11111111-0000-4000-8000-000000000001'), '2020-01-01'::timestamptz,
  'created_at cannot be rewritten');
select throws_ok(
  $$update crm.contacts set tenant_id = '22222222-2222-4222-8222-222222222222' where id = '11111111-0000-4000-8000-000000000001'$$,
  '42501', 'contacts rows cannot move to another tenant', 'a record cannot be moved to another tenant, even by the service');

-- References stay inside one tenant.
insert into crm.companies (id, tenant_id, name) values
  ('22222222-0000-4000-8000-000000000001', '22222222-2222-4222-8222-222222222222', 'Other tenant Inc');
select throws_ok(
  $$update crm.contacts set company_id = '22222222-0000-4000-8000-000000000001' where id = '11111111-0000-4000-8000-000000000001'$$,
  '23503', null, 'a contact cannot point at a company of another tenant');

-- Values are checked.
select throws_ok(
  $$insert into crm.deals (tenant_id, status) values ('11111111-1111-4111-8111-111111111111', 'maybe')$$,
  '23514', null, 'deal status is open, won or lost');
select throws_ok(
  $$insert into crm.activities (tenant_id, type) values ('11111111-1111-4111-8111-111111111111', 'fax')$$,
  '23514', null, 'activity type is call, email, meeting or note');

-- Connection settings are validated with messages that say what is wrong.
select lives_ok(
  $$insert into sync.connections (tenant_id, provider, account_id, settings) values
    ('11111111-1111-4111-8111-111111111111', 'hubspot', '123456',
     '{"rate_limit": {"max_requests": 190, "interval_ms": 10000}, "entities": ["contact", "deal"], "api_base_url": "http://127.0.0.1:54340"}')$$,
  'a connection with valid settings is accepted');
select throws_ok(
  $$insert into sync.connections (tenant_id, provider, account_id, settings) values
    ('11111111-1111-4111-8111-111111111111', 'pipedrive', '42', '{"rate_limt": 5}')$$,
  '22023', 'unknown connection setting "rate_limt"', 'an unknown setting is rejected by name');
select throws_ok(
  $$insert into sync.connections (tenant_id, provider, account_id, settings) values
    ('11111111-1111-4111-8111-111111111111', 'pipedrive', '43', '{"entities": ["contact", "lead"]}')$$,
  '22023', 'connection setting entities has unknown entity type "lead"', 'an unknown entity type is rejected');
select throws_ok(
  $$insert into sync.connections (tenant_id, provider, account_id) values
    ('22222222-2222-4222-8222-222222222222', 'hubspot', '123456')$$,
  '23505', null, 'one CRM account belongs to one connection');

select * from finish();
rollback;
