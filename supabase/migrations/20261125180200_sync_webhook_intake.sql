-- Webhook intake: events are stored durably (queued on crm_inbound) in the
-- same transaction that records their receipt, and only then acknowledged.
-- Receipts deduplicate redeliveries: a provider retries a batch it thinks
-- failed, and HubSpot may send one event twice.
create table sync.webhook_receipts (
  connection_id uuid not null references sync.connections (id) on delete cascade,
  dedupe_key text not null check (length(dedupe_key) between 1 and 500),
  received_at timestamptz not null default now(),
  primary key (connection_id, dedupe_key)
);
create index webhook_receipts_received_idx on sync.webhook_receipts (received_at);
alter table sync.webhook_receipts enable row level security;
grant select, insert, delete on sync.webhook_receipts to service_role;
comment on table sync.webhook_receipts is 'Keys of recently received provider events, for deduplication (kept 3 days).';

-- The connection(s) that provider events name, with the webhook secret each
-- is verified against. Unknown accounts are simply absent from the result.
create function sync.webhook_connections(p_provider text, p_account_ids text[])
returns table (connection_id uuid, tenant_id uuid, account_id text, enabled boolean, webhook_secret text)
language sql stable security definer set search_path = ''
as $$
  select c.id, c.tenant_id, c.account_id, c.enabled,
         (s.decrypted_secret::jsonb ->> 'webhook_secret')
    from sync.connections c
    left join vault.decrypted_secrets s on s.id = c.secret_id
   where c.provider = p_provider and c.account_id = any (p_account_ids)
$$;
revoke execute on function sync.webhook_connections(text, text[]) from public;
grant execute on function sync.webhook_connections(text, text[]) to service_role;

-- Accepts a verified batch for one connection. p_events is a JSON array of
-- {"dedupe_key": text, "event": object}. Returns how many were new and how
-- many were duplicates; only new ones are queued.
create function sync.receive_webhook_events(p_connection_id uuid, p_events jsonb)
returns table (accepted integer, duplicates integer)
language plpgsql security definer set search_path = ''
as $$
declare
  conn record;
  total integer;
begin
  if jsonb_typeof(p_events) is distinct from 'array' then
    raise exception 'events must be a JSON array' using errcode = '22023';
  end if;
  select id, provider, tenant_id into conn from sync.connections where id = p_connection_id;
  if not found then
    raise exception 'connection % does not exist', p_connection_id using errcode = 'P0002';
  end if;
  total := jsonb_array_length(p_events);

  with incoming as (
    select e.value ->> 'dedupe_key' as dedupe_key, e.value -> 'event' as event, e.ordinality
      from jsonb_array_elements(p_events) with ordinality as e (value, ordinality)
  ), fresh as (
    insert into sync.webhook_receipts (connection_id, dedupe_key)
    select distinct on (dedupe_key) p_connection_id, dedupe_key from incoming order by dedupe_key
    on conflict do nothing
    returning dedupe_key
  ), queued as (
    select pgmq.send_batch('crm_inbound', array(
      select jsonb_build_object('connection_id', conn.id, 'tenant_id', conn.tenant_id, 'provider', conn.provider,
                                'received_at', now(), 'event', i.event)
        from (select distinct on (dedupe_key) dedupe_key, event, ordinality from incoming order by dedupe_key, ordinality) i
        join fresh f using (dedupe_key)
       order by i.ordinality)) as msg_id
  )
  select count(*) into accepted from queued;
  duplicates := total - accepted;
  return next;
end
$$;
revoke execute on function sync.receive_webhook_events(uuid, jsonb) from public;
grant execute on function sync.receive_webhook_events(uuid, jsonb) to service_role;

select cron.schedule('purge-webhook-receipts', '17 * * * *',
  $$delete from sync.webhook_receipts where received_at < now() - interval '3 days'$$);
