-- The two work queues of the engine (pgmq): crm_inbound holds provider
-- events accepted by the webhook functions, crm_outbound holds local changes
-- to send to connected CRMs. Only the service (Edge Functions) uses them.
select pgmq.create('crm_inbound');
select pgmq.create('crm_outbound');

grant usage on schema pgmq to service_role;
grant select, insert, update, delete on pgmq.q_crm_inbound, pgmq.a_crm_inbound,
  pgmq.q_crm_outbound, pgmq.a_crm_outbound to service_role;
