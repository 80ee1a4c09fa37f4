-- Calls that go out back to back are granted together (p_requests > 1,
-- until answered) or not at all, and each settles on its own.
begin;
select plan(4);

insert into crm.tenants (id, name, slug) values ('d1d1d1d1-0000-4000-8000-000000000000', 'Budget together', 'budget-together');
insert into sync.connections (id, tenant_id, provider, account_id, settings) values
  ('d1d1d1d1-0000-4000-8000-0000000000c1', 'd1d1d1d1-0000-4000-8000-000000000000', 'pipedrive', '4300002',
   '{"rate_limit": {"max_requests": 3, "interval_ms": 2000}}');
create temporary table pair on commit drop as
  select * from sync.take_rate_budget('d1d1d1d1-0000-4000-8000-0000000000c1', 2, 15, true);

select is((select granted from pair), true, 'two calls fit: granted together');
select is((select granted from sync.take_rate_budget('d1d1d1d1-0000-4000-8000-0000000000c1', 2, 15, true)), false,
  'two more do not fit in the one slot left: none is granted, so no half-held pair');
select sync.settle_rate_budget('d1d1d1d1-0000-4000-8000-0000000000c1', (select grant_id from pair), 1);
select is((select count(*)::int from sync.rate_budgets b, unnest(b.grants) g
            where b.connection_id = 'd1d1d1d1-0000-4000-8000-0000000000c1' and g > (extract(epoch from clock_timestamp()) * 1000)::bigint), 1,
  'the first answer settles one call; the other is still in flight');
select sync.settle_rate_budget('d1d1d1d1-0000-4000-8000-0000000000c1', (select grant_id from pair), 1);
select is((select count(*)::int from sync.rate_budgets b, unnest(b.grants) g
            where b.connection_id = 'd1d1d1d1-0000-4000-8000-0000000000c1' and g > (extract(epoch from clock_timestamp()) * 1000)::bigint), 0,
  'the second answer settles the other');

select * from finish();
rollback;
