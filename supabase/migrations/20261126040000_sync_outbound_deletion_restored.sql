-- A deletion sent to a CRM can cross a restore: the worker plans the delete,
-- and before the CRM has answered, an edit made in that CRM after the local
-- delete restores the record locally. That restore was applied on behalf of
-- the CRM, so nothing is queued back to it, and the CRM's record is now gone
-- while the local one lives: the record would stay missing there for good.
-- Recording a deletion therefore holds the same per-record locks as the
-- inbound apply (so the two cannot interleave) and queues the record again
-- for that CRM when it is live by then: the next run re-creates it.
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
        remote_deleted_at = excluded.remote_deleted_at,
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

-- The daily reconciliation is the safety net for the same case: a mapped
-- record whose CRM deletion is known but which is live locally is read again
-- too (not only those the listing missed), so it is re-created when nothing
-- else queued it.
create or replace function sync.unseen_mapped_records(p_job_id uuid, p_entity_type crm.entity_type, p_after text, p_limit integer)
returns table (remote_id text)
language plpgsql security definer set search_path = ''
as $$
begin
  if p_after is null then
    analyze sync.reconcile_seen;
  end if;
  return query execute format($q$
    select m.remote_id
      from sync.reconcile_runs r
      join sync.identity_map m on m.connection_id = r.connection_id and m.entity_type = $2
     where r.job_id = $1 and m.created_at < r.started_at
       and (m.remote_deleted_at is null
            or exists (select from crm.%I t where t.id = m.local_id and t.deleted_at is null))
       and ($3 is null or m.remote_id > $3)
       and not exists (select from sync.reconcile_seen s
                        where s.run_id = r.id and s.entity_type = $2 and s.remote_id = m.remote_id)
     order by m.remote_id
     limit least(greatest($4, 1), 1000)$q$, sync._table_of(p_entity_type))
    using p_job_id, p_entity_type, p_after, p_limit;
end
$$;
