-- Job runs analyze the tables their pages read when the statistics are stale:
-- the rule, and what refresh_job_statistics analyzes.
begin;
select plan(6);

select ok(not sync._statistics_stale(-1, 1000), 'a never analyzed table with 1,000 changes is left (autovacuum will get to it)');
select ok(sync._statistics_stale(-1, 1001), 'more than 1,000 changes to a table never analyzed');
select ok(not sync._statistics_stale(100000, 26000), 'a quarter of 100,000 plus 1,000 is not reached');
select ok(sync._statistics_stale(100000, 26001), 'past a quarter of 100,000 plus 1,000');
select ok(sync._statistics_stale(5000, 3000), 'a small table that grew by 60%');

select ok(sync.refresh_job_statistics(array['contact', 'company']::crm.entity_type[])
          <@ array['crm.contacts', 'crm.companies', 'sync.identity_map'],
  'only the entity types'' tables and the identity map are considered');

select * from finish();
rollback;
