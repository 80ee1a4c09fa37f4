-- A CRM record the engine knows is deleted there (it archived it, or applied
-- that deletion) can be seen deleted again later: the webhook of the
-- engine's own archive comes after the local record was restored by a later
-- edit in another CRM. That restore stands; the worker needs to know the
-- deletion is not news, so load_inbound_state also says whether the mapped
-- record is deleted in the CRM.
drop function sync.load_inbound_state(uuid, crm.entity_type, text[]);
create function sync.load_inbound_state(p_connection_id uuid, p_entity_type crm.entity_type, p_remote_ids text[])
returns table (remote_id text, local_id uuid, remote_updated_at timestamptz, base jsonb, base_references jsonb,
               local jsonb, local_updated_at timestamptz, local_deleted boolean, remote_written_at timestamptz,
               remote_deleted boolean)
language plpgsql stable security definer set search_path = ''
as $$
begin
  return query execute format($q$
    select w.remote_id, m.local_id, m.remote_updated_at, coalesce(m.base, '{}'::jsonb),
           coalesce(m.base_references, '{}'::jsonb), to_jsonb(t), t.updated_at, t.deleted_at is not null,
           m.remote_written_at, m.remote_deleted_at is not null
      from unnest($1::text[]) as w (remote_id)
      left join sync.identity_map m
        on m.connection_id = $2 and m.entity_type = $3 and m.remote_id = w.remote_id
      left join crm.%I t on t.id = m.local_id$q$, sync._table_of(p_entity_type))
    using p_remote_ids, p_connection_id, p_entity_type;
end
$$;
revoke execute on function sync.load_inbound_state(uuid, crm.entity_type, text[]) from public;
grant execute on function sync.load_inbound_state(uuid, crm.entity_type, text[]) to service_role;
