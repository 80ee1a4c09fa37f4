-- The version the engine wrote is not a version it read. After a write, the
-- CRM record may also hold a change someone made there just before it (its
-- webhook still on the way), on a field the write did not touch; the shadow
-- recorded for the write does not have it. Counting the write's modification
-- time as "applied" made that change's webhook look old (skipped) and the
-- fetched record look stale, so a concurrent edit to another field was lost.
-- Now a write records its time apart (remote_written_at): only its own echo
-- (an event at exactly that time) is skipped, and remote_updated_at moves
-- only with what was read, so the next read of the record is applied and
-- resolved three-way like any other.
alter table sync.identity_map add column remote_written_at timestamptz;
comment on column sync.identity_map.remote_written_at is
  'Modification time of the engine''s last write to the CRM: events at exactly this time are its echo.';
comment on column sync.identity_map.remote_updated_at is
  'Version of the CRM record last read and applied (a create counts: the engine wrote the whole record).';

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

-- Same as before, plus remote_written_at (the inbound skip needs it).
drop function sync.load_inbound_state(uuid, crm.entity_type, text[]);
create function sync.load_inbound_state(p_connection_id uuid, p_entity_type crm.entity_type, p_remote_ids text[])
returns table (remote_id text, local_id uuid, remote_updated_at timestamptz, base jsonb, base_references jsonb,
               local jsonb, local_updated_at timestamptz, local_deleted boolean, remote_written_at timestamptz)
language plpgsql stable security definer set search_path = ''
as $$
begin
  return query execute format($q$
    select w.remote_id, m.local_id, m.remote_updated_at, coalesce(m.base, '{}'::jsonb),
           coalesce(m.base_references, '{}'::jsonb), to_jsonb(t), t.updated_at, t.deleted_at is not null,
           m.remote_written_at
      from unnest($1::text[]) as w (remote_id)
      left join sync.identity_map m
        on m.connection_id = $2 and m.entity_type = $3 and m.remote_id = w.remote_id
      left join crm.%I t on t.id = m.local_id$q$, sync._table_of(p_entity_type))
    using p_remote_ids, p_connection_id, p_entity_type;
end
$$;
revoke execute on function sync.load_inbound_state(uuid, crm.entity_type, text[]) from public;
grant execute on function sync.load_inbound_state(uuid, crm.entity_type, text[]) to service_role;
