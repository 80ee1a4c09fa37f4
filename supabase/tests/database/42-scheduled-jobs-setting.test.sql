-- The schedules skip a connection whose settings say scheduled_jobs: false;
-- a job started by hand still runs there.
begin;
select plan(4);

insert into crm.tenants (id, name, slug) values ('eeeeeeee-0000-4000-8000-000000000000', 'Schedules', 'schedules');
insert into sync.connections (id, tenant_id, provider, account_id, settings) values
  ('eeeeeeee-0000-4000-8000-000000000001', 'eeeeeeee-0000-4000-8000-000000000000', 'hubspot', 'scheduled', '{}'),
  ('eeeeeeee-0000-4000-8000-000000000002', 'eeeeeeee-0000-4000-8000-000000000000', 'hubspot', 'by-hand', '{"scheduled_jobs": false}');

select sync.schedule_jobs('reconcile');
select results_eq($$select connection_id::text, started_by from sync.jobs
                     where connection_id in ('eeeeeeee-0000-4000-8000-000000000001', 'eeeeeeee-0000-4000-8000-000000000002')$$,
  $$values ('eeeeeeee-0000-4000-8000-000000000001', 'cron')$$, 'the daily reconciliation starts only where schedules are on');

select is((select created from sync.start_job('eeeeeeee-0000-4000-8000-000000000002', 'reconcile', array['contact'], 'operator')), true,
  'a job started by hand runs on a connection without schedules');
select throws_ok($$update sync.connections set settings = '{"scheduled_jobs": "no"}' where id = 'eeeeeeee-0000-4000-8000-000000000001'$$,
  '22023', 'connection setting scheduled_jobs must be true or false, got "no"', 'the setting is a boolean');
select throws_ok($$select sync.schedule_jobs('backfill')$$, '22023', null, 'only incremental and reconcile are scheduled');

select * from finish();
rollback;
