-- What the export and reconcile jobs read and write besides the engine's
-- apply and outbound paths: the local records a connection has not mapped
-- yet (paged by id), and the drift a reconciliation found.

-- Live local records of the connection's tenant with no identity row for it, after p_after in id order.
create function sync.unmapped_local_records(p_connection_id uuid, p_entity_type crm.entity_type, p_after uuid, p_limit integer)
returns table (local_id uuid)
language plpgsql stable security definer set search_path = ''
as $$
declare
  tenant uuid;
begin
  select c.tenant_id into tenant from sync.connections c where c.id = p_connection_id;
  if tenant is null then
    raise exception 'connection % does not exist', p_connection_id using errcode = 'P0002';
  end if;
  return query execute format($q$
    select t.id from crm.%I t
     where t.tenant_id = $1 and t.deleted_at is null and ($2::uuid is null or t.id > $2)
       and not exists (select from sync.identity_map m where m.connection_id = $3 and m.entity_type = $4 and m.local_id = t.id)
     order by t.id limit $5$q$, sync._table_of(p_entity_type))
    using tenant, p_after, p_connection_id, p_entity_type, least(greatest(p_limit, 1), 1000);
end
$$;

-- How many there are: an export job's total.
create function sync.count_unmapped_local_records(p_connection_id uuid, p_entity_types text[]) returns bigint
language plpgsql stable security definer set search_path = ''
as $$
declare
  tenant uuid;
  entity text;
  n bigint;
  total bigint := 0;
begin
  select c.tenant_id into tenant from sync.connections c where c.id = p_connection_id;
  foreach entity in array p_entity_types loop
    execute format($q$
      select count(*) from crm.%I t
       where t.tenant_id = $1 and t.deleted_at is null
         and not exists (select from sync.identity_map m where m.connection_id = $2 and m.entity_type = $3 and m.local_id = t.id)$q$,
      sync._table_of(entity::crm.entity_type))
      into n using tenant, p_connection_id, entity;
    total := total + n;
  end loop;
  return total;
end
$$;

-- Stores one page's drift and counts (in the page's transaction). p_drift:
-- [{entity_type, remote_id, local_id, field, kind, local_value, remote_value,
--   base_value, winner, resolution, detail}]. Alerted drift is announced on
-- the crm_sync_alerts channel for whoever watches.
create function sync.record_reconcile_page(p_job_id uuid, p_compared integer, p_drift jsonb) returns void
language plpgsql security definer set search_path = ''
as $$
declare
  run sync.reconcile_runs;
  n_alerted integer;
begin
  select * into run from sync.reconcile_runs r where r.job_id = p_job_id for update;
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

revoke execute on function sync.unmapped_local_records(uuid, crm.entity_type, uuid, integer),
  sync.count_unmapped_local_records(uuid, text[]), sync.record_reconcile_page(uuid, integer, jsonb) from public;
grant execute on function sync.unmapped_local_records(uuid, crm.entity_type, uuid, integer),
  sync.count_unmapped_local_records(uuid, text[]), sync.record_reconcile_page(uuid, integer, jsonb) to service_role;

-- Records the CRM no longer lists: a reconcile run notes every remote id its
-- listing saw; afterwards the mapped records it did not see are read one by
-- one (by id) to tell a deletion behind the engine's back from a record
-- created during the listing.
create table sync.reconcile_seen (
  run_id uuid not null references sync.reconcile_runs (id) on delete cascade,
  entity_type text not null,
  remote_id text not null,
  primary key (run_id, entity_type, remote_id)
);
alter table sync.reconcile_seen enable row level security;
grant all on sync.reconcile_seen to service_role;

create function sync.mark_reconcile_seen(p_job_id uuid, p_entity_type text, p_remote_ids text[]) returns void
language sql security definer set search_path = ''
as $$
  insert into sync.reconcile_seen (run_id, entity_type, remote_id)
  select r.id, p_entity_type, unnest(p_remote_ids) from sync.reconcile_runs r where r.job_id = p_job_id
  on conflict do nothing
$$;

-- Mapped, live records of the run's connection that its listing did not see, after p_after in remote id order.
-- The first call of a phase analyzes the seen ids: the listing has just added them all, and a plan made on the
-- statistics of a nearly empty table can scan them once per mapped record.
create function sync.unseen_mapped_records(p_job_id uuid, p_entity_type crm.entity_type, p_after text, p_limit integer)
returns table (remote_id text)
language plpgsql security definer set search_path = ''
as $$
begin
  if p_after is null then
    analyze sync.reconcile_seen;
  end if;
  return query
    select m.remote_id
      from sync.reconcile_runs r
      join sync.identity_map m on m.connection_id = r.connection_id and m.entity_type = p_entity_type
     where r.job_id = p_job_id and m.remote_deleted_at is null and m.created_at < r.started_at
       and (p_after is null or m.remote_id > p_after)
       and not exists (select from sync.reconcile_seen s
                        where s.run_id = r.id and s.entity_type = p_entity_type and s.remote_id = m.remote_id)
     order by m.remote_id
     limit least(greatest(p_limit, 1), 1000);
end
$$;

-- The seen ids are only needed while the run lasts.
create function sync._forget_reconcile_seen() returns trigger
language plpgsql security definer set search_path = ''
as $$
begin
  delete from sync.reconcile_seen s where s.run_id = new.id;
  return new;
end
$$;
create trigger forget_reconcile_seen after update of finished_at on sync.reconcile_runs
  for each row when (new.finished_at is not null) execute function sync._forget_reconcile_seen();

revoke execute on function sync.mark_reconcile_seen(uuid, text, text[]), sync.unseen_mapped_records(uuid, crm.entity_type, text, integer),
  sync._forget_reconcile_seen() from public;
grant execute on function sync.mark_reconcile_seen(uuid, text, text[]), sync.unseen_mapped_records(uuid, crm.entity_type, text, integer)
  to service_role;
