-- Token buckets (a daily budget weighted by call cost, beside the burst
-- window) and the ledger of create attempts.
begin;
select plan(16);

insert into crm.tenants (id, name, slug) values ('bbbbbbbb-0000-4000-8000-000000000000', 'Tokens B', 'tokens-b');
insert into sync.connections (id, tenant_id, provider, account_id, settings) values
  ('bbbbbbbb-0000-4000-8000-0000000000c1', 'bbbbbbbb-0000-4000-8000-000000000000', 'pipedrive', 'tokens-1',
   '{"rate_limit": {"max_requests": 100, "interval_ms": 2000}, "daily_limit": 30}'),
  ('bbbbbbbb-0000-4000-8000-0000000000c2', 'bbbbbbbb-0000-4000-8000-000000000000', 'pipedrive', 'tokens-2', '{}'),
  ('bbbbbbbb-0000-4000-8000-0000000000c3', 'bbbbbbbb-0000-4000-8000-000000000000', 'hubspot', 'tokens-3', '{}');

select results_eq($$select granted from sync.take_rate_budget('bbbbbbbb-0000-4000-8000-0000000000c1', 1, 10)$$,
  $$values (true)$$, 'a call costing 10 tokens fits a daily budget of 30');
select results_eq($$select granted from sync.take_rate_budget('bbbbbbbb-0000-4000-8000-0000000000c1', 2, 20)$$,
  $$values (true)$$, 'two more costing 20 use it up');
select results_eq(
  $$select granted, wait_ms between 1 and 86400000 from sync.take_rate_budget('bbbbbbbb-0000-4000-8000-0000000000c1', 1, 1)$$,
  $$values (false, true)$$, 'the next token waits for the next UTC day, whatever the burst window says');
select is((select day_tokens_spent from sync.rate_budgets where connection_id = 'bbbbbbbb-0000-4000-8000-0000000000c1'), 30::bigint,
  'the day''s spending is recorded');
update sync.rate_budgets set budget_day = budget_day - 1 where connection_id = 'bbbbbbbb-0000-4000-8000-0000000000c1';
select results_eq($$select granted from sync.take_rate_budget('bbbbbbbb-0000-4000-8000-0000000000c1', 1, 30)$$,
  $$values (true)$$, 'a new day has the whole budget again');
select throws_ok($$select * from sync.take_rate_budget('bbbbbbbb-0000-4000-8000-0000000000c1', 1, 31)$$, '22023', null,
  'asking for more tokens than a day allows is an error');
select throws_ok($$select * from sync.take_rate_budget('bbbbbbbb-0000-4000-8000-0000000000c1', 1, -1)$$, '22023', null,
  'negative tokens are an error');

select results_eq($$select granted from sync.take_rate_budget('bbbbbbbb-0000-4000-8000-0000000000c2', 20, 100)$$,
  $$values (true)$$, 'Pipedrive defaults: a burst of 20 requests');
select results_eq($$select max_requests, interval_ms, daily_tokens from sync.rate_budgets where connection_id = 'bbbbbbbb-0000-4000-8000-0000000000c2'$$,
  $$values (20, 2000, 30000)$$, 'per 2 s, and 30,000 tokens a day (Lite, one seat)');
select results_eq($$select granted from sync.take_rate_budget('bbbbbbbb-0000-4000-8000-0000000000c2', 1, 1)$$,
  $$values (false)$$, 'the 21st request in the window waits');

select results_eq($$select granted from sync.take_rate_budget('bbbbbbbb-0000-4000-8000-0000000000c3', 100)$$,
  $$values (true)$$, 'HubSpot asks for no tokens and keeps its window');
select is((select daily_tokens from sync.rate_budgets where connection_id = 'bbbbbbbb-0000-4000-8000-0000000000c3'), null,
  'and has no daily budget');

-- Create attempts.
select is((select count(*)::int from sync.note_create_attempts('bbbbbbbb-0000-4000-8000-0000000000c1', 'contact',
  array['bbbbbbbb-0000-4000-8000-0000000000a1', 'bbbbbbbb-0000-4000-8000-0000000000a2']::uuid[])), 0,
  'a first attempt has no earlier one');
select results_eq($$select local_id from sync.note_create_attempts('bbbbbbbb-0000-4000-8000-0000000000c1', 'contact',
  array['bbbbbbbb-0000-4000-8000-0000000000a1', 'bbbbbbbb-0000-4000-8000-0000000000a3']::uuid[])$$,
  $$values ('bbbbbbbb-0000-4000-8000-0000000000a1'::uuid)$$, 'a retry names the record attempted before');
select sync.forget_create_attempts('bbbbbbbb-0000-4000-8000-0000000000c1', 'contact', array['bbbbbbbb-0000-4000-8000-0000000000a1']::uuid[]);
select is((select count(*)::int from sync.note_create_attempts('bbbbbbbb-0000-4000-8000-0000000000c1', 'contact',
  array['bbbbbbbb-0000-4000-8000-0000000000a1']::uuid[])), 0, 'a create that succeeded is forgotten');
select is((select attempts from sync.create_attempts where local_id = 'bbbbbbbb-0000-4000-8000-0000000000a2'), 1,
  'attempts are counted per record');

select * from finish();
rollback;
