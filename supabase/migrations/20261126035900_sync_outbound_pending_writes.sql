-- A write in flight is not a remote edit. The worker writes a record to the
-- CRM and records the new shadow only once the batch is answered; a CRM
-- event read in between (another field edited there meanwhile) finds the
-- CRM holding the engine's new value, the shadow the old one, and the local
-- row perhaps changed again since the write was planned. Resolved three-way,
-- the engine's own value looked like a CRM edit conflicting with the newer
-- local one, and under "timestamp" the CRM's later modification time won:
-- the newer local edit was lost. The worker now notes what it is about to
-- write (pending_write, fields to values) before sending, the inbound side
-- counts a CRM value equal to it as no change, and recording the result
-- clears it. A note older than five minutes (a write that never came back)
-- is ignored.
alter table sync.identity_map add column pending_write jsonb check (jsonb_typeof(pending_write) = 'object'),
                              add column pending_write_at timestamptz;
comment on column sync.identity_map.pending_write is
  'Fields (unified names) and values the engine is writing to the CRM record, until the write is recorded.';

-- p_writes: [{"local_id": ..., "fields": {...}}], for records mapped in this connection.
create function sync.mark_outbound_pending(p_connection_id uuid, p_entity_type crm.entity_type, p_writes jsonb) returns void
language sql security definer set search_path = ''
as $$
  update sync.identity_map m
     set pending_write = case when m.pending_write_at > now() - interval '5 minutes' then coalesce(m.pending_write, '{}') else '{}' end
                         || coalesce(w.value -> 'fields', '{}'),
         pending_write_at = now()
    from jsonb_array_elements(p_writes) w
   where m.local_id = (w.value ->> 'local_id')::uuid and m.connection_id = p_connection_id and m.entity_type = p_entity_type
$$;
revoke execute on function sync.mark_outbound_pending(uuid, crm.entity_type, jsonb) from public;
grant execute on function sync.mark_outbound_pending(uuid, crm.entity_type, jsonb) to service_role;

-- The state now carries the pending write; and the probes of 20261126000200
-- are back (the version of 20261126030100 had joins, which a stale estimate
-- turns into a read of the whole identity map).
drop function sync.load_inbound_state(uuid, crm.entity_type, text[]);
create function sync.load_inbound_state(p_connection_id uuid, p_entity_type crm.entity_type, p_remote_ids text[])
returns table (remote_id text, local_id uuid, remote_updated_at timestamptz, base jsonb, base_references jsonb,
               local jsonb, local_updated_at timestamptz, local_deleted boolean, remote_written_at timestamptz,
               remote_deleted boolean, pending_write jsonb)
language plpgsql stable security definer set search_path = ''
as $$
begin
  return query execute format($q$
    select w.remote_id, m.local_id, m.remote_updated_at, coalesce(m.base, '{}'::jsonb),
           coalesce(m.base_references, '{}'::jsonb), to_jsonb(t), t.updated_at, t.deleted_at is not null,
           m.remote_written_at, m.remote_deleted_at is not null,
           case when m.pending_write_at > now() - interval '5 minutes' then m.pending_write end
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
