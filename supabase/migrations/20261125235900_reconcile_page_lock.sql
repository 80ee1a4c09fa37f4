-- A reconcile job works on its entity types side by side, one page transaction
-- each. A list page first notes its seen ids in sync.reconcile_seen, whose
-- foreign key takes a key share lock on the run's sync.reconcile_runs row; the
-- page's counts then locked that row `for update`, which waits for every other
-- key share: two entity types' pages in flight at once deadlocked (one failed
-- the job). The counts change no key, so `for no key update` serializes the
-- pages' counts without conflicting with the seen rows' (or drift rows') keys.
create or replace function sync.record_reconcile_page(p_job_id uuid, p_compared integer, p_drift jsonb) returns void
language plpgsql security definer set search_path = ''
as $$
declare
  run sync.reconcile_runs;
  n_alerted integer;
begin
  select * into run from sync.reconcile_runs r where r.job_id = p_job_id for no key update;
  if not found then
    raise exception 'job % has no reconcile run', p_job_id using errcode = 'P0002';
  end if;
  insert into sync.reconcile_drift (run_id, tenant_id, connection_id, entity_type, remote_id, local_id, field, kind,
                                    local_value, remote_value, base_value, winner, resolution, detail)
  select run.id, run.tenant_id, run.connection_id, d ->> 'entity_type', d ->> 'remote_id', (d ->> 'local_id')::uuid,
         d ->> 'field', d ->> 'kind', d -> 'local_value', d -> 'remote_value', d -> 'base_value', d ->> 'winner',
         d ->> 'resolution', d ->> 'detail'
    from jsonb_array_elements(p_drift) d;
  select count(*) into n_alerted from jsonb_array_elements(p_drift) d where d ->> 'resolution' = 'alerted';
  update sync.reconcile_runs r
     set records_compared = r.records_compared + p_compared,
         records_drifted = r.records_drifted
           + (select count(distinct coalesce(d ->> 'remote_id', d ->> 'local_id')) from jsonb_array_elements(p_drift) d),
         fields_drifted = r.fields_drifted + jsonb_array_length(p_drift),
         resolved = r.resolved + jsonb_array_length(p_drift) - n_alerted,
         alerted = r.alerted + n_alerted
   where r.id = run.id;
  if n_alerted > 0 then
    perform pg_notify('crm_sync_alerts', jsonb_build_object('reconcile_run', run.id, 'connection_id', run.connection_id,
                                                            'alerted', n_alerted)::text);
  end if;
end
$$;
