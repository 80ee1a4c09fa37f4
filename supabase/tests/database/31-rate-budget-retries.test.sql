-- The shared rate budget, retries with backoff, dead letters and replay,
-- and the debounced worker kick.
begin;
select plan(22);

insert into crm.tenants (id, name, slug) values ('aaaaaaaa-0000-4000-8000-000000000000', 'Budget A', 'budget-a');
insert into sync.connections (id, tenant_id, provider, account_id, settings) values
  ('aaaaaaaa-0000-4000-8000-0000000000c1', 'aaaaaaaa-0000-4000-8000-000000000000', 'hubspot', 'budget-1',
   '{"rate_limit": {"max_requests": 3, "interval_ms": 10000}}'),
  ('aaaaaaaa-0000-4000-8000-0000000000c2', 'aaaaaaaa-0000-4000-8000-000000000000', 'hubspot', 'budget-2', '{}');

select results_eq($$select granted from sync.take_rate_budget('aaaaaaaa-0000-4000-8000-0000000000c1', 2)$$,
  $$values (true)$$, 'two requests fit a budget of three');
select results_eq($$select granted from sync.take_rate_budget('aaaaaaaa-0000-4000-8000-0000000000c1')$$,
  $$values (true)$$, 'the third fits');
select results_eq($$select granted, wait_ms between 9000 and 10250 from sync.take_rate_budget('aaaaaaaa-0000-4000-8000-0000000000c1')$$,
  $$values (false, true)$$, 'the fourth is refused with the wait until the window frees up');
select results_eq($$select max_requests, interval_ms from sync.rate_budgets where connection_id = 'aaaaaaaa-0000-4000-8000-0000000000c2'$$,
  $$select 1, 1 where false$$, 'a budget row appears only when first used');
select results_eq($$select granted from sync.take_rate_budget('aaaaaaaa-0000-4000-8000-0000000000c2', 100)$$,
  $$values (true)$$, 'another connection has its own budget (HubSpot default 100 per 10 s)');
select results_eq($$select max_requests, interval_ms from sync.rate_budgets where connection_id = 'aaaaaaaa-0000-4000-8000-0000000000c2'$$,
  $$values (100, 10000)$$, 'with the provider default');
select throws_ok($$select * from sync.take_rate_budget('aaaaaaaa-0000-4000-8000-0000000000c1', 4)$$, '22023', null,
  'asking for more than the whole budget at once is an error');

-- Simulate the window passing by ageing the grants.
update sync.rate_budgets set grants = array[1, 2, 3]::bigint[] where connection_id = 'aaaaaaaa-0000-4000-8000-0000000000c1';
select results_eq($$select granted from sync.take_rate_budget('aaaaaaaa-0000-4000-8000-0000000000c1', 3)$$,
  $$values (true)$$, 'grants older than the window no longer count');

select isnt(sync.pause_connection('aaaaaaaa-0000-4000-8000-0000000000c2', 5000, '429 from HubSpot'), null, 'a 429 pauses the connection');
select results_eq($$select granted, wait_ms between 4000 and 5000 from sync.take_rate_budget('aaaaaaaa-0000-4000-8000-0000000000c2')$$,
  $$values (false, true)$$, 'a paused connection gets no requests until the pause ends');
select is((select pause_reason from sync.rate_budgets where connection_id = 'aaaaaaaa-0000-4000-8000-0000000000c2'), '429 from HubSpot',
  'the reason is recorded');

-- Retries and dead letters.
select pgmq.purge_queue('crm_outbound');
select pgmq.send('crm_outbound', '{"connection_id": "aaaaaaaa-0000-4000-8000-0000000000c1", "local_id": "x", "op": "upsert"}');
select results_eq(
  $$select * from sync.fail_messages('crm_outbound', array(select msg_id from pgmq.q_crm_outbound), 'HTTP 503', 3)$$,
  $$values (1, 0)$$, 'a failed message is retried');
select results_eq($$select (message ->> 'attempt')::int, message ->> 'last_error', vt > now() from pgmq.q_crm_outbound$$,
  $$values (1, 'HTTP 503', true)$$, 'with its attempt count, error, and a backoff delay');
select sync.fail_messages('crm_outbound', array(select msg_id from pgmq.q_crm_outbound), 'HTTP 503', 3);
select results_eq(
  $$select * from sync.fail_messages('crm_outbound', array(select msg_id from pgmq.q_crm_outbound), 'HTTP 500 again', 3)$$,
  $$values (0, 1)$$, 'after the last attempt it is dead-lettered');
select is((select count(*)::int from pgmq.q_crm_outbound), 0, 'and leaves the queue');
select results_eq($$select queue_name, error, attempts, tenant_id from sync.dead_letters$$,
  $$values ('crm_outbound', 'HTTP 500 again', 3, 'aaaaaaaa-0000-4000-8000-000000000000'::uuid)$$,
  'the dead letter keeps the queue, the error, the attempts and the tenant');
select is(sync.replay_dead_letters(), 1, 'one call replays it');
select results_eq($$select (message ->> 'attempt')::int, message ->> 'local_id' from pgmq.q_crm_outbound$$,
  $$values (0, 'x')$$, 'back on its queue with a fresh attempt count');

-- The worker kick.
delete from vault.secrets where name in ('crm_sync_functions_url', 'crm_sync_service_role_key');
select is(sync.kick_worker('test', true), null, 'no kick before the endpoint is configured');
select sync.configure_worker_endpoint('http://127.0.0.1:1/functions/v1', 'service-key');
select isnt(sync.kick_worker('test', true), null, 'a forced kick queues a pg_net request');
select results_eq(
  $$select url, headers ->> 'Authorization' from net.http_request_queue order by id desc limit 1$$,
  $$values ('http://127.0.0.1:1/functions/v1/sync-worker', 'Bearer service-key')$$,
  'to the sync-worker function with the service key');
select is(sync.kick_worker('test'), null, 'a second kick within a second is debounced');

select * from finish();
rollback;
