-- Spare grants: a plain grant comes with up to p_spare more while the window
-- stays at most half full, stamped a second ahead (counted from when they may
-- last go out); none for calls that cost tokens or are taken until answered.
begin;
select plan(8);

insert into crm.tenants (id, name, slug) values ('eeeeeeee-0000-4000-8000-000000000000', 'Budget spares', 'budget-spares');
insert into sync.connections (id, tenant_id, provider, account_id, settings) values
  ('eeeeeeee-0000-4000-8000-0000000000c1', 'eeeeeeee-0000-4000-8000-000000000000', 'hubspot', '4500001',
   '{"rate_limit": {"max_requests": 12, "interval_ms": 10000}}');

select results_eq($$select granted, spare from sync.take_rate_budget('eeeeeeee-0000-4000-8000-0000000000c1', 1, 0, false, 4)$$,
  $$values (true, 4)$$, 'an idle window: the grant comes with the spares asked for');
select ok((select count(*) = 4 and bool_and(g > (extract(epoch from clock_timestamp()) * 1000)::bigint + 900)
             from sync.rate_budgets b, unnest(b.grants) g
            where b.connection_id = 'eeeeeeee-0000-4000-8000-0000000000c1'
              and g > (extract(epoch from clock_timestamp()) * 1000)::bigint + 500),
  'the spares are stamped a second ahead');
select is((select requests_granted::int from sync.rate_budgets where connection_id = 'eeeeeeee-0000-4000-8000-0000000000c1'), 5,
  'the spares count as granted');
select results_eq($$select granted, spare from sync.take_rate_budget('eeeeeeee-0000-4000-8000-0000000000c1', 1, 0, false, 4)$$,
  $$values (true, 0)$$, 'half the window in use: the grant comes alone');
select results_eq($$select granted, spare from sync.take_rate_budget('eeeeeeee-0000-4000-8000-0000000000c1', 1, 0, false)$$,
  $$values (true, 0)$$, 'no spares unless asked for');

update sync.rate_budgets set grants = '{}' where connection_id = 'eeeeeeee-0000-4000-8000-0000000000c1';
select results_eq($$select spare from sync.take_rate_budget('eeeeeeee-0000-4000-8000-0000000000c1', 1, 3, false, 4)
                    union all
                    select spare from sync.take_rate_budget('eeeeeeee-0000-4000-8000-0000000000c1', 1, 0, true, 4)$$,
  $$values (0), (0)$$, 'none for a call that costs tokens, or one taken until answered');
select is((select cardinality(grants) from sync.rate_budgets where connection_id = 'eeeeeeee-0000-4000-8000-0000000000c1'), 2,
  'those two took one grant each');
select throws_ok($$select sync.take_rate_budget('eeeeeeee-0000-4000-8000-0000000000c1', 1, 0, false, -1)$$,
  '22023', 'p_spare must not be negative', 'a negative p_spare is refused');

select * from finish();
