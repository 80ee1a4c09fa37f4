-- A write can overwrite an edit the engine never saw. Pipedrive writes a
-- person's name whole, so when the engine changes one part it sends the other
-- as it just read it; a user's edit of that other part landing between the
-- read and the write is overwritten, and the user's own webhook, fetched
-- after, finds the engine's value. The webhook of the engine's write shows
-- it: its `previous` holds what the write replaced, and a part the write
-- changed though the engine was not asked to write it held such an edit.
-- To tell the parts apart the engine keeps, beside the version of its last
-- write (remote_written_at), the fields that write was asked to write; the
-- fields of a write in flight are the pending_write note (20261126035900),
-- and the echo of an older write (or of a create) is not judged.
alter table sync.identity_map add column written_fields text[];
comment on column sync.identity_map.written_fields is
  'Fields (unified names) the engine''s last recorded write to the CRM record was asked to write; null for a create.';

-- Results may carry written_fields (an update's fields); the rest is as in 20261126040000.
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
        -- Two writes in one (whole) second share a version: their echo may be either's, so both count.
        written_fields = case
          when m.remote_written_at is null or excluded.remote_written_at > m.remote_written_at then excluded.written_fields
          when excluded.remote_written_at = m.remote_written_at
            then array(select distinct f from unnest(m.written_fields || excluded.written_fields) f order by f)
          else m.written_fields end,
        pending_write = null, pending_write_at = null; -- written: the shadow has it now (20261126035900)
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

-- The state carries written_fields; the rest is as in 20261126035900.
drop function sync.load_inbound_state(uuid, crm.entity_type, text[]);
create function sync.load_inbound_state(p_connection_id uuid, p_entity_type crm.entity_type, p_remote_ids text[])
returns table (remote_id text, local_id uuid, remote_updated_at timestamptz, base jsonb, base_references jsonb,
               local jsonb, local_updated_at timestamptz, local_deleted boolean, remote_written_at timestamptz,
               remote_deleted boolean, pending_write jsonb, written_fields text[])
language plpgsql stable security definer set search_path = ''
as $$
begin
  return query execute format($q$
    select w.remote_id, m.local_id, m.remote_updated_at, coalesce(m.base, '{}'::jsonb),
           coalesce(m.base_references, '{}'::jsonb), to_jsonb(t), t.updated_at, t.deleted_at is not null,
           m.remote_written_at, m.remote_deleted_at is not null,
           case when m.pending_write_at > now() - interval '5 minutes' then m.pending_write end, m.written_fields
      from unnest($1::text[]) as w (remote_id)
      left join lateral (select m.* from sync.identity_map m
                          where m.connection_id = $2 and m.entity_type = $3 and m.remote_id = w.remote_id limit 1) m on true
      left join lateral (select t.* from crm.%I t where t.id = m.local_id limit 1) t on true$q$, sync._table_of(p_entity_type))
    using p_remote_ids, p_connection_id, p_entity_type;
end
$$;
alter function sync.load_inbound_state(uuid, crm.entity_type, text[]) set enable_seqscan = off;
revoke execute on function sync.load_inbound_state(uuid, crm.entity_type, text[]) from public;
grant execute on function sync.load_inbound_state(uuid, crm.entity_type, text[]) to service_role;
