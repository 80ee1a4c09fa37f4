-- Batch sync jobs: the one-active-job guard per connection and entity type,
-- claims and leases, checkpoints refused to an invocation that lost the job,
-- stuck-job recovery, the end of a run (high-water marks, released locks),
-- operator cancel/resume, the schedules, and reconcile bookkeeping.
begin;
select plan(44);

insert into crm.tenants (id, name, slug) values ('dddddddd-0000-4000-8000-000000000000', 'Jobs', 'jobs-tenant');
insert into sync.connections (id, tenant_id, provider, account_id) values
  ('dddddddd-0000-4000-8000-000000000001', 'dddddddd-0000-4000-8000-000000000000', 'hubspot', 'jobs-portal'),
  ('dddddddd-0000-4000-8000-000000000002', 'dddddddd-0000-4000-8000-000000000000', 'hubspot', 'jobs-portal-2');
insert into crm.contacts (id, tenant_id, email) values
  ('dddddddd-0000-4000-8000-0000000000c1', 'dddddddd-0000-4000-8000-000000000000', 'one@jobs.example'),
  ('dddddddd-0000-4000-8000-0000000000c2', 'dddddddd-0000-4000-8000-000000000000', 'two@jobs.example');

create temporary table started on commit drop as
  select * from sync.start_job('dddddddd-0000-4000-8000-000000000001', 'backfill', array['contact', 'company'], 'pgtap');
select is((select created from started), true, 'a first start creates the job');
select is((select status from sync.jobs where id = (select job_id from started)), 'queued', 'a new job is queued');
select is((select count(*)::int from sync.job_locks where job_id = (select job_id from started)), 2, 'it holds each of its entity types');
select is((select checkpoint -> 'contact' ->> 'finished' from sync.jobs where id = (select job_id from started)), 'false',
  'each entity type starts with an empty checkpoint');
select is((select count(*)::int from net.http_request_queue where url like '%/sync-jobs/' || (select job_id from started) || '/run'), 1,
  'starting kicks the first run through pg_net');

select results_eq($$select job_id, created from sync.start_job('dddddddd-0000-4000-8000-000000000001', 'backfill', array['contact'], 'pgtap')$$,
  $$select job_id, false from started$$, 'starting again answers the active job');
select results_eq($$select job_id, created from sync.start_job('dddddddd-0000-4000-8000-000000000001', 'reconcile', array['company'], 'pgtap')$$,
  $$select job_id, false from started$$, 'a job of another kind on a held entity type answers the holder too');
select is((select created from sync.start_job('dddddddd-0000-4000-8000-000000000001', 'reconcile', array['deal'], 'pgtap')), true,
  'another entity type of the same connection can run at the same time');
select is((select created from sync.start_job('dddddddd-0000-4000-8000-000000000002', 'backfill', array['contact'], 'pgtap')), true,
  'the same entity type of another connection can run at the same time');
select throws_ok($$insert into sync.job_locks (connection_id, entity_type, job_id)
                   select 'dddddddd-0000-4000-8000-000000000001', 'contact', id from sync.jobs where kind = 'reconcile' limit 1$$,
  '23505', null, 'the lock table itself refuses a second holder');
select throws_ok($$select * from sync.start_job('dddddddd-0000-4000-8000-000000000001', 'mirror', null, 'pgtap')$$,
  '22023', 'unknown job kind "mirror"', 'an unknown kind is refused with its name');
select throws_ok($$select * from sync.start_job('dddddddd-0000-4000-8000-00000000ffff', 'backfill', null, 'pgtap')$$,
  'P0002', null, 'an unknown connection is refused');
select throws_ok($$select * from sync.start_job('dddddddd-0000-4000-8000-000000000001', 'backfill', array['ticket'], 'pgtap')$$,
  '22023', 'unknown entity type "ticket"', 'an unknown entity type is refused with its name');
select is((select created from sync.start_job('dddddddd-0000-4000-8000-000000000002', 'incremental', null, 'pgtap')), false,
  'without entity types a job asks for all the connection syncs, so it meets the job holding one of them');
insert into sync.connections (id, tenant_id, provider, account_id, settings) values
  ('dddddddd-0000-4000-8000-000000000003', 'dddddddd-0000-4000-8000-000000000000', 'hubspot', 'jobs-portal-3', '{"entities": ["deal", "contact"]}');
create temporary table started3 on commit drop as
  select * from sync.start_job('dddddddd-0000-4000-8000-000000000003', 'backfill', null, 'pgtap');
select is((select j.entity_types from sync.jobs j join started3 s on s.job_id = j.id),
  array['contact', 'deal'], 'without entity types a job takes the ones the connection syncs, parents first');

-- Claims and checkpoints.
create temporary table claim1 on commit drop as select * from sync.claim_job((select job_id from started), 60);
select is((select status from claim1), 'running', 'a claim makes the job running');
select is((select count(*)::int from sync.claim_job((select job_id from started), 60)), 0, 'a job under a live lease cannot be claimed twice');
select lives_ok($$select sync.save_job_checkpoint((select job_id from started), (select run_id from claim1), 'contact',
                  '{"cursor": "c1", "done": 100, "finished": false}', 100, 60)$$, 'the holder saves a checkpoint');
select is((select (checkpoint -> 'contact' ->> 'cursor') || '/' || done_count from sync.jobs where id = (select job_id from started)),
  'c1/100', 'the checkpoint and the progress are saved');
select throws_ok($$select sync.save_job_checkpoint((select job_id from started), gen_random_uuid(), 'contact',
                   '{"cursor": "x", "done": 1, "finished": false}', 1, 60)$$,
  '40001', null, 'a checkpoint from an invocation that does not hold the job is refused');

-- A dead invocation: its lease runs out; the safety net kicks; the next claim continues from the checkpoint.
update sync.jobs set lease_until = clock_timestamp() - interval '1 second' where id = (select job_id from started);
select cmp_ok(sync.recover_stuck_jobs(), '>=', 1, 'a running job whose lease ran out is found stuck and kicked');
create temporary table claim2 on commit drop as select * from sync.claim_job((select job_id from started), 60);
select isnt((select run_id from claim2), (select run_id from claim1), 'the next invocation takes it under a new run id');
select is((select checkpoint -> 'contact' ->> 'cursor' from claim2), 'c1', 'and resumes from the saved checkpoint');
select is((select invocations from claim2), 2, 'invocations are counted');
select throws_ok($$select sync.save_job_checkpoint((select job_id from started), (select run_id from claim1), 'contact',
                   '{"cursor": "stale", "done": 1, "finished": false}', 1, 60)$$,
  '40001', null, 'the dead invocation, if it comes back, cannot overwrite the checkpoint');

-- Ending runs.
select is(sync.end_job_run((select job_id from started), (select run_id from claim2), 'continue'), 'running',
  'continue hands the job over');
select is((select lease_until from sync.jobs where id = (select job_id from started)), null, 'and releases the lease for the next run');
create temporary table claim3 on commit drop as select * from sync.claim_job((select job_id from started), 60);
select is(sync.end_job_run((select job_id from started), (select run_id from claim3), 'paused', 'HubSpot 503'), 'paused',
  'a CRM that is down pauses the job');
select is((select error from sync.jobs where id = (select job_id from started)), 'HubSpot 503', 'with its error');
select is((select count(*)::int from sync.job_locks where job_id = (select job_id from started)), 2, 'a paused job keeps its entity types');
select is(sync.resume_job((select job_id from started)), 'queued', 'resume queues it again');
create temporary table claim4 on commit drop as select * from sync.claim_job((select job_id from started), 60);
select is((select checkpoint -> 'contact' ->> 'cursor' from claim4), 'c1', 'a resumed job continues from its checkpoint');
select is(sync.end_job_run((select job_id from started), (select run_id from claim4), 'done'), 'done', 'done ends the job');
select is((select count(*)::int from sync.job_locks where job_id = (select job_id from started)), 0, 'a finished job releases its entity types');
select is((select count(*)::int from sync.sync_marks where connection_id = 'dddddddd-0000-4000-8000-000000000001'
             and entity_type in ('contact', 'company') and high_water_mark < now()), 2,
  'a finished backfill sets the high-water marks of its entity types');

-- Cancel, and the schedules.
select is(sync.cancel_job((select job_id from sync.job_locks where entity_type = 'deal' and connection_id = 'dddddddd-0000-4000-8000-000000000001')),
  'cancelled', 'cancel ends an active job');
select is(sync.schedule_jobs('incremental'), 1,
  'the hourly schedule starts an incremental job only where a high-water mark exists and no job holds the entity types');

-- Reconcile: the listing's seen ids, and the mapped records it did not show.
insert into sync.identity_map (connection_id, tenant_id, entity_type, remote_id, local_id, created_at) values
  ('dddddddd-0000-4000-8000-000000000002', 'dddddddd-0000-4000-8000-000000000000', 'contact', 'r1', 'dddddddd-0000-4000-8000-0000000000c1', now() - interval '1 hour'),
  ('dddddddd-0000-4000-8000-000000000002', 'dddddddd-0000-4000-8000-000000000000', 'contact', 'r2', 'dddddddd-0000-4000-8000-0000000000c2', now() - interval '1 hour');
create temporary table rec on commit drop as
  select * from sync.start_job('dddddddd-0000-4000-8000-000000000003', 'reconcile', array['company'], 'pgtap');
update sync.reconcile_runs set connection_id = 'dddddddd-0000-4000-8000-000000000002' where job_id = (select job_id from rec);
insert into sync.identity_map (connection_id, tenant_id, entity_type, remote_id, local_id, created_at)
select 'dddddddd-0000-4000-8000-000000000002', 'dddddddd-0000-4000-8000-000000000000', 'contact', 'r' || g, gen_random_uuid(),
       now() - interval '1 hour'
  from generate_series(3, 6) g;
select sync.record_reconcile_page((select job_id from rec), 'contact', array['r1', 'r9', 'r4'], 3, '[]');
select sync.record_reconcile_page((select job_id from rec), 'contact', array['r6', 'r1'], 2, '[]');
select is((select count(*)::int from sync.reconcile_listed l join sync.reconcile_runs r on r.id = l.run_id
            where r.job_id = (select job_id from rec)), 2,
  'the listing is noted one row per page, not per record');
select results_eq($$select remote_id from sync.unseen_mapped_records((select job_id from rec), 'contact', null, 2)$$,
  array['r2', 'r3'], 'mapped records no listed page showed are unseen, in remote id order; seen ones are not');
select results_eq($$select remote_id from sync.unseen_mapped_records((select job_id from rec), 'contact', 'r3', 2)$$,
  array['r5'], 'the unseen phase pages on after the last remote id');
select results_eq($$select remote_id from sync.unseen_mapped_records((select job_id from rec), 'contact', null, 100)$$,
  array['r2', 'r3', 'r5'], 'starting the phase again takes the unseen records again, once each');
select sync.record_reconcile_page((select job_id from rec), 'contact', '{}', 5,
  '[{"entity_type": "contact", "remote_id": "r2", "field": "phone", "kind": "field", "winner": "remote", "resolution": "applied_locally"},
    {"entity_type": "contact", "remote_id": "r2", "field": "email", "kind": "field", "winner": null, "resolution": "alerted"}]');
select results_eq($$select records_compared::int, records_drifted::int, fields_drifted::int, resolved::int, alerted::int
                      from sync.reconcile_runs where job_id = (select job_id from rec)$$,
  $$values (10, 1, 2, 1, 1)$$, 'a reconcile page adds its counts to the run: records, drifted records and fields, resolved and alerted');
update sync.reconcile_runs set finished_at = now() where job_id = (select job_id from rec);
select is((select count(*)::int from sync.reconcile_listed l join sync.reconcile_runs r on r.id = l.run_id where r.job_id = (select job_id from rec))
          + (select count(*)::int from sync.reconcile_unseen u join sync.reconcile_runs r on r.id = u.run_id where r.job_id = (select job_id from rec)),
  0, 'a finished run forgets its listing and its unseen records');

-- Pages of two entity types run side by side: each holds a key share lock on the run row (its seen and drift rows'
-- foreign keys), so the counts' row lock must not conflict with one (a `for update` here deadlocked them).
select ok(pg_get_functiondef('sync.record_reconcile_page(uuid, text, text[], integer, jsonb)'::regprocedure) ~* 'for no key update'
          and pg_get_functiondef('sync.record_reconcile_page(uuid, text, text[], integer, jsonb)'::regprocedure) !~* 'for update',
  'a reconcile page locks its run row for no key update, which key share locks do not block');

select * from finish();
rollback;
