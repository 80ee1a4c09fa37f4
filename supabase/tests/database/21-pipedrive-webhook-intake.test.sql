-- Webhook intake for Pipedrive: the connection is found by company id with
-- the Basic credentials ("<user>:<password>") as its webhook secret, and a
-- delivery is keyed by its event id, so a retry queues nothing new.
begin;
select plan(6);

insert into crm.tenants (id, name, slug) values ('bbbbbbbb-0000-4000-8000-000000000000', 'Intake P', 'intake-p');
insert into sync.connections (id, tenant_id, provider, account_id) values
  ('bbbbbbbb-0000-4000-8000-0000000000c1', 'bbbbbbbb-0000-4000-8000-000000000000', 'pipedrive', '4100001'),
  ('bbbbbbbb-0000-4000-8000-0000000000c2', 'bbbbbbbb-0000-4000-8000-000000000000', 'hubspot', '4100001');
select sync.set_connection_credentials('bbbbbbbb-0000-4000-8000-0000000000c1',
  '{"api_token": "pd-token", "webhook_secret": "crm-sync:s3cret"}');
select sync.set_connection_credentials('bbbbbbbb-0000-4000-8000-0000000000c2', '{"webhook_secret": "hubspot-secret"}');
select pgmq.purge_queue('crm_inbound');

select results_eq(
  $$select connection_id, account_id, enabled, webhook_secret from sync.webhook_connections('pipedrive', array['4100001'])$$,
  $$values ('bbbbbbbb-0000-4000-8000-0000000000c1'::uuid, '4100001', true, 'crm-sync:s3cret')$$,
  'a Pipedrive company is found with its Basic credentials, not the HubSpot portal of the same number');

select results_eq(
  $$select * from sync.receive_webhook_events('bbbbbbbb-0000-4000-8000-0000000000c1',
    '[{"dedupe_key": "event:5f0c6b1e-0000-4000-8000-000000000001",
       "event": {"meta": {"id": "5f0c6b1e-0000-4000-8000-000000000001", "attempt": 1, "action": "change"},
                 "data": {"id": 42, "name": "Zoë"}, "previous": {"name": "Zoe"}}}]')$$,
  $$values (1, 0)$$, 'a delivery is queued');
select results_eq(
  $$select * from sync.receive_webhook_events('bbbbbbbb-0000-4000-8000-0000000000c1',
    '[{"dedupe_key": "event:5f0c6b1e-0000-4000-8000-000000000001",
       "event": {"meta": {"id": "5f0c6b1e-0000-4000-8000-000000000001", "attempt": 2, "action": "change"},
                 "data": {"id": 42, "name": "Zoë"}, "previous": {"name": "Zoe"}}}]')$$,
  $$values (0, 1)$$, 'its retry (same event id, next attempt) is a duplicate');
select results_eq(
  $$select * from sync.receive_webhook_events('bbbbbbbb-0000-4000-8000-0000000000c2',
    '[{"dedupe_key": "event:5f0c6b1e-0000-4000-8000-000000000001", "event": {}}]')$$,
  $$values (1, 0)$$, 'receipts are per connection: another connection''s key is not a duplicate');

select is((select count(*)::int from pgmq.q_crm_inbound
            where message ->> 'connection_id' = 'bbbbbbbb-0000-4000-8000-0000000000c1'), 1,
  'one message for the Pipedrive connection');
select is((select message - 'received_at' from pgmq.q_crm_inbound
            where message ->> 'connection_id' = 'bbbbbbbb-0000-4000-8000-0000000000c1'),
  '{"connection_id": "bbbbbbbb-0000-4000-8000-0000000000c1", "tenant_id": "bbbbbbbb-0000-4000-8000-000000000000",
    "provider": "pipedrive",
    "event": {"meta": {"id": "5f0c6b1e-0000-4000-8000-000000000001", "attempt": 1, "action": "change"},
              "data": {"id": 42, "name": "Zoë"}, "previous": {"name": "Zoe"}}}'::jsonb,
  'the message holds the provider and the first delivery as received');

select * from finish();
rollback;
