-- Two writes of one record in flight at once (two worker runs, each with a
-- queued edit of it) shared one note: the second note replaced the first's
-- values, and the first write's recorded result cleared the note while the
-- second was still on its way. The echo of either could then be taken for a
-- CRM edit: a false conflict held for review, or, under the timestamp rule,
-- a newer local value lost to the engine's own older one read back (found by
-- the simulation, seed 48 under manual review). The note now keeps, per
-- field, every value in flight ({"phone": ["+1 555 0007", "+1 555 0021"]});
-- recording a write takes out its own values only.
update sync.identity_map m
   set pending_write = (select jsonb_object_agg(e.key, jsonb_build_array(e.value)) from jsonb_each(m.pending_write) e)
 where m.pending_write is not null and m.pending_write <> '{}';

comment on column sync.identity_map.pending_write is
  'Per field (unified name), the values the engine is writing to the CRM record, oldest first, until each write is recorded.';

-- p_writes: [{"local_id": ..., "fields": {...}}], for records mapped in this connection. A note older than five
-- minutes (a write that never came back) is dropped.
create or replace function sync.mark_outbound_pending(p_connection_id uuid, p_entity_type crm.entity_type, p_writes jsonb)
returns void
language sql security definer set search_path = ''
as $$
  update sync.identity_map m
     set pending_write = (
           select coalesce(jsonb_object_agg(coalesce(o.key, n.key), coalesce(o.value, '[]')
                                                         || case when n.key is null then '[]' else jsonb_build_array(n.value) end), '{}')
             from jsonb_each(case when m.pending_write_at > now() - interval '5 minutes' then coalesce(m.pending_write, '{}') else '{}' end) o
             full join jsonb_each(coalesce(w.value -> 'fields', '{}')) n on n.key = o.key),
         pending_write_at = now()
    from jsonb_array_elements(p_writes) w
   where m.local_id = (w.value ->> 'local_id')::uuid and m.connection_id = p_connection_id and m.entity_type = p_entity_type
$$;

-- The note less one write's values: for each of p_fields, the oldest value equal to p_written's (else the oldest).
-- Null when nothing is left; p_fields null (a create, a deletion: no note of its own) leaves nothing.
create function sync._pending_without(p_pending jsonb, p_written jsonb, p_fields text[]) returns jsonb
language sql immutable set search_path = ''
as $$
  select case when p_fields is null then null else (
    select jsonb_object_agg(e.key, e.rest)
      from (select p.key,
                   case when p.key <> all (p_fields) then p.value
                        else coalesce((select jsonb_agg(v.value order by v.n)
                                         from jsonb_array_elements(p.value) with ordinality v (value, n)
                                        where v.n <> coalesce((select min(x.n) from jsonb_array_elements(p.value) with ordinality x (value, n)
                                                                where x.value = p_written -> p.key), 1)), '[]')
                   end as rest
              from jsonb_each(coalesce(p_pending, '{}')) p) e
     where jsonb_array_length(e.rest) > 0)
  end
$$;
revoke execute on function sync._pending_without(jsonb, jsonb, text[]) from public;

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
