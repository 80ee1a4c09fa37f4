-- Webhook intake in groups: Pipedrive sends one event per request, so at a
-- few thousand events a second a transaction per request is most of the
-- database's work. The pipedrive-webhook function gathers the deliveries of
-- concurrent requests (any connections) and stores them with one call of
-- this function, in one transaction; each request is acknowledged only after
-- that transaction committed, with the outcome of its own events.
--
-- p_deliveries is a JSON array of {"connection_id": uuid, "dedupe_key":
-- text, "event": object}. One row per element, in order (item 1, 2, ...):
-- 'accepted' (new: receipt stored and queued on crm_inbound), 'duplicate'
-- (its key was received before, or earlier in this array) or
-- 'unknown_connection' (the connection is gone: nothing stored). Messages
-- are queued in array order, like sync.receive_webhook_events.
create function sync.receive_webhook_deliveries(p_deliveries jsonb)
returns table (item integer, outcome text)
language plpgsql security definer set search_path = ''
as $$
begin
  if jsonb_typeof(p_deliveries) is distinct from 'array' then
    raise exception 'deliveries must be a JSON array' using errcode = '22023';
  end if;
  return query
  with incoming as (
    select (d.value ->> 'connection_id')::uuid as connection_id, d.value ->> 'dedupe_key' as dedupe_key,
           d.value -> 'event' as event, d.ordinality::integer as position
      from jsonb_array_elements(p_deliveries) with ordinality as d (value, ordinality)
  ), firsts as (
    select distinct on (i.connection_id, i.dedupe_key) i.*, c.tenant_id, c.provider
      from incoming i
      join sync.connections c on c.id = i.connection_id
     order by i.connection_id, i.dedupe_key, i.position
  ), fresh as (
    insert into sync.webhook_receipts (connection_id, dedupe_key)
    select f.connection_id, f.dedupe_key from firsts f
    on conflict do nothing
    returning connection_id, dedupe_key
  ), accepted as (
    select f.* from firsts f join fresh using (connection_id, dedupe_key)
  ), queued as (
    select pgmq.send_batch('crm_inbound', array(
      select jsonb_build_object('connection_id', a.connection_id, 'tenant_id', a.tenant_id, 'provider', a.provider,
                                'received_at', now(), 'event', a.event)
        from accepted a
       order by a.position)) as msg_id
  )
  select i.position,
         case when c.id is null then 'unknown_connection'
              when a.position is not null then 'accepted'
              else 'duplicate' end
    from incoming i
    left join sync.connections c on c.id = i.connection_id
    left join accepted a on a.position = i.position
   cross join (select count(*) from queued) q
   order by i.position;
end
$$;
revoke execute on function sync.receive_webhook_deliveries(jsonb) from public;
grant execute on function sync.receive_webhook_deliveries(jsonb) to service_role;
comment on function sync.receive_webhook_deliveries(jsonb) is
  'Stores webhook deliveries of any connections in one transaction: receipt (deduplication) and crm_inbound message per new event; one outcome per element.';
