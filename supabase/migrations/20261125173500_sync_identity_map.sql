-- The identity map: one row per (connection, entity type, remote id) <-> local
-- id, unique both ways, so a remote record maps to exactly one local record
-- and a local record to at most one remote record per connection.
create table sync.identity_map (
  connection_id uuid not null,
  tenant_id uuid not null,
  entity_type crm.entity_type not null,
  remote_id text not null check (length(remote_id) between 1 and 200),
  local_id uuid not null,
  remote_updated_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (connection_id, entity_type, remote_id),
  unique (connection_id, entity_type, local_id),
  foreign key (tenant_id, connection_id) references sync.connections (tenant_id, id) on delete cascade
);
comment on column sync.identity_map.remote_updated_at is 'The provider''s modification time of the version last applied; older events are ignored.';
create index identity_map_local_idx on sync.identity_map (tenant_id, entity_type, local_id);

create trigger touch_updated_at before update on sync.identity_map
  for each row execute function crm._touch_updated_at();

alter table sync.identity_map enable row level security;
create policy "members read their tenant's identity map" on sync.identity_map
  for select to authenticated using (tenant_id = (select crm.current_tenant_id()));

grant select on sync.identity_map to authenticated;
grant all on sync.identity_map to service_role;
