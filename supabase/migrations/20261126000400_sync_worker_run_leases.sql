-- The worker's lease was one value for all runs: two runs at once (a kick and
-- the cron's safety net, or a manual drain) shared it, and the first to find
-- the queues empty released it while the other was still applying a batch.
-- Anyone asking "is a worker running?" (the kick, a test waiting for the
-- engine to settle) was then told no. Each run now holds a lease of its own;
-- worker_state.lease_until stays what readers read: the latest lease still held.
create table sync.worker_leases (
  run_id uuid primary key,
  lease_until timestamptz not null
);
comment on table sync.worker_leases is 'One row per sync-worker run in progress; worker_state.lease_until is the latest of them.';
alter table sync.worker_leases enable row level security;
grant all on sync.worker_leases to service_role;

create function sync.hold_worker_lease(p_seconds integer, p_run_id uuid) returns void
language plpgsql security definer set search_path = ''
as $$
begin
  perform pg_advisory_xact_lock(hashtext('crm_sync.worker_lease'));
  delete from sync.worker_leases l where l.lease_until < clock_timestamp(); -- runs that died
  insert into sync.worker_leases as l (run_id, lease_until)
  values (p_run_id, clock_timestamp() + make_interval(secs => p_seconds))
  on conflict (run_id) do update set lease_until = excluded.lease_until;
  update sync.worker_state
     set last_run_started_at = case when lease_until is null or lease_until < clock_timestamp()
                                    then clock_timestamp() else last_run_started_at end,
         lease_until = (select max(l.lease_until) from sync.worker_leases l);
end
$$;

create function sync.release_worker_lease(p_run_id uuid) returns void
language plpgsql security definer set search_path = ''
as $$
begin
  perform pg_advisory_xact_lock(hashtext('crm_sync.worker_lease'));
  delete from sync.worker_leases l where l.run_id = p_run_id or l.lease_until < clock_timestamp();
  update sync.worker_state
     set lease_until = (select max(l.lease_until) from sync.worker_leases l),
         last_run_finished_at = clock_timestamp();
end
$$;

drop function sync.hold_worker_lease(integer);
drop function sync.release_worker_lease();
revoke execute on function sync.hold_worker_lease(integer, uuid), sync.release_worker_lease(uuid) from public;
grant execute on function sync.hold_worker_lease(integer, uuid), sync.release_worker_lease(uuid) to service_role;
