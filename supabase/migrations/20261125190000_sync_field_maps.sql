-- Field mapping per connection as data, not code: which CRM property each
-- synced column is read from and written to. The adapter's default mapping
-- applies to a column without a row; `direction` limits a row to one way
-- (inbound: read, never written; outbound: written, never read). Connecting
-- an account adds the defaults for columns without a row, so an operator's
-- rows survive a reconnect.
create table sync.field_maps (
  connection_id uuid not null references sync.connections (id) on delete cascade,
  entity_type crm.entity_type not null,
  local_field text not null,
  remote_property text not null,
  direction text not null default 'both',
  primary key (connection_id, entity_type, local_field),
  constraint field_maps_local_field_is_synced check (local_field = any (sync._synced_columns(entity_type))),
  constraint field_maps_remote_property_is_a_name check (remote_property ~ '^[a-z][a-z0-9_]{0,99}$'),
  constraint field_maps_direction_is_known check (direction in ('both', 'inbound', 'outbound'))
);
comment on table sync.field_maps is 'Per connection: the CRM property each synced column maps to (default mapping where a column has no row).';
comment on column sync.field_maps.direction is 'both, inbound (read from the CRM, never written) or outbound (written, never read).';
alter table sync.field_maps enable row level security;
create policy "members read their tenant's field maps" on sync.field_maps
  for select to authenticated
  using (exists (select from sync.connections c where c.id = connection_id and c.tenant_id = (select crm.current_tenant_id())));
grant select on sync.field_maps to authenticated;
grant all on sync.field_maps to service_role;
-- The check above calls it whenever the service writes a row directly.
grant execute on function sync._synced_columns(crm.entity_type) to service_role;

-- Sets field map rows of a connection: one upsert per (entity type, local
-- field); the later of two elements for one field wins. Returns how many rows
-- it added or changed. p_field_maps: [{entity_type, local_field,
-- remote_property, direction?}], direction defaulting to both.
create function sync.set_field_maps(p_connection_id uuid, p_field_maps jsonb) returns integer
language plpgsql security definer set search_path = ''
as $$
declare
  item jsonb;
  entity crm.entity_type;
  written integer;
begin
  if not exists (select from sync.connections where id = p_connection_id) then
    raise exception 'connection % does not exist', p_connection_id using errcode = 'P0002';
  end if;
  if jsonb_typeof(p_field_maps) is distinct from 'array' then
    raise exception 'field maps must be a JSON array of {entity_type, local_field, remote_property, direction}'
      using errcode = '22023';
  end if;
  for item in select value from jsonb_array_elements(p_field_maps) loop
    if jsonb_typeof(item) is distinct from 'object'
       or item ->> 'entity_type' is null or item ->> 'local_field' is null or item ->> 'remote_property' is null then
      raise exception 'field map % needs entity_type, local_field and remote_property', item using errcode = '22023';
    end if;
    begin
      entity := (item ->> 'entity_type')::crm.entity_type;
    exception when check_violation then
      raise exception 'field map %: % is no entity type', item, item ->> 'entity_type' using errcode = '22023';
    end;
    if not (item ->> 'local_field') = any (sync._synced_columns(entity)) then
      raise exception 'field map %: % is not a synced field of %', item, item ->> 'local_field', entity
        using errcode = '22023', hint = format('synced fields: %s', array_to_string(sync._synced_columns(entity), ', '));
    end if;
    if (item ->> 'remote_property') !~ '^[a-z][a-z0-9_]{0,99}$' then
      raise exception 'field map %: % is not a property name', item, item ->> 'remote_property'
        using errcode = '22023', hint = 'lower-case letters, digits and _, starting with a letter, at most 100';
    end if;
    if coalesce(item ->> 'direction', 'both') not in ('both', 'inbound', 'outbound') then
      raise exception 'field map %: direction is both, inbound or outbound', item using errcode = '22023';
    end if;
  end loop;

  insert into sync.field_maps as m (connection_id, entity_type, local_field, remote_property, direction)
  select distinct on (f.value ->> 'entity_type', f.value ->> 'local_field')
         p_connection_id, (f.value ->> 'entity_type')::crm.entity_type, f.value ->> 'local_field',
         f.value ->> 'remote_property', coalesce(f.value ->> 'direction', 'both')
    from jsonb_array_elements(p_field_maps) with ordinality f
   order by f.value ->> 'entity_type', f.value ->> 'local_field', f.ordinality desc
  on conflict (connection_id, entity_type, local_field) do update
    set remote_property = excluded.remote_property, direction = excluded.direction
    where (m.remote_property, m.direction) is distinct from (excluded.remote_property, excluded.direction);
  get diagnostics written = row_count;
  return written;
end
$$;
revoke execute on function sync.set_field_maps(uuid, jsonb) from public;
grant execute on function sync.set_field_maps(uuid, jsonb) to service_role;
