-- Grouped webhook intake: deliveries of several connections stored in one
-- call, one outcome each, in order; duplicates within the group and against
-- earlier receipts; a connection that is gone stores nothing.
begin;
select plan(7);

insert into crm.tenants (id, name, slug) values ('cccccccc-0000-4000-8000-000000000000', 'Intake G', 'intake-g');
insert into sync.connections (id, tenant_id, provider, account_id) values
  ('cccccccc-0000-4000-8000-0000000000c1', 'cccccccc-0000-4000-8000-000000000000', 'pipedrive', '4200001'),
  ('cccccccc-0000-4000-8000-0000000000c2', 'cccccccc-0000-4000-8000-000000000000', 'pipedrive', '4200002');
select pgmq.purge_queue('crm_inbound');
insert into sync.webhook_receipts (connection_id, dedupe_key) values ('cccccccc-0000-4000-8000-0000000000c2', 'event:old');

select results_eq(
  $$select * from sync.receive_webhook_deliveries('[
      {"connection_id": "cccccccc-0000-4000-8000-0000000000c1", "dedupe_key": "event:a", "event": {"n": 1}},
      {"connection_id": "cccccccc-0000-4000-8000-0000000000c2", "dedupe_key": "event:a", "event": {"n": 2}},
      {"connection_id": "cccccccc-0000-4000-8000-0000000000c1", "dedupe_key": "event:a", "event": {"n": 3}},
      {"connection_id": "cccccccc-0000-4000-8000-0000000000c2", "dedupe_key": "event:old", "event": {"n": 4}},
      {"connection_id": "00000000-0000-4000-8000-000000000000", "dedupe_key": "event:b", "event": {"n": 5}},
      {"connection_id": "cccccccc-0000-4000-8000-0000000000c1", "dedupe_key": "event:c", "event": {"n": 6}}]')$$,
  $$values (1, 'accepted'), (2, 'accepted'), (3, 'duplicate'), (4, 'duplicate'), (5, 'unknown_connection'), (6, 'accepted')$$,
  'one outcome per delivery, in order: keys are per connection, a repeat in the group or of an earlier receipt is a duplicate');

select is((select array_agg((message -> 'event' ->> 'n')::int order by msg_id) from pgmq.q_crm_inbound), array[1, 2, 6],
  'only the accepted events are queued, in the order received');
select is((select message - 'received_at' from pgmq.q_crm_inbound where message -> 'event' ->> 'n' = '2'),
  '{"connection_id": "cccccccc-0000-4000-8000-0000000000c2", "tenant_id": "cccccccc-0000-4000-8000-000000000000",
    "provider": "pipedrive", "event": {"n": 2}}'::jsonb,
  'a message holds its own connection, tenant and provider');
select is((select count(*)::int from sync.webhook_receipts where connection_id = 'cccccccc-0000-4000-8000-0000000000c1'), 2,
  'receipts of the new keys are stored');
select is((select count(*)::int from sync.receive_webhook_deliveries('[]')), 0, 'an empty group stores nothing');
select throws_ok($$select * from sync.receive_webhook_deliveries('{"not": "an array"}')$$, '22023', 'deliveries must be a JSON array',
  'anything but an array is refused');

set local role authenticated;
select throws_ok($$select * from sync.receive_webhook_deliveries('[]')$$, '42501', null, 'only the service role may store deliveries');
reset role;

select * from finish();
rollback;
