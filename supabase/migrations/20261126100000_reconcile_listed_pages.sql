-- A reconcile run's listing is noted a page at a time: one row per listed page
-- holding its remote ids, written by the call that records the page's counts,
-- instead of one row (and a primary-key entry) per record in a call of its own. The row per record cost about 33 ms of database time per 1,000
-- records, a third of the whole run's. The mapped records the listing did not
-- show are then taken once, when the unseen phase starts (one hash anti-join
-- of the identity map against the listed ids), into sync.reconcile_unseen,
-- which that phase pages through.

create table sync.reconcile_listed (
  run_id uuid not null references sync.reconcile_runs (id) on delete cascade,
  entity_type text not null,
  remote_ids text[] not null
);
create index reconcile_listed_run_idx on sync.reconcile_listed (run_id, entity_type);
alter table sync.reconcile_listed enable row level security;
grant all on sync.reconcile_listed to service_role;

create table sync.reconcile_unseen (
  run_id uuid not null references sync.reconcile_runs (id) on delete cascade,
  entity_type text not null,
  remote_id text not null,
  primary key (run_id, entity_type, remote_id)
);
alter table sync.reconcile_unseen enable row level security;
grant all on sync.reconcile_unseen to service_role;

-- A run in progress keeps what its listing has seen so far.
insert into sync.reconcile_listed (run_id, entity_type, remote_ids)
select s.run_id, s.entity_type, array_agg(s.remote_id) from sync.reconcile_seen s group by s.run_id, s.entity_type;

drop trigger forget_reconcile_seen on sync.reconcile_runs;
drop function sync._forget_reconcile_seen();
drop table sync.reconcile_seen;

-- A page's listed ids are noted by the call that records its counts and drift: one statement per page fewer.
drop function sync.mark_reconcile_seen(uuid, text, text[]);
drop function sync.record_reconcile_page(uuid, integer, jsonb);

-- Records one reconcile page: the remote ids it listed (none for a page of
-- the unseen phase), the records compared, and its drift rows, added to the
-- run's counts. The run row is locked `for no key update`: pages of two
-- entity types run side by side, and their listed and drift rows' foreign
-- keys hold key share locks on it (20261125235900).
create function sync.record_reconcile_page(p_job_id uuid, p_entity_type text, p_listed text[], p_compared integer, p_drift jsonb)
returns void
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
  if cardinality(p_listed) > 0 then
    insert into sync.reconcile_listed (run_id, entity_type, remote_ids) values (run.id, p_entity_type, p_listed);
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
revoke execute on function sync.record_reconcile_page(uuid, text, text[], integer, jsonb) from public;
grant execute on function sync.record_reconcile_page(uuid, text, text[], integer, jsonb) to service_role;

-- Mapped records of the run's connection that its listing did not show (or
-- whose CRM deletion is known while they live locally), after p_after in
-- remote id order. The first call of the phase (p_after null) takes them all
-- into sync.reconcile_unseen; a repeated first call takes them again.
create or replace function sync.unseen_mapped_records(p_job_id uuid, p_entity_type crm.entity_type, p_after text, p_limit integer)
returns table (remote_id text)
language plpgsql security definer set search_path = '' set work_mem = '64MB'
as $$
declare
  run sync.reconcile_runs;
begin
  select * into run from sync.reconcile_runs r where r.job_id = p_job_id;
  if not found then
    raise exception 'job % has no reconcile run', p_job_id using errcode = 'P0002';
  end if;
  if p_after is null then
    delete from sync.reconcile_unseen u where u.run_id = run.id and u.entity_type = p_entity_type::text;
    execute format($q$
      insert into sync.reconcile_unseen (run_id, entity_type, remote_id)
      select $1, $2::text, m.remote_id
        from sync.identity_map m
       where m.connection_id = $3 and m.entity_type = $2 and m.created_at < $4
         and (m.remote_deleted_at is null
              or exists (select from crm.%I t where t.id = m.local_id and t.deleted_at is null))
         and not exists (select from (select unnest(l.remote_ids) as remote_id
                                        from sync.reconcile_listed l where l.run_id = $1 and l.entity_type = $2::text) s
                          where s.remote_id = m.remote_id)$q$, sync._table_of(p_entity_type))
      using run.id, p_entity_type, run.connection_id, run.started_at;
  end if;
  return query
    select u.remote_id from sync.reconcile_unseen u
     where u.run_id = run.id and u.entity_type = p_entity_type::text and (p_after is null or u.remote_id > p_after)
     order by u.remote_id
     limit least(greatest(p_limit, 1), 1000);
end
$$;

-- The listing is only needed while the run lasts.
create function sync._forget_reconcile_listing() returns trigger
language plpgsql security definer set search_path = ''
as $$
begin
  delete from sync.reconcile_listed l where l.run_id = new.id;
  delete from sync.reconcile_unseen u where u.run_id = new.id;
  return new;
end
$$;
create trigger forget_reconcile_listing after update of finished_at on sync.reconcile_runs
  for each row when (new.finished_at is not null) execute function sync._forget_reconcile_listing();

revoke execute on function sync._forget_reconcile_listing() from public;
