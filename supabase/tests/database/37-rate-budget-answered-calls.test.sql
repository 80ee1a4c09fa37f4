-- Grants counted from the answer: a grant taken until answered counts as in
-- flight (whatever its age) until settled, then from the moment it was
-- settled; settling is idempotent. Plain grants are unchanged.
begin;
select plan(8);

insert into crm.tenants (id, name, slug) values ('dddddddd-0000-4000-8000-000000000000', 'Budget answered', 'budget-answered');
insert into sync.connections (id, tenant_id, provider, account_id, settings) values
  ('dddddddd-0000-4000-8000-0000000000c1', 'dddddddd-0000-4000-8000-000000000000', 'pipedrive', '4300001',
   '{"rate_limit": {"max_requests": 2, "interval_ms": 2000}}');

create temporary table grants (n int, grant_id bigint);
insert into grants select 1, grant_id from sync.take_rate_budget('dddddddd-0000-4000-8000-0000000000c1', 1, 5, true);
insert into grants select 2, grant_id from sync.take_rate_budget('dddddddd-0000-4000-8000-0000000000c1', 1, 5, true);

select ok((select bool_and(grant_id > (extract(epoch from clock_timestamp()) * 1000)::bigint + 25000) from grants),
  'a grant until answered is named, and held as in flight');
select results_eq($$select granted, wait_ms from sync.take_rate_budget('dddddddd-0000-4000-8000-0000000000c1', 1, 5, true)$$,
  $$values (false, 25)$$, 'a window full of calls in flight: look again shortly, they settle within a round trip');

select sync.settle_rate_budget('dddddddd-0000-4000-8000-0000000000c1', (select grant_id from grants where n = 1));
select results_eq($$select granted, wait_ms between 1900 and 2000 from sync.take_rate_budget('dddddddd-0000-4000-8000-0000000000c1', 1, 5, true)$$,
  $$values (false, true)$$, 'a settled grant counts from its answer: a full window from now');
select is((select count(*)::int from sync.rate_budgets b, unnest(b.grants) g
            where b.connection_id = 'dddddddd-0000-4000-8000-0000000000c1' and g > (extract(epoch from clock_timestamp()) * 1000)::bigint), 1,
  'only the other grant is still in flight');

select sync.settle_rate_budget('dddddddd-0000-4000-8000-0000000000c1', (select grant_id from grants where n = 1));
select sync.settle_rate_budget('dddddddd-0000-4000-8000-0000000000c1', 42);
select is((select cardinality(grants) from sync.rate_budgets where connection_id = 'dddddddd-0000-4000-8000-0000000000c1'), 2,
  'settling twice, or a grant not held, changes nothing');

-- A settled grant leaves the window one interval after its answer.
update sync.rate_budgets set grants = array[(extract(epoch from clock_timestamp()) * 1000)::bigint - 2000 - 250 - 1, (select grant_id from grants where n = 2)]
 where connection_id = 'dddddddd-0000-4000-8000-0000000000c1';
select results_eq($$select granted, grant_id is null from sync.take_rate_budget('dddddddd-0000-4000-8000-0000000000c1', 1, 5)$$,
  $$values (true, true)$$, 'a plain grant is taken as before, and not named');
select results_eq($$select granted from sync.take_rate_budget('dddddddd-0000-4000-8000-0000000000c1', 1, 5)$$,
  $$values (false)$$, 'the call still in flight and the plain grant fill the window');
select is((select tokens_spent::int from sync.rate_budgets where connection_id = 'dddddddd-0000-4000-8000-0000000000c1'), 15,
  'grants until answered spend their tokens like any other');

select * from finish();
rollback;
