-- Batch sync jobs: backfill (the CRM's records into Postgres), export (local
-- records with no remote counterpart into the CRM), incremental (what changed
-- in the CRM since the last high-water mark) and reconcile (compare both
-- sides, store and repair the drift). A job runs as a chain of bounded
-- invocations of the sync-jobs function: each claims the job under a fresh
-- run id, works page by page (the checkpoint of each entity type is saved in
-- the same transaction as the page's records), and kicks the next one through
-- pg_net until the job is done. A job whose invocation died (its lease ran
-- out) is picked up again by the cron safety net from its checkpoint.
create table sync.jobs (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null,
  connection_id uuid not null,
  kind text not null check (kind in ('backfill', 'export', 'incremental', 'reconcile')),
  entity_types text[] not null check (cardinality(entity_types) between 1 and 5
    and entity_types <@ array['company', 'contact', 'deal', 'activity', 'task']),
  status text not null default 'queued' check (status in ('queued', 'running', 'paused', 'done', 'failed', 'cancelled')),
  checkpoint jsonb not null default '{}' check (jsonb_typeof(checkpoint) = 'object'),
  done_count bigint not null default 0 check (done_count >= 0),
  total_count bigint check (total_count >= 0),
  options jsonb not null default '{}' check (jsonb_typeof(options) = 'object'),
  error text,
  started_by text not null check (length(started_by) between 1 and 200),
  run_id uuid,
  lease_until timestamptz,
  heartbeat_at timestamptz,
  invocations integer not null default 0,
  created_at timestamptz not null default now(),
  started_at timestamptz,
  finished_at timestamptz,
  updated_at timestamptz not null default now(),
  foreign key (tenant_id, connection_id) references sync.connections (tenant_id, id) on delete cascade
);
comment on column sync.jobs.checkpoint is
  'Per entity type: {"cursor": opaque listing cursor | null, "done": records, "finished": bool, "phase"?: export phase, "since"?: high-water mark}.';
comment on column sync.jobs.options is 'Per-invocation limits: {"budget_ms", "max_records"} (the hosted limits are 150 s wall clock, 2 s CPU).';
comment on column sync.jobs.run_id is 'The invocation that holds the job; a checkpoint from any other is refused.';
comment on column sync.jobs.heartbeat_at is 'Last sign of life of the running invocation (each page).';
create index jobs_connection_idx on sync.jobs (connection_id, created_at desc);
create index jobs_active_idx on sync.jobs (status) where status in ('queued', 'running', 'paused');

create trigger touch_updated_at before update on sync.jobs
  for each row execute function crm._touch_updated_at();

-- The guard: one active job per connection and entity type, whatever its kind.
create table sync.job_locks (
  connection_id uuid not null references sync.connections (id) on delete cascade,
  entity_type text not null,
  job_id uuid not null references sync.jobs (id) on delete cascade,
  primary key (connection_id, entity_type)
);
comment on table sync.job_locks is 'Held by a queued, running or paused job for each of its entity types; released when it ends.';

-- Where the next incremental sync starts, per connection and entity type.
create table sync.sync_marks (
  connection_id uuid not null references sync.connections (id) on delete cascade,
  entity_type text not null check (entity_type in ('company', 'contact', 'deal', 'activity', 'task')),
  high_water_mark timestamptz not null,
  updated_at timestamptz not null default now(),
  primary key (connection_id, entity_type)
);
comment on column sync.sync_marks.high_water_mark is
  'Every CRM change before this time has been applied (set when a full or incremental listing of the entity type completes).';

-- Reconciliation: one run row per reconcile job, one drift row per record and field that differed.
create table sync.reconcile_runs (
  id uuid primary key default gen_random_uuid(),
  job_id uuid not null unique references sync.jobs (id) on delete cascade,
  tenant_id uuid not null,
  connection_id uuid not null,
  records_compared bigint not null default 0,
  records_drifted bigint not null default 0,
  fields_drifted bigint not null default 0,
  resolved bigint not null default 0,
  alerted bigint not null default 0,
  started_at timestamptz not null default now(),
  finished_at timestamptz,
  foreign key (tenant_id, connection_id) references sync.connections (tenant_id, id) on delete cascade
);

create table sync.reconcile_drift (
  id bigint generated always as identity primary key,
  run_id uuid not null references sync.reconcile_runs (id) on delete cascade,
  tenant_id uuid not null,
  connection_id uuid not null,
  entity_type text not null,
  remote_id text,
  local_id uuid,
  field text not null,
  kind text not null check (kind in ('field', 'missing_local', 'missing_remote')),
  local_value jsonb,
  remote_value jsonb,
  base_value jsonb,
  winner text check (winner in ('local', 'remote')),
  resolution text not null check (resolution in ('applied_locally', 'queued_outbound', 'alerted')),
  detail text,
  detected_at timestamptz not null default now()
);
comment on column sync.reconcile_drift.field is 'The differing field, or "*" for a record missing on one side.';
comment on column sync.reconcile_drift.resolution is
  'applied_locally: the CRM''s value was written to Postgres; queued_outbound: the local value is sent to the CRM; alerted: left for a person.';
create index reconcile_drift_run_idx on sync.reconcile_drift (run_id);

-- Members read their tenant's jobs and reconciliation results (the operator UI); only the service writes.
alter table sync.jobs enable row level security;
alter table sync.job_locks enable row level security;
alter table sync.sync_marks enable row level security;
alter table sync.reconcile_runs enable row level security;
alter table sync.reconcile_drift enable row level security;
create policy "members read their tenant's jobs" on sync.jobs
  for select to authenticated using (tenant_id = (select crm.current_tenant_id()));
create policy "members read their tenant's reconcile runs" on sync.reconcile_runs
  for select to authenticated using (tenant_id = (select crm.current_tenant_id()));
create policy "members read their tenant's drift" on sync.reconcile_drift
  for select to authenticated using (tenant_id = (select crm.current_tenant_id()));
grant select on sync.jobs, sync.reconcile_runs, sync.reconcile_drift to authenticated;
grant all on sync.jobs, sync.job_locks, sync.sync_marks, sync.reconcile_runs, sync.reconcile_drift to service_role;

-- Starts a job, or answers the active one that already holds one of these
-- entity types for the connection (created = false). Entity types default
-- to the ones the connection syncs.
create function sync.start_job(p_connection_id uuid, p_kind text, p_entity_types text[] default null,
                               p_started_by text default 'api', p_options jsonb default '{}')
returns table (job_id uuid, created boolean)
language plpgsql security definer set search_path = ''
as $$
declare
  conn sync.connections;
  types text[];
  holder uuid;
  new_id uuid;
  bad text;
begin
  if p_kind is null or p_kind not in ('backfill', 'export', 'incremental', 'reconcile') then
    raise exception 'unknown job kind "%"', p_kind using errcode = '22023', hint = 'use backfill, export, incremental or reconcile';
  end if;
  -- Serializes starts per connection, so two starts cannot both miss each other's locks.
  select * into conn from sync.connections c where c.id = p_connection_id for update;
  if not found then
    raise exception 'connection % does not exist', p_connection_id using errcode = 'P0002';
  end if;
  if not conn.enabled then
    raise exception 'connection % is disconnected', p_connection_id using errcode = '55000', hint = 'connect the account again first';
  end if;
  if p_entity_types is null or cardinality(p_entity_types) = 0 then
    select array_agg(e order by o) into types
      from unnest(array['company', 'contact', 'deal', 'activity', 'task']) with ordinality u (e, o)
     where sync._connection_syncs(conn.settings, e);
  else
    select e into bad from unnest(p_entity_types) e
     where e not in ('company', 'contact', 'deal', 'activity', 'task') limit 1;
    if bad is not null then
      raise exception 'unknown entity type "%"', bad using errcode = '22023', hint = 'use contact, company, deal, activity or task';
    end if;
    select array_agg(distinct e) into types from unnest(p_entity_types) e;
  end if;

  select l.job_id into holder from sync.job_locks l
   where l.connection_id = p_connection_id and l.entity_type = any (types) limit 1;
  if holder is not null then
    job_id := holder;
    created := false;
    return next;
    return;
  end if;

  insert into sync.jobs (tenant_id, connection_id, kind, entity_types, started_by, options, checkpoint)
  values (conn.tenant_id, p_connection_id, p_kind, types, coalesce(nullif(p_started_by, ''), 'api'), coalesce(p_options, '{}'),
          (select jsonb_object_agg(e, jsonb_build_object('cursor', null, 'done', 0, 'finished', false)) from unnest(types) e))
  returning id into new_id;
  insert into sync.job_locks (connection_id, entity_type, job_id) select p_connection_id, e, new_id from unnest(types) e;
  if p_kind = 'reconcile' then
    insert into sync.reconcile_runs (job_id, tenant_id, connection_id) values (new_id, conn.tenant_id, p_connection_id);
  end if;
  perform sync.kick_job(new_id);
  job_id := new_id;
  created := true;
  return next;
end
$$;

-- Ending a job (done, failed, cancelled) releases its entity types.
create function sync._release_job_locks() returns trigger
language plpgsql security definer set search_path = ''
as $$
begin
  if new.status in ('done', 'failed', 'cancelled') and old.status not in ('done', 'failed', 'cancelled') then
    delete from sync.job_locks l where l.job_id = new.id;
    new.finished_at := coalesce(new.finished_at, now());
    new.run_id := null;
    new.lease_until := null;
  end if;
  return new;
end
$$;
create trigger release_job_locks before update of status on sync.jobs
  for each row execute function sync._release_job_locks();

-- Asks pg_net to run one invocation of the job (the same endpoint and key as the sync worker).
create function sync.kick_job(p_job_id uuid) returns bigint
language plpgsql security definer set search_path = ''
as $$
declare
  base_url text;
  service_key text;
begin
  select decrypted_secret into base_url from vault.decrypted_secrets where name = 'crm_sync_functions_url';
  select decrypted_secret into service_key from vault.decrypted_secrets where name = 'crm_sync_service_role_key';
  if base_url is null or service_key is null then
    raise warning 'sync-jobs endpoint is not configured; run sync.configure_worker_endpoint(url, key)';
    return null;
  end if;
  return net.http_post(
    url := base_url || '/sync-jobs/' || p_job_id || '/run',
    body := '{}'::jsonb,
    headers := jsonb_build_object('Content-Type', 'application/json', 'Authorization', 'Bearer ' || service_key),
    timeout_milliseconds := 180000);
end
$$;

-- Claims a job for one invocation: a queued job, or a running one whose
-- previous invocation released it or died (lease passed). Returns nothing
-- when the job is held by a live invocation, paused or over.
create function sync.claim_job(p_job_id uuid, p_lease_seconds integer)
returns setof sync.jobs
language plpgsql security definer set search_path = ''
as $$
begin
  if p_lease_seconds not between 5 and 900 then
    raise exception 'p_lease_seconds must be between 5 and 900, got %', p_lease_seconds using errcode = '22023';
  end if;
  return query
    update sync.jobs j
       set status = 'running', run_id = gen_random_uuid(), lease_until = clock_timestamp() + make_interval(secs => p_lease_seconds),
           heartbeat_at = clock_timestamp(), started_at = coalesce(j.started_at, clock_timestamp()),
           invocations = j.invocations + 1, error = null
     where j.id = p_job_id
       and (j.status = 'queued' or (j.status = 'running' and (j.lease_until is null or j.lease_until < clock_timestamp())))
    returning j.*;
end
$$;

-- Saves one entity type's checkpoint after a page, inside the page's
-- transaction: refused (and so the page rolled back) when this invocation no
-- longer holds the job (cancelled, paused, or taken over after its lease ran out).
create function sync.save_job_checkpoint(p_job_id uuid, p_run_id uuid, p_entity_type text, p_checkpoint jsonb,
                                         p_done integer, p_lease_seconds integer)
returns void
language plpgsql security definer set search_path = ''
as $$
begin
  update sync.jobs j
     set checkpoint = jsonb_set(j.checkpoint, array[p_entity_type], p_checkpoint),
         done_count = j.done_count + greatest(p_done, 0),
         heartbeat_at = clock_timestamp(),
         lease_until = clock_timestamp() + make_interval(secs => p_lease_seconds)
   where j.id = p_job_id and j.run_id = p_run_id and j.status = 'running';
  if not found then
    raise exception 'job % is no longer held by run %', p_job_id, p_run_id using errcode = '40001',
      hint = 'the job was cancelled, paused or taken over; this page is rolled back';
  end if;
end
$$;

-- References left pending by a page that was applied at the same time as
-- the page holding their target (side by side entity types, or a webhook):
-- neither transaction saw the other's uncommitted rows. Once both have
-- committed, the target is mapped; this points the waiting records at it.
-- Run at the end of every job run. Returns how many were resolved.
create function sync.resolve_pending_references(p_connection_id uuid) returns integer
language plpgsql security definer set search_path = ''
as $$
declare
  waiting record;
  previous_origin text := current_setting('crm_sync.origin_connection', true);
  resolved integer := 0;
begin
  -- Written on this connection's behalf: not sent back to it.
  perform set_config('crm_sync.origin_connection', p_connection_id::text, true);
  for waiting in
    delete from sync.pending_references p
     using sync.identity_map m
     where p.connection_id = p_connection_id and m.connection_id = p_connection_id
       and m.entity_type = p.reference and m.remote_id = p.target_remote_id
    returning p.entity_type, p.local_id, p.reference, m.local_id as target_local_id
  loop
    execute format('update crm.%I set %I = $2 where id = $1', sync._table_of(waiting.entity_type), waiting.reference || '_id')
      using waiting.local_id, waiting.target_local_id;
    resolved := resolved + 1;
  end loop;
  perform set_config('crm_sync.origin_connection', coalesce(previous_origin, ''), true);
  return resolved;
end
$$;

-- Ends an invocation: 'continue' releases the lease and kicks the next one;
-- 'wait' (the connection's rate budget is spent past this invocation)
-- keeps the lease for p_wait_ms and lets the cron safety net kick after it;
-- 'done' finishes the job (and moves the high-water marks: to the end of
-- the listed window for incremental, to the job's start for a backfill);
-- 'paused' and 'failed' keep the error. A job no longer this run's is left alone.
create function sync.end_job_run(p_job_id uuid, p_run_id uuid, p_outcome text, p_error text default null,
                                 p_wait_ms integer default 0)
returns text
language plpgsql security definer set search_path = ''
as $$
declare
  job sync.jobs;
begin
  if p_outcome not in ('continue', 'wait', 'done', 'paused', 'failed') then
    raise exception 'unknown outcome "%"', p_outcome using errcode = '22023';
  end if;
  select * into job from sync.jobs j where j.id = p_job_id for update;
  if not found or job.run_id is distinct from p_run_id or job.status <> 'running' then
    return coalesce(job.status, 'missing');
  end if;
  perform sync.resolve_pending_references(p_connection_id => job.connection_id);
  if p_outcome = 'continue' then
    update sync.jobs j set lease_until = null where j.id = p_job_id;
    perform sync.kick_job(p_job_id);
    return 'running';
  end if;
  if p_outcome = 'wait' then
    update sync.jobs j set lease_until = clock_timestamp() + make_interval(secs => greatest(p_wait_ms, 1000) / 1000.0), error = p_error
     where j.id = p_job_id;
    return 'running';
  end if;
  if p_outcome = 'done' then
    if job.kind in ('backfill', 'incremental') then
      -- A backfill keeps five minutes of overlap: clock skew and the CRM's search indexing lag.
      insert into sync.sync_marks as s (connection_id, entity_type, high_water_mark)
      select job.connection_id, e,
             coalesce((job.checkpoint -> e ->> 'until')::timestamptz, job.started_at - interval '5 minutes')
        from unnest(job.entity_types) e
      on conflict (connection_id, entity_type) do update
        set high_water_mark = greatest(s.high_water_mark, excluded.high_water_mark), updated_at = now();
    end if;
    update sync.reconcile_runs r set finished_at = clock_timestamp() where r.job_id = p_job_id;
  end if;
  update sync.jobs j set status = p_outcome, error = p_error, run_id = null, lease_until = null where j.id = p_job_id;
  return p_outcome;
end
$$;

-- Operator actions. Cancel ends the job wherever it is (a running
-- invocation's next checkpoint is refused); resume queues a paused or
-- failed job again from its checkpoint.
create function sync.cancel_job(p_job_id uuid) returns text
language plpgsql security definer set search_path = ''
as $$
declare
  current_status text;
begin
  select j.status into current_status from sync.jobs j where j.id = p_job_id for update;
  if not found then
    raise exception 'job % does not exist', p_job_id using errcode = 'P0002';
  end if;
  if current_status in ('done', 'failed', 'cancelled') then
    return current_status;
  end if;
  update sync.jobs j set status = 'cancelled', error = coalesce(j.error, 'cancelled by an operator') where j.id = p_job_id;
  return 'cancelled';
end
$$;

create function sync.resume_job(p_job_id uuid) returns text
language plpgsql security definer set search_path = ''
as $$
declare
  job sync.jobs;
begin
  select * into job from sync.jobs j where j.id = p_job_id for update;
  if not found then
    raise exception 'job % does not exist', p_job_id using errcode = 'P0002';
  end if;
  if job.status in ('queued', 'running') then
    return job.status;
  end if;
  if job.status in ('done', 'cancelled') then
    raise exception 'job % is %; start a new one', p_job_id, job.status using errcode = '55000';
  end if;
  if job.status = 'failed' then
    -- A failed job gave its entity types up; take them again unless another job has them now.
    if exists (select from sync.job_locks l where l.connection_id = job.connection_id and l.entity_type = any (job.entity_types)) then
      raise exception 'another job holds some of these entity types now' using errcode = '55000';
    end if;
    insert into sync.job_locks (connection_id, entity_type, job_id) select job.connection_id, e, job.id from unnest(job.entity_types) e;
  end if;
  update sync.jobs j set status = 'queued', finished_at = null, run_id = null, lease_until = null where j.id = p_job_id;
  perform sync.kick_job(p_job_id);
  return 'queued';
end
$$;

-- The cron safety net: kicks jobs whose invocation died (lease passed while
-- running) or whose kick was lost (queued, or handed over, a while ago). Returns the jobs kicked.
create function sync.recover_stuck_jobs(p_queued_for interval default interval '30 seconds') returns integer
language plpgsql security definer set search_path = ''
as $$
declare
  stuck uuid;
  kicked integer := 0;
begin
  for stuck in
    select j.id from sync.jobs j
     where (j.status = 'running' and j.lease_until < clock_timestamp())
        or (j.status in ('queued', 'running') and j.lease_until is null and j.updated_at < clock_timestamp() - p_queued_for)
  loop
    perform sync.kick_job(stuck);
    update sync.jobs j set heartbeat_at = j.heartbeat_at where j.id = stuck; -- touches updated_at: one kick per period
    kicked := kicked + 1;
  end loop;
  return kicked;
end
$$;

-- The schedules: an incremental sync every hour and a reconciliation every
-- day, for every enabled connection, skipping entity types a job holds.
create function sync.schedule_jobs(p_kind text) returns integer
language plpgsql security definer set search_path = ''
as $$
declare
  conn record;
  free text[];
  started integer := 0;
begin
  if p_kind not in ('incremental', 'reconcile') then
    raise exception 'only incremental and reconcile jobs are scheduled, not %', p_kind using errcode = '22023';
  end if;
  for conn in select c.id, c.settings from sync.connections c where c.enabled loop
    select array_agg(e) into free
      from unnest(array['company', 'contact', 'deal', 'activity', 'task']) e
     where sync._connection_syncs(conn.settings, e)
       and not exists (select from sync.job_locks l where l.connection_id = conn.id and l.entity_type = e)
       -- Incremental needs a high-water mark: a connection never backfilled has nothing to continue from.
       and (p_kind = 'reconcile' or exists (select from sync.sync_marks m where m.connection_id = conn.id and m.entity_type = e));
    if free is not null then
      perform sync.start_job(conn.id, p_kind, free, 'cron');
      started := started + 1;
    end if;
  end loop;
  return started;
end
$$;

revoke execute on function sync.start_job(uuid, text, text[], text, jsonb), sync._release_job_locks(), sync.kick_job(uuid),
  sync.resolve_pending_references(uuid),
  sync.claim_job(uuid, integer), sync.save_job_checkpoint(uuid, uuid, text, jsonb, integer, integer),
  sync.end_job_run(uuid, uuid, text, text, integer), sync.cancel_job(uuid), sync.resume_job(uuid),
  sync.recover_stuck_jobs(interval), sync.schedule_jobs(text) from public;
grant execute on function sync.start_job(uuid, text, text[], text, jsonb), sync.kick_job(uuid),
  sync.claim_job(uuid, integer), sync.save_job_checkpoint(uuid, uuid, text, jsonb, integer, integer),
  sync.end_job_run(uuid, uuid, text, text, integer), sync.cancel_job(uuid), sync.resume_job(uuid),
  sync.recover_stuck_jobs(interval), sync.schedule_jobs(text) to service_role;

select cron.schedule('sync-jobs-safety-net', '* * * * *', $$select sync.recover_stuck_jobs()$$);
select cron.schedule('sync-incremental-hourly', '0 * * * *', $$select sync.schedule_jobs('incremental')$$);
select cron.schedule('sync-reconcile-daily', '30 3 * * *', $$select sync.schedule_jobs('reconcile')$$);
