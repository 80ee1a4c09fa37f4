-- The audit trail: every write to a crm table leaves one entry per row with
-- the action, the fields that changed (old and new), where the change came
-- from and who made it. Entries are append-only: no role may update or
-- delete them; only the GDPR erasure (privacy.erase_contact) may scrub the
-- personal data they hold.
--
-- Volume: entries are written by statement-level triggers (one INSERT ...
-- SELECT per statement, not one per row) into a table partitioned by month,
-- so old months can be detached or dropped whole and scans by time touch
-- only their months. pg_cron creates the partitions three months ahead; a
-- default partition catches anything outside them, so no write ever fails
-- for want of a partition.
create schema audit;
comment on schema audit is 'Append-only audit trail of the crm tables.';
revoke all on schema audit from public;
grant usage on schema audit to authenticated, service_role;

create table audit.entries (
  id bigint generated always as identity,
  tenant_id uuid not null,
  entity_type text not null,
  entity_id uuid not null,
  action text not null check (action in ('created', 'updated', 'deleted', 'gdpr_deleted')),
  changes jsonb not null default '{}' check (jsonb_typeof(changes) = 'object'),
  source text not null check (source in ('hubspot', 'pipedrive', 'manual', 'automation', 'system')),
  actor_user_id uuid,
  actor_connection_id uuid,
  occurred_at timestamptz not null default now(),
  primary key (id, occurred_at)
) partition by range (occurred_at);
comment on table audit.entries is 'One row per changed crm row: action, field-level diff, source, actor. Append-only.';
comment on column audit.entries.changes is 'Only the fields that changed: {"field": {"old": ..., "new": ...}}. Scrubbed to {"field": {"erased": true}} by a GDPR erasure.';
comment on column audit.entries.source is 'hubspot/pipedrive: applied from that CRM (actor_connection_id); manual: a signed-in user (actor_user_id); automation: the rule engine; system: server jobs and operators.';
create index entries_entity_idx on audit.entries (tenant_id, entity_type, entity_id, occurred_at desc);
create index entries_tenant_time_idx on audit.entries (tenant_id, occurred_at desc);

create table audit.entries_default partition of audit.entries default;

alter table audit.entries enable row level security;
alter table audit.entries_default enable row level security;
create policy "members read their tenant's audit entries" on audit.entries
  for select to authenticated using (tenant_id = (select crm.current_tenant_id()));
grant select on audit.entries to authenticated, service_role;

-- Creates the monthly partitions from this month to p_months_ahead months
-- ahead (those missing). Returns how many it created.
create function audit.create_partitions(p_months_ahead integer default 3) returns integer
language plpgsql security definer set search_path = ''
as $$
declare
  month_start date;
  partition_name text;
  created integer := 0;
begin
  if p_months_ahead not between 0 and 36 then
    raise exception 'p_months_ahead must be between 0 and 36, got %', p_months_ahead using errcode = '22023';
  end if;
  for month_start in
    select generate_series(date_trunc('month', now()), date_trunc('month', now()) + make_interval(months => p_months_ahead),
                           interval '1 month')::date
  loop
    partition_name := format('entries_%s', to_char(month_start, 'YYYY_MM'));
    continue when to_regclass(format('audit.%I', partition_name)) is not null;
    if exists (select from audit.entries_default d
                where d.occurred_at >= month_start and d.occurred_at < (month_start + interval '1 month')) then
      raise exception 'audit.entries_default holds entries of %; a partition for that month cannot be created', to_char(month_start, 'YYYY-MM')
        using errcode = '55000', hint = 'partitions were not created in time (is the audit-partitions cron job running?); move those rows first';
    end if;
    execute format('create table audit.%I partition of audit.entries for values from (%L) to (%L)',
                   partition_name, month_start, (month_start + interval '1 month')::date);
    execute format('alter table audit.%I enable row level security', partition_name);
    created := created + 1;
  end loop;
  return created;
end
$$;
revoke execute on function audit.create_partitions(integer) from public;

select audit.create_partitions(3);
select cron.schedule('audit-partitions', '7 3 * * *', $$select audit.create_partitions(3)$$);

-- Set by privacy.erase_contact for its own transaction: the one writer
-- allowed to scrub entries, and the marker that makes the trigger below
-- record values as erased.
create function audit._erasure_in_progress() returns boolean
language sql stable set search_path = ''
as $$
  select coalesce(current_setting('crm_sync.gdpr_erasure', true), '') = 'on'
$$;

-- Append-only: updates and deletes fail for every role, the owner included,
-- except inside a GDPR erasure; privileges already deny them to app roles.
create function audit._reject_change() returns trigger
language plpgsql set search_path = ''
as $$
begin
  if tg_op in ('UPDATE', 'DELETE') and audit._erasure_in_progress() then
    return case when tg_op = 'UPDATE' then new else old end;
  end if;
  raise exception 'audit entries are append-only (% refused)', lower(tg_op)
    using errcode = '42501', hint = 'personal data in them is scrubbed only by privacy.erase_contact()';
end
$$;
create trigger append_only before update or delete on audit.entries
  for each row execute function audit._reject_change();
create trigger append_only_truncate before truncate on audit.entries
  for each statement execute function audit._reject_change();
create trigger append_only_truncate before truncate on audit.entries_default
  for each statement execute function audit._reject_change();

-- Where the writes of the current statement come from:
-- - a signed-in user (a JWT with role authenticated, or the authenticated
--   role itself): manual, with auth.uid(); nothing they set can change that;
-- - the sync engine applying a CRM's change (crm_sync.origin_connection):
--   that CRM's provider, with the connection;
-- - a server job that says what it is (crm_sync.change_source = automation
--   or system, set with set_config(..., true) for its transaction);
-- - anything else (service role, operators on a direct connection): system.
create function audit._change_source(out source text, out actor_user_id uuid, out actor_connection_id uuid)
language plpgsql stable security definer set search_path = ''
as $$
declare
  claims jsonb := nullif(current_setting('request.jwt.claims', true), '')::jsonb;
  origin text := nullif(current_setting('crm_sync.origin_connection', true), '');
  declared text := nullif(current_setting('crm_sync.change_source', true), '');
begin
  -- The role setting, not current_user: this runs as its definer.
  if claims ->> 'role' = 'authenticated' or current_setting('role', true) = 'authenticated' then
    source := 'manual';
    actor_user_id := auth.uid();
    return;
  end if;
  if origin ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then
    select c.provider, c.id into source, actor_connection_id from sync.connections c where c.id = origin::uuid;
    if source is not null then
      return;
    end if;
  end if;
  source := case when declared in ('automation', 'system') then declared else 'system' end;
  actor_user_id := case when claims ->> 'sub' ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
                        then (claims ->> 'sub')::uuid end;
end
$$;

-- A diff with its values gone, {"field": {"erased": true}}: what a GDPR
-- erasure leaves of an entry.
create function audit._redact(p_changes jsonb) returns jsonb
language sql immutable set search_path = ''
as $$
  select coalesce(jsonb_object_agg(k, '{"erased": true}'::jsonb), '{}') from jsonb_object_keys(p_changes) k
$$;

-- The field-level diff of one row as SQL over its columns: only fields whose
-- value changed, {"field": {"old": ..., "new": ...}}; bookkeeping columns
-- are left out. p_old/p_new name the row aliases (null for none). Comparing
-- columns natively, not through to_jsonb of whole rows, is what keeps bulk
-- writes cheap (see scripts/bench/audit-overhead.sql).
create function audit._diff_sql(p_table regclass, p_old text, p_new text) returns text
language sql stable set search_path = ''
as $$
  select coalesce(string_agg(format(
           'case when %s then jsonb_build_object(%L, jsonb_build_object(''old'', %s, ''new'', %s)) else ''{}''::jsonb end',
           case when p_old is null then format('%s.%I is not null', p_new, a.attname)
                when p_new is null then format('%s.%I is not null', p_old, a.attname)
                else format('%s.%I is distinct from %s.%I', p_old, a.attname, p_new, a.attname) end,
           a.attname,
           case when p_old is null then '''null''::jsonb' else format('coalesce(to_jsonb(%s.%I), ''null'')', p_old, a.attname) end,
           case when p_new is null then '''null''::jsonb' else format('coalesce(to_jsonb(%s.%I), ''null'')', p_new, a.attname) end),
         ' || ' order by a.attnum), '''{}''::jsonb')
    from pg_attribute a
   where a.attrelid = p_table and a.attnum > 0 and not a.attisdropped
     and a.attname not in ('id', 'tenant_id', 'created_at', 'updated_at')
$$;

-- Puts a table under audit: a trigger function made for its columns and
-- three statement-level triggers. Run it again after adding columns (a
-- pgTAP test checks that every column of every crm table is covered).
create function audit.track_table(p_table regclass, p_entity_type text) returns void
language plpgsql security definer set search_path = ''
as $track$
declare
  fn constant text := format('audit.%I', '_record_' || replace(p_table::text, '.', '_'));
  tenant_col constant text := case when exists (select from pg_attribute a where a.attrelid = p_table and a.attname = 'tenant_id'
                                                                              and not a.attisdropped)
                                   then 'tenant_id' else 'id' end;
  columns text;
begin
  select string_agg(a.attname::text, ',' order by a.attnum) into columns
    from pg_attribute a where a.attrelid = p_table and a.attnum > 0 and not a.attisdropped;
  execute format($f$
    create or replace function %1$s() returns trigger
    language plpgsql security definer set search_path = ''
    as $body$
    declare
      erasing constant boolean := audit._erasure_in_progress();
      src record;
    begin
      select * into src from audit._change_source();
      if tg_op = 'INSERT' then
        insert into audit.entries (tenant_id, entity_type, entity_id, action, changes, source, actor_user_id, actor_connection_id)
        select n.%2$I, %3$L, n.id, 'created', case when erasing then audit._redact(d.changes) else d.changes end,
               src.source, src.actor_user_id, src.actor_connection_id
          from new_rows n cross join lateral (select %4$s as changes) d;
      elsif tg_op = 'UPDATE' then
        insert into audit.entries (tenant_id, entity_type, entity_id, action, changes, source, actor_user_id, actor_connection_id)
        select n.%2$I, %3$L, n.id,
               case when d.changes ? 'deleted_at' and d.changes -> 'deleted_at' -> 'old' = 'null' then 'deleted' else 'updated' end,
               case when erasing then audit._redact(d.changes) else d.changes end,
               src.source, src.actor_user_id, src.actor_connection_id
          from new_rows n join old_rows o on o.id = n.id
         cross join lateral (select %5$s as changes) d
         where d.changes <> '{}';
      else
        insert into audit.entries (tenant_id, entity_type, entity_id, action, changes, source, actor_user_id, actor_connection_id)
        select o.%2$I, %3$L, o.id, case when erasing then 'gdpr_deleted' else 'deleted' end,
               case when erasing then '{}'::jsonb else d.changes end,
               src.source, src.actor_user_id, src.actor_connection_id
          from old_rows o cross join lateral (select %6$s as changes) d;
      end if;
      return null;
    end
    $body$
    $f$,
    fn, tenant_col, p_entity_type, audit._diff_sql(p_table, null, 'n'), audit._diff_sql(p_table, 'o', 'n'),
    audit._diff_sql(p_table, 'o', null));
  execute format('revoke execute on function %s() from public', fn);
  -- The columns it was made for: a test compares them with the table's.
  execute format('comment on function %s() is %L', fn, columns);
  execute format('drop trigger if exists audit_inserts on %s', p_table);
  execute format('drop trigger if exists audit_updates on %s', p_table);
  execute format('drop trigger if exists audit_deletes on %s', p_table);
  execute format('create trigger audit_inserts after insert on %s referencing new table as new_rows
                  for each statement execute function %s()', p_table, fn);
  execute format('create trigger audit_updates after update on %s referencing old table as old_rows new table as new_rows
                  for each statement execute function %s()', p_table, fn);
  execute format('create trigger audit_deletes after delete on %s referencing old table as old_rows
                  for each statement execute function %s()', p_table, fn);
end
$track$;

revoke execute on function audit._erasure_in_progress(), audit._reject_change(), audit._change_source(),
  audit._redact(jsonb), audit._diff_sql(regclass, text, text), audit.track_table(regclass, text) from public;

select audit.track_table('crm.tenants', 'tenant');
select audit.track_table('crm.companies', 'company');
select audit.track_table('crm.contacts', 'contact');
select audit.track_table('crm.deals', 'deal');
select audit.track_table('crm.activities', 'activity');
select audit.track_table('crm.tasks', 'task');
