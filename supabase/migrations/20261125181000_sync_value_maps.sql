-- Values that differ by system, mapped per connection as data, not code:
-- deal stages (with their pipeline), lifecycle stages, owners. A value with
-- no mapping is kept raw and reported in sync.unmapped_values.
create table sync.value_maps (
  connection_id uuid not null references sync.connections (id) on delete cascade,
  kind text not null check (kind in ('deal_stage', 'lifecycle_stage', 'owner')),
  remote_value text not null check (length(remote_value) between 1 and 200),
  local_value text not null check (length(local_value) between 1 and 200),
  remote_context text,
  primary key (connection_id, kind, remote_value),
  unique (connection_id, kind, local_value)
);
comment on column sync.value_maps.remote_context is 'For deal stages: the pipeline the stage belongs to.';
alter table sync.value_maps enable row level security;
create policy "members read their tenant's value maps" on sync.value_maps
  for select to authenticated
  using (exists (select from sync.connections c where c.id = connection_id and c.tenant_id = (select crm.current_tenant_id())));
grant select on sync.value_maps to authenticated;
grant all on sync.value_maps to service_role;

create table sync.unmapped_values (
  connection_id uuid not null references sync.connections (id) on delete cascade,
  kind text not null,
  remote_value text not null,
  direction text not null check (direction in ('inbound', 'outbound')),
  occurrences bigint not null default 1,
  first_seen_at timestamptz not null default now(),
  last_seen_at timestamptz not null default now(),
  last_entity_type crm.entity_type,
  last_local_id uuid,
  primary key (connection_id, kind, remote_value, direction)
);
comment on table sync.unmapped_values is 'Values no value map translates: kept raw on the record where the column allows, and listed here for an operator to map.';
alter table sync.unmapped_values enable row level security;
create policy "members read their tenant's unmapped values" on sync.unmapped_values
  for select to authenticated
  using (exists (select from sync.connections c where c.id = connection_id and c.tenant_id = (select crm.current_tenant_id())));
grant select on sync.unmapped_values to authenticated;
grant all on sync.unmapped_values to service_role;

-- Reports unmapped values, counting repeats. p_values: [{kind, remote_value,
-- direction, entity_type?, local_id?}].
create function sync.report_unmapped_values(p_connection_id uuid, p_values jsonb) returns void
language sql security definer set search_path = ''
as $$
  insert into sync.unmapped_values as u
    (connection_id, kind, remote_value, direction, occurrences, last_entity_type, last_local_id)
  select p_connection_id, v ->> 'kind', v ->> 'remote_value', v ->> 'direction', count(*),
         max(v ->> 'entity_type')::crm.entity_type, max(v ->> 'local_id')::uuid
    from jsonb_array_elements(p_values) v
   group by v ->> 'kind', v ->> 'remote_value', v ->> 'direction'
  on conflict (connection_id, kind, remote_value, direction) do update
    set occurrences = u.occurrences + excluded.occurrences, last_seen_at = now(),
        last_entity_type = coalesce(excluded.last_entity_type, u.last_entity_type),
        last_local_id = coalesce(excluded.last_local_id, u.last_local_id)
$$;
revoke execute on function sync.report_unmapped_values(uuid, jsonb) from public;
grant execute on function sync.report_unmapped_values(uuid, jsonb) to service_role;
