-- Conflict resolution: how a field changed differently in the app and in a
-- CRM since their last agreed state (the shadow) is settled.
--   sync.conflict_strategies  the tenant's rules: a default, per entity type, per field
--   sync.conflicts            fields held for manual review (one pending row per record field)
--   sync.conflict_decisions   every settled conflict: strategy, winner, values (why a value won)
--   sync.admin_notifications  what a tenant's admins should look at (a conflict awaiting review)
-- The resolver itself is TypeScript (_shared/sync/resolve-inbound.ts); it reads
-- the rules, and the worker records its decisions here in the transaction that
-- applies them.

-- Numeric columns, the only ones the max/min merge rules apply to.
create function sync._numeric_columns(p_entity_type crm.entity_type) returns text[]
language sql immutable set search_path = ''
as $$
  select case p_entity_type
    when 'company' then array['employee_count', 'annual_revenue']
    when 'deal' then array['amount', 'probability']
    else array[]::text[]
  end
$$;

create function sync._is_source_priority(p_sources text[]) returns boolean
language sql immutable set search_path = ''
as $$
  select cardinality(p_sources) between 1 and 3
     and p_sources <@ array['hubspot', 'pipedrive', 'supabase']
     and cardinality(p_sources) = (select count(distinct s) from unnest(p_sources) s)
$$;
revoke execute on function sync._numeric_columns(crm.entity_type), sync._is_source_priority(text[]) from public;
-- The strategy table's checks call them, and members write that table.
grant execute on function sync._numeric_columns(crm.entity_type), sync._is_source_priority(text[]),
  sync._synced_columns(crm.entity_type) to authenticated;

create table sync.conflict_strategies (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references crm.tenants (id) on delete cascade,
  -- null: the tenant default; a field needs its entity type.
  entity_type crm.entity_type,
  field text,
  strategy text not null
    constraint conflict_strategies_strategy_check
    check (strategy in ('timestamp', 'source_priority', 'field_merge', 'manual_review')),
  -- source_priority: the order of trust; timestamp/newest: the tie-break order (default supabase, hubspot, pipedrive).
  source_priority text[]
    constraint conflict_strategies_sources_check check (source_priority is null or sync._is_source_priority(source_priority)),
  merge_rule text
    constraint conflict_strategies_merge_rule_check
    check (merge_rule in ('remote_if_present', 'local_if_present', 'append', 'newest', 'max', 'min')),
  separator text
    constraint conflict_strategies_separator_check check (separator is null or length(separator) between 1 and 10),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint conflict_strategies_scope_key unique nulls not distinct (tenant_id, entity_type, field),
  constraint conflict_strategies_field_needs_entity check (field is null or entity_type is not null),
  constraint conflict_strategies_field_is_synced check (field is null or field = any (sync._synced_columns(entity_type))),
  constraint conflict_strategies_priority_given check (strategy <> 'source_priority' or source_priority is not null),
  constraint conflict_strategies_priority_only_ranks
    check (source_priority is null or strategy in ('source_priority', 'timestamp') or merge_rule = 'newest'),
  constraint conflict_strategies_merge_rule_given check ((strategy = 'field_merge') = (merge_rule is not null)),
  constraint conflict_strategies_separator_only_append check (separator is null or merge_rule = 'append'),
  constraint conflict_strategies_numeric_rule
    check (merge_rule is null or merge_rule not in ('max', 'min')
           or (field is not null and field = any (sync._numeric_columns(entity_type))))
);
comment on table sync.conflict_strategies is
  'How conflicts are settled: one row per tenant default (entity_type and field null), entity type, or field; the most specific wins.';

create table sync.conflicts (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references crm.tenants (id) on delete cascade,
  connection_id uuid references sync.connections (id) on delete set null,
  entity_type crm.entity_type not null,
  local_id uuid not null,
  remote_id text,
  field text not null,
  base_value jsonb,
  local_value jsonb,
  remote_value jsonb,
  status text not null default 'pending_review'
    constraint conflicts_status_check check (status in ('pending_review', 'resolved')),
  resolution text constraint conflicts_resolution_check check (resolution in ('local', 'remote', 'custom')),
  resolved_value jsonb,
  resolved_by text,
  resolved_at timestamptz,
  detected_at timestamptz not null default now(),
  last_detected_at timestamptz not null default now(),
  detections integer not null default 1,
  constraint conflicts_field_is_synced check (field = any (sync._synced_columns(entity_type))),
  constraint conflicts_resolved_complete
    check ((status = 'resolved') = (resolution is not null and resolved_at is not null and resolved_by is not null))
);
comment on table sync.conflicts is
  'Fields held for manual review: the local value stays and is not sent until resolved. One pending row per record field.';
create unique index conflicts_one_pending_per_field on sync.conflicts (tenant_id, entity_type, local_id, field)
  where status = 'pending_review';
create index conflicts_tenant_status_idx on sync.conflicts (tenant_id, status, detected_at);

create table sync.conflict_decisions (
  id bigint generated always as identity primary key,
  tenant_id uuid not null references crm.tenants (id) on delete cascade,
  connection_id uuid references sync.connections (id) on delete set null,
  entity_type crm.entity_type not null,
  local_id uuid,
  remote_id text,
  field text not null,
  strategy text not null,
  -- Which rule row applied: 'field', 'entity', 'tenant' or 'default' (no row), or 'review' for a manual resolution.
  scope text not null,
  winner text not null constraint conflict_decisions_winner_check check (winner in ('local', 'remote', 'merged', 'pending', 'custom')),
  base_value jsonb,
  local_value jsonb,
  remote_value jsonb,
  result_value jsonb,
  reason text not null,
  conflict_id uuid references sync.conflicts (id) on delete set null,
  decided_at timestamptz not null default now()
);
comment on table sync.conflict_decisions is 'Every settled conflict: the strategy, the winner and the values, so an operator can see why a value won.';
create index conflict_decisions_record_idx on sync.conflict_decisions (tenant_id, entity_type, local_id, decided_at);

create table sync.admin_notifications (
  id bigint generated always as identity primary key,
  tenant_id uuid not null references crm.tenants (id) on delete cascade,
  kind text not null constraint admin_notifications_kind_check check (kind in ('conflict_pending_review')),
  subject text not null,
  payload jsonb not null default '{}',
  created_at timestamptz not null default now(),
  read_at timestamptz
);
create index admin_notifications_tenant_idx on sync.admin_notifications (tenant_id, created_at);

alter table sync.conflict_strategies enable row level security;
alter table sync.conflicts enable row level security;
alter table sync.conflict_decisions enable row level security;
alter table sync.admin_notifications enable row level security;

create policy "members manage their tenant's conflict strategies" on sync.conflict_strategies
  for all to authenticated
  using (tenant_id = (select crm.current_tenant_id()))
  with check (tenant_id = (select crm.current_tenant_id()));
create policy "members read their tenant's conflicts" on sync.conflicts
  for select to authenticated using (tenant_id = (select crm.current_tenant_id()));
create policy "members read their tenant's conflict decisions" on sync.conflict_decisions
  for select to authenticated using (tenant_id = (select crm.current_tenant_id()));
create policy "members read their tenant's notifications" on sync.admin_notifications
  for select to authenticated using (tenant_id = (select crm.current_tenant_id()));

grant select, insert, update, delete on sync.conflict_strategies to authenticated;
grant select on sync.conflicts, sync.conflict_decisions, sync.admin_notifications to authenticated;
grant all on sync.conflict_strategies, sync.conflicts, sync.conflict_decisions, sync.admin_notifications to service_role;

create function sync._touch_conflict_strategy() returns trigger
language plpgsql set search_path = ''
as $$
begin
  new.updated_at := now();
  return new;
end
$$;
revoke execute on function sync._touch_conflict_strategy() from public;
create trigger touch_conflict_strategy before update on sync.conflict_strategies
  for each row execute function sync._touch_conflict_strategy();

-- The rules of a connection's tenant, for the resolver.
create function sync.load_conflict_strategies(p_connection_id uuid)
returns table (entity_type crm.entity_type, field text, strategy text, source_priority text[], merge_rule text, separator text)
language sql stable security definer set search_path = ''
as $$
  select s.entity_type, s.field, s.strategy, s.source_priority, s.merge_rule, s.separator
    from sync.conflict_strategies s
    join sync.connections c on c.tenant_id = s.tenant_id
   where c.id = p_connection_id
$$;

-- Fields of these records held for manual review (in any connection of the tenant):
-- inbound keeps their local value, outbound does not send them.
create function sync.held_conflict_fields(p_connection_id uuid, p_entity_type crm.entity_type, p_local_ids uuid[])
returns table (local_id uuid, fields text[])
language sql stable security definer set search_path = ''
as $$
  select k.local_id, array_agg(k.field order by k.field)
    from sync.conflicts k
    join sync.connections c on c.tenant_id = k.tenant_id
   where c.id = p_connection_id and k.entity_type = p_entity_type and k.local_id = any (p_local_ids)
     and k.status = 'pending_review'
   group by k.local_id
$$;

-- Records the resolver's decisions for changes that were applied. p_decisions:
--   [{ remote_id, local_id, field, strategy, scope, winner, base, local, remote, value, reason }]
-- winner 'pending' (manual review) opens the field's conflict, or refreshes the
-- open one with the latest snapshots (a re-delivered or repeated change is the
-- same conflict, never a second row), and notifies the tenant's admins once.
-- Returns how many conflicts were opened.
create function sync.record_conflict_decisions(p_connection_id uuid, p_entity_type crm.entity_type, p_decisions jsonb)
returns integer
language plpgsql security definer set search_path = ''
as $$
declare
  tenant uuid;
  d jsonb;
  conflict uuid;
  opened boolean;
  opened_count integer := 0;
begin
  select c.tenant_id into tenant from sync.connections c where c.id = p_connection_id;
  if tenant is null then
    raise exception 'connection % does not exist', p_connection_id using errcode = 'P0002';
  end if;
  for d in select value from jsonb_array_elements(p_decisions) loop
    conflict := null;
    if d ->> 'winner' = 'pending' then
      insert into sync.conflicts as k (tenant_id, connection_id, entity_type, local_id, remote_id, field,
                                       base_value, local_value, remote_value)
      values (tenant, p_connection_id, p_entity_type, (d ->> 'local_id')::uuid, d ->> 'remote_id', d ->> 'field',
              d -> 'base', d -> 'local', d -> 'remote')
      on conflict (tenant_id, entity_type, local_id, field) where status = 'pending_review' do update
        set connection_id = excluded.connection_id, remote_id = excluded.remote_id, local_value = excluded.local_value,
            remote_value = excluded.remote_value, last_detected_at = now(), detections = k.detections + 1
      returning k.id, k.detections = 1 into conflict, opened;
      if opened then
        opened_count := opened_count + 1;
        insert into sync.admin_notifications (tenant_id, kind, subject, payload)
        values (tenant, 'conflict_pending_review',
                format('%s %s: "%s" changed in the app and in a CRM; choose a value', p_entity_type, d ->> 'local_id', d ->> 'field'),
                jsonb_build_object('conflict_id', conflict, 'entity_type', p_entity_type, 'local_id', d ->> 'local_id',
                                   'field', d ->> 'field', 'connection_id', p_connection_id));
      end if;
    end if;
    insert into sync.conflict_decisions (tenant_id, connection_id, entity_type, local_id, remote_id, field, strategy, scope,
                                         winner, base_value, local_value, remote_value, result_value, reason, conflict_id)
    values (tenant, p_connection_id, p_entity_type, (d ->> 'local_id')::uuid, d ->> 'remote_id', d ->> 'field',
            d ->> 'strategy', d ->> 'scope', d ->> 'winner', d -> 'base', d -> 'local', d -> 'remote', d -> 'value',
            d ->> 'reason', conflict);
  end loop;
  return opened_count;
end
$$;

revoke execute on function sync.load_conflict_strategies(uuid), sync.held_conflict_fields(uuid, crm.entity_type, uuid[]),
  sync.record_conflict_decisions(uuid, crm.entity_type, jsonb) from public;
grant execute on function sync.load_conflict_strategies(uuid), sync.held_conflict_fields(uuid, crm.entity_type, uuid[]),
  sync.record_conflict_decisions(uuid, crm.entity_type, jsonb) to service_role;

-- Review API ---------------------------------------------------------------

-- Pending conflicts of the caller's tenant (RLS), field by field, oldest first.
create function public.list_pending_conflicts(p_entity_type text default null, p_limit integer default 100)
returns table (id uuid, entity_type crm.entity_type, local_id uuid, remote_id text, connection_id uuid, field text,
               base_value jsonb, local_value jsonb, remote_value jsonb, current_value jsonb,
               detected_at timestamptz, last_detected_at timestamptz, detections integer)
language plpgsql stable security invoker set search_path = ''
as $$
begin
  if p_limit is null or p_limit not between 1 and 1000 then
    raise exception 'p_limit must be between 1 and 1000 (got %)', p_limit using errcode = '22023';
  end if;
  return query
    select k.id, k.entity_type, k.local_id, k.remote_id, k.connection_id, k.field, k.base_value, k.local_value,
           k.remote_value, sync._current_value(k.entity_type, k.local_id, k.field),
           k.detected_at, k.last_detected_at, k.detections
      from sync.conflicts k
     where k.status = 'pending_review' and (p_entity_type is null or k.entity_type::text = p_entity_type)
     order by k.detected_at, k.id
     limit p_limit;
end
$$;

-- The value a record field holds now (a pending field keeps its local value), within the caller's tenant.
create function sync._current_value(p_entity_type crm.entity_type, p_local_id uuid, p_field text) returns jsonb
language plpgsql stable security definer set search_path = ''
as $$
declare
  result jsonb;
begin
  execute format('select to_jsonb(t) -> $2 from crm.%I t where t.id = $1 and t.tenant_id = $3', sync._table_of(p_entity_type))
    into result using p_local_id, p_field, (select crm.current_tenant_id());
  return result;
end
$$;

-- Resolves one pending conflict of the caller's tenant: 'local' keeps the
-- app's value, 'remote' takes the CRM's, 'custom' sets p_value. The record is
-- written as an app edit, so it is queued for every connected CRM, and the
-- field is no longer held: each CRM gets the value (and its shadow with it)
-- where it differs. Who resolved it and when stay on the row.
create function public.resolve_conflict(p_conflict_id uuid, p_choice text, p_value jsonb default null)
returns sync.conflicts
language plpgsql security definer set search_path = ''
as $$
declare
  k sync.conflicts;
  chosen jsonb;
  resolver text := coalesce(auth.uid()::text, auth.role(), session_user::text);
begin
  if p_choice is null or p_choice not in ('local', 'remote', 'custom') then
    raise exception 'choice must be local, remote or custom (got %)', coalesce(p_choice, 'null') using errcode = '22023';
  end if;
  if p_choice = 'custom' and p_value is null then
    raise exception 'a custom resolution needs a value' using errcode = '22023';
  end if;
  select * into k from sync.conflicts c
   where c.id = p_conflict_id and c.tenant_id = (select crm.current_tenant_id())
     for update;
  if k.id is null then
    raise exception 'conflict % not found', p_conflict_id using errcode = 'P0002';
  end if;
  if k.status <> 'pending_review' then
    raise exception 'conflict % is already resolved', p_conflict_id using errcode = '55000';
  end if;
  chosen := case p_choice when 'local' then k.local_value when 'remote' then k.remote_value else p_value end;
  -- Only custom_fields holds a JSON object; every other column takes a plain value.
  if jsonb_typeof(chosen) in ('object', 'array') and k.field <> 'custom_fields' then
    raise exception 'the value of % must be a text, number or boolean (got %)', k.field, jsonb_typeof(chosen) using errcode = '22023';
  end if;

  update sync.conflicts c
     set status = 'resolved', resolution = p_choice, resolved_value = chosen, resolved_by = resolver, resolved_at = now()
   where c.id = k.id
  returning * into k;

  -- Written as an app edit (no origin connection): queued for every connection.
  perform set_config('crm_sync.origin_connection', '', true);
  execute format('update crm.%1$I t set %2$I = (jsonb_populate_record(null::crm.%1$I, $2)).%2$I where t.id = $1',
                 sync._table_of(k.entity_type), k.field)
    using k.local_id, jsonb_build_object(k.field, chosen);

  insert into sync.conflict_decisions (tenant_id, connection_id, entity_type, local_id, remote_id, field, strategy, scope,
                                       winner, base_value, local_value, remote_value, result_value, reason, conflict_id)
  values (k.tenant_id, k.connection_id, k.entity_type, k.local_id, k.remote_id, k.field, 'manual_review', 'review',
          case p_choice when 'custom' then 'custom' else p_choice end, k.base_value, k.local_value, k.remote_value, chosen,
          format('resolved by %s: %s value', resolver, p_choice), k.id);
  return k;
end
$$;

revoke execute on function public.list_pending_conflicts(text, integer), sync._current_value(crm.entity_type, uuid, text),
  public.resolve_conflict(uuid, text, jsonb) from public, anon;
grant execute on function public.list_pending_conflicts(text, integer), sync._current_value(crm.entity_type, uuid, text),
  public.resolve_conflict(uuid, text, jsonb) to authenticated, service_role;
