-- A record deleted in a CRM can come back locally: an edit made after the
-- deletion in another CRM restores it. The engine then creates it in the
-- first CRM anew (a deleted person or contact is not written to), and the
-- new remote record takes the place of the deleted one in the identity map:
-- the map holds one remote record per local record and connection.
create or replace function sync.record_outbound_results(p_connection_id uuid, p_entity_type crm.entity_type, p_results jsonb)
returns integer
language plpgsql security definer set search_path = ''
as $$
declare
  tenant uuid;
  recorded integer;
begin
  select c.tenant_id into tenant from sync.connections c where c.id = p_connection_id;
  if tenant is null then
    raise exception 'connection % does not exist', p_connection_id using errcode = 'P0002';
  end if;
  delete from sync.identity_map m
   using jsonb_array_elements(p_results) r
   where m.connection_id = p_connection_id and m.entity_type = p_entity_type
     and m.local_id = (r ->> 'local_id')::uuid and m.remote_id <> r ->> 'remote_id'
     and m.remote_deleted_at is not null;
  insert into sync.identity_map as m (connection_id, tenant_id, entity_type, remote_id, local_id, remote_updated_at,
                                      remote_written_at, base, base_references, remote_deleted_at)
  select p_connection_id, tenant, p_entity_type, r ->> 'remote_id', (r ->> 'local_id')::uuid,
         (r ->> 'remote_updated_at')::timestamptz, (r ->> 'remote_updated_at')::timestamptz,
         coalesce(r -> 'base', '{}'), coalesce(r -> 'base_references', '{}'),
         case when (r ->> 'deleted')::boolean then coalesce((r ->> 'remote_updated_at')::timestamptz, now()) end
    from jsonb_array_elements(p_results) r
  on conflict on constraint identity_map_pkey do update
    set local_id = excluded.local_id,
        remote_written_at = greatest(m.remote_written_at, excluded.remote_written_at),
        base = excluded.base, base_references = excluded.base_references,
        remote_deleted_at = excluded.remote_deleted_at;
  get diagnostics recorded = row_count;
  return recorded;
end
$$;
