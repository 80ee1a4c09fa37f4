-- A deletion the engine made in the CRM did not advance the record's version
-- (identity_map.remote_updated_at): the CRM's event for an edit made before
-- it, arriving late (the echo of the engine's own earlier write, say), passed
-- the stale check, and since the deletion was known here, a live record from
-- the CRM read as restored there: the record came back to life (found by the
-- simulation, seed 320: a contact deleted in HubSpot, propagated to
-- Pipedrive, then restored by the Pipedrive echo of an earlier write). The
-- deletion's time is now the record's version, so only a later event (a
-- restore in the CRM) is applied.
create or replace function sync.record_outbound_results(p_connection_id uuid, p_entity_type crm.entity_type, p_results jsonb)
returns integer
language plpgsql security definer set search_path = ''
as $$
declare
  tenant uuid;
  recorded integer;
  key text;
  deleted_ids uuid[];
  restored uuid[];
begin
  select c.tenant_id into tenant from sync.connections c where c.id = p_connection_id;
  if tenant is null then
    raise exception 'connection % does not exist', p_connection_id using errcode = 'P0002';
  end if;
  -- The inbound apply's keys and order (sync.apply_inbound_changes): one global order, no cycle.
  for key in
    select distinct p_entity_type::text || '/' || (r ->> 'remote_id') as k
      from jsonb_array_elements(p_results) r where (r ->> 'deleted')::boolean
     order by k
  loop
    perform pg_advisory_xact_lock(hashtextextended(p_connection_id::text || '/' || key, 0));
  end loop;

  delete from sync.identity_map m
   using jsonb_array_elements(p_results) r
   where m.connection_id = p_connection_id and m.entity_type = p_entity_type
     and m.local_id = (r ->> 'local_id')::uuid and m.remote_id <> r ->> 'remote_id'
     and m.remote_deleted_at is not null;
  insert into sync.identity_map as m (connection_id, tenant_id, entity_type, remote_id, local_id, remote_updated_at,
                                      remote_written_at, base, base_references, remote_deleted_at, written_fields)
  select p_connection_id, tenant, p_entity_type, r ->> 'remote_id', (r ->> 'local_id')::uuid,
         (r ->> 'remote_updated_at')::timestamptz, (r ->> 'remote_updated_at')::timestamptz,
         coalesce(r -> 'base', '{}'), coalesce(r -> 'base_references', '{}'),
         case when (r ->> 'deleted')::boolean then coalesce((r ->> 'remote_updated_at')::timestamptz, now()) end,
         case when jsonb_typeof(r -> 'written_fields') = 'array' then array(select jsonb_array_elements_text(r -> 'written_fields')) end
    from jsonb_array_elements(p_results) r
  on conflict on constraint identity_map_pkey do update
    set local_id = excluded.local_id,
        remote_written_at = greatest(m.remote_written_at, excluded.remote_written_at),
        base = excluded.base, base_references = excluded.base_references,
        remote_deleted_at = excluded.remote_deleted_at,
        -- A deletion is the record's newest version: a CRM event dated before it is stale (20261126140000).
        remote_updated_at = case when excluded.remote_deleted_at is not null
                                 then greatest(m.remote_updated_at, excluded.remote_deleted_at) else m.remote_updated_at end,
        -- Two writes in one (whole) second share a version: their echo may be either's, so both count.
        written_fields = case
          when m.remote_written_at is null or excluded.remote_written_at > m.remote_written_at then excluded.written_fields
          when excluded.remote_written_at = m.remote_written_at
            then array(select distinct f from unnest(m.written_fields || excluded.written_fields) f order by f)
          else m.written_fields end,
        -- Written: the shadow has it now. Only this write's values leave the note: another write of the record may
        -- still be in flight (20261126133000).
        pending_write = sync._pending_without(m.pending_write, excluded.base, excluded.written_fields),
        pending_write_at = case when sync._pending_without(m.pending_write, excluded.base, excluded.written_fields) is not null
                                then m.pending_write_at end;
  get diagnostics recorded = row_count;

  select array_agg((r ->> 'local_id')::uuid) into deleted_ids
    from jsonb_array_elements(p_results) r where (r ->> 'deleted')::boolean;
  if deleted_ids is not null then
    execute format('select array_agg(t.id) from crm.%I t where t.id = any ($1) and t.deleted_at is null', sync._table_of(p_entity_type))
       into restored using deleted_ids;
    if restored is not null then
      perform pgmq.send_batch('crm_outbound', array(
        select jsonb_build_object('connection_id', p_connection_id, 'entity_type', p_entity_type, 'local_id', id,
                                  'op', 'upsert', 'queued_at', now())
          from unnest(restored) id));
    end if;
  end if;
  return recorded;
end
$$;
