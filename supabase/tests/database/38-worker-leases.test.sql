-- Worker leases are per run: one run releasing its lease does not tell the
-- kick (or anyone waiting for the engine to settle) that no worker is running
-- while another run still is.
begin;
select plan(5);

select sync.hold_worker_lease(60, 'aaaaaaaa-0000-4000-8000-00000000f001');
select sync.hold_worker_lease(60, 'aaaaaaaa-0000-4000-8000-00000000f002');
select ok((select lease_until > clock_timestamp() from sync.worker_state), 'two runs hold leases');

select sync.release_worker_lease('aaaaaaaa-0000-4000-8000-00000000f001');
select ok((select lease_until > clock_timestamp() from sync.worker_state), 'one run ending leaves the other''s lease in place');

select sync.release_worker_lease('aaaaaaaa-0000-4000-8000-00000000f002');
select is((select lease_until from sync.worker_state), null, 'the last run ending releases the lease');
select is((select count(*)::int from sync.worker_leases), 0, 'and leaves no lease row');

-- A run that died leaves an expired lease, which the next hold clears.
insert into sync.worker_leases (run_id, lease_until) values ('aaaaaaaa-0000-4000-8000-00000000f003', clock_timestamp() - interval '1 minute');
select sync.hold_worker_lease(60, 'aaaaaaaa-0000-4000-8000-00000000f004');
select is((select array_agg(run_id::text) from sync.worker_leases), array['aaaaaaaa-0000-4000-8000-00000000f004'],
  'an expired lease of a run that died is cleared by the next run');

select * from finish();
rollback;
