-- Webhook intake: credentials in Vault, connection lookup by account, and
-- durable, deduplicated queueing on crm_inbound.
begin;
select plan(16);

insert into crm.tenants (id, name, slug) values ('aaaaaaaa-0000-4000-8000-000000000000', 'Intake A', 'intake-a');
insert into sync.connections (id, tenant_id, provider, account_id) values
  ('aaaaaaaa-0000-4000-8000-0000000000c1', 'aaaaaaaa-0000-4000-8000-000000000000', 'hubspot', '9001');
select pgmq.purge_queue('crm_inbound');

select isnt(
  sync.set_connection_credentials('aaaaaaaa-0000-4000-8000-0000000000c1', '{"access_token": "pat-na1-x", "webhook_secret": "shh"}'),
  null, 'credentials are stored in Vault and linked to the connection');
select is(sync.connection_credentials('aaaaaaaa-0000-4000-8000-0000000000c1') ->> 'access_token', 'pat-na1-x',
  'the service reads the credentials back');
select sync.set_connection_credentials('aaaaaaaa-0000-4000-8000-0000000000c1', '{"access_token": "pat-na1-y", "webhook_secret": "shh2"}');
select is(sync.connection_credentials('aaaaaaaa-0000-4000-8000-0000000000c1') ->> 'access_token', 'pat-na1-y',
  'storing again replaces them in the same secret');
select is((select count(*)::int from vault.secrets where name = 'crm-sync/connection/aaaaaaaa-0000-4000-8000-0000000000c1'), 1,
  'one Vault secret per connection');
select ok((select position('pat-na1-y' in secret) = 0 from vault.secrets where name = 'crm-sync/connection/aaaaaaaa-0000-4000-8000-0000000000c1'),
  'the token is not stored in clear');

select results_eq(
  $$select connection_id, webhook_secret from sync.webhook_connections('hubspot', array['9001', '404'])$$,
  $$values ('aaaaaaaa-0000-4000-8000-0000000000c1'::uuid, 'shh2')$$,
  'webhook_connections finds the connection by account id with its secret, and skips unknown accounts');

select results_eq(
  $$select * from sync.receive_webhook_events('aaaaaaaa-0000-4000-8000-0000000000c1',
    '[{"dedupe_key": "k1", "event": {"objectId": 1}}, {"dedupe_key": "k2", "event": {"objectId": 2}},
      {"dedupe_key": "k1", "event": {"objectId": 1}}]')$$,
  $$values (2, 1)$$, 'a batch is queued once per distinct event');
select results_eq(
  $$select * from sync.receive_webhook_events('aaaaaaaa-0000-4000-8000-0000000000c1',
    '[{"dedupe_key": "k2", "event": {"objectId": 2}}, {"dedupe_key": "k3", "event": {"objectId": 3}}]')$$,
  $$values (1, 1)$$, 'a redelivered event is recognised as a duplicate');
select is((select count(*)::int from pgmq.q_crm_inbound), 3, 'three events are queued');
select results_eq(
  $$select (message -> 'event' ->> 'objectId')::int from pgmq.q_crm_inbound order by msg_id$$,
  $$values (1), (2), (3)$$, 'events are queued in arrival order');
select is((select message ->> 'tenant_id' from pgmq.q_crm_inbound limit 1), 'aaaaaaaa-0000-4000-8000-000000000000',
  'each message carries its tenant and connection');
select results_eq(
  $$select * from sync.receive_webhook_events('aaaaaaaa-0000-4000-8000-0000000000c1', '[]')$$,
  $$values (0, 0)$$, 'an empty batch is accepted and queues nothing');
select throws_ok(
  $$select * from sync.receive_webhook_events('aaaaaaaa-0000-4000-8000-0000000000c1', '{"not": "an array"}')$$,
  '22023', 'events must be a JSON array', 'a non-array is rejected');
select throws_ok(
  $$select * from sync.receive_webhook_events('00000000-0000-4000-8000-000000000000', '[]')$$,
  'P0002', null, 'an unknown connection is rejected');

set local role authenticated;
select throws_ok($$select sync.connection_credentials('aaaaaaaa-0000-4000-8000-0000000000c1')$$, '42501', null,
  'authenticated cannot read credentials');
reset role;
set local role anon;
select throws_ok($$select * from sync.receive_webhook_events('aaaaaaaa-0000-4000-8000-0000000000c1', '[]')$$, '42501', null,
  'anon cannot enqueue events');
reset role;

select * from finish();
rollback;
