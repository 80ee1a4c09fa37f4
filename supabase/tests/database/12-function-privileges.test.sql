-- Least privilege: every function anon or authenticated can call (EXECUTE
-- plus USAGE on its schema) is on this list, and nothing else. Extension
-- code in schema extensions (pgcrypto, uuid-ossp, pgTAP) is left out.
begin;
select plan(2);

create temporary view callable as
  select r.rolname || ' ' || n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')' as entry
    from pg_proc p
    join pg_namespace n on n.oid = p.pronamespace
   cross join (values ('anon'), ('authenticated')) r (rolname)
   where n.nspname not in ('pg_catalog', 'information_schema', 'extensions', 'pg_toast')
     and n.nspname not like 'pg_temp%'
     and has_schema_privilege(r.rolname, n.oid, 'usage')
     and has_function_privilege(r.rolname, p.oid, 'execute');

select set_eq(
  $$select entry from callable where entry like 'anon %'$$,
  array['anon auth.email()', 'anon auth.jwt()', 'anon auth.role()', 'anon auth.uid()'],
  'anon can call only the auth helpers');
select set_eq(
  $$select entry from callable where entry like 'authenticated %'$$,
  array['authenticated auth.email()', 'authenticated auth.jwt()', 'authenticated auth.role()', 'authenticated auth.uid()',
        'authenticated crm.current_tenant_id()',
        'authenticated public.merge_records(p_entity_type text, p_survivor uuid, p_merged uuid)',
        'authenticated sync._apply_local_merge(p_entity_type crm.entity_type, p_survivor uuid, p_merged uuid)',
        'authenticated public.list_pending_conflicts(p_entity_type text, p_limit integer)',
        'authenticated public.resolve_conflict(p_conflict_id uuid, p_choice text, p_value jsonb)',
        'authenticated sync._current_value(p_entity_type crm.entity_type, p_local_id uuid, p_field text)',
        'authenticated sync._synced_columns(p_entity_type crm.entity_type)',
        'authenticated sync._numeric_columns(p_entity_type crm.entity_type)',
        'authenticated sync._is_source_priority(p_sources text[])'],
  'authenticated can call only the auth helpers, the tenant helper, merge_records (with its tenant-checked helper) the conflict review RPCs (with theirs) and the checks of the strategy table');

select * from finish();
rollback;
