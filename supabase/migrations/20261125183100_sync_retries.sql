-- Failure handling for queued work: a failed message is re-sent with its
-- attempt count and error and an exponential backoff with jitter; after
-- max_attempts it moves to the dead-letter table, where an operator sees it
-- and can replay it with one call. Nothing is dropped.
create table sync.dead_letters (
  id bigint generated always as identity primary key,
  queue_name text not null,
  connection_id uuid references sync.connections (id) on delete set null,
  tenant_id uuid references crm.tenants (id) on delete cascade,
  message jsonb not null,
  error text not null,
  attempts integer not null,
  failed_at timestamptz not null default now(),
  replayed_at timestamptz
);
create index dead_letters_open_idx on sync.dead_letters (failed_at) where replayed_at is null;
create index dead_letters_connection_idx on sync.dead_letters (connection_id);
alter table sync.dead_letters enable row level security;
create policy "members read their tenant's dead letters" on sync.dead_letters
  for select to authenticated using (tenant_id = (select crm.current_tenant_id()));
grant select on sync.dead_letters to authenticated;
grant all on sync.dead_letters to service_role;

-- Backoff before attempt n (1-based): 2^(n-1) seconds, capped at 15 minutes,
-- plus up to 25% jitter so retries of many messages spread out.
create function sync._retry_delay_seconds(p_attempt integer) returns integer
language sql volatile set search_path = ''
as $$
  select (least(900, power(2, greatest(p_attempt - 1, 0)))::numeric * (1 + random() * 0.25))::integer
$$;

-- Retries the given messages, or dead-letters those out of attempts.
-- Returns how many were retried and how many dead-lettered.
create function sync.fail_messages(p_queue text, p_msg_ids bigint[], p_error text, p_max_attempts integer default 8)
returns table (retried integer, dead_lettered integer)
language plpgsql security definer set search_path = ''
as $$
declare
  failed_id bigint;
  failed_message jsonb;
  next_attempt integer;
begin
  retried := 0;
  dead_lettered := 0;
  if p_queue not in ('crm_inbound', 'crm_outbound') then
    raise exception 'unknown queue %', p_queue using errcode = '22023';
  end if;
  for failed_id, failed_message in
      execute format('select msg_id, message from pgmq.%I where msg_id = any ($1) for update', 'q_' || p_queue)
      using p_msg_ids loop
    next_attempt := coalesce((failed_message ->> 'attempt')::integer, 0) + 1;
    if next_attempt >= p_max_attempts then
      insert into sync.dead_letters (queue_name, connection_id, tenant_id, message, error, attempts)
      select p_queue, c.id, c.tenant_id, failed_message, left(p_error, 4000), next_attempt
        from (select (failed_message ->> 'connection_id')::uuid as id) m
        left join sync.connections c on c.id = m.id;
      dead_lettered := dead_lettered + 1;
    else
      perform pgmq.send(p_queue,
        failed_message || jsonb_build_object('attempt', next_attempt, 'last_error', left(p_error, 1000)),
        sync._retry_delay_seconds(next_attempt));
      retried := retried + 1;
    end if;
    perform pgmq.delete(p_queue, failed_id);
  end loop;
  return next;
end
$$;

-- Puts dead letters back on their queue with a fresh attempt count.
-- No ids: every dead letter not yet replayed.
create function sync.replay_dead_letters(p_ids bigint[] default null) returns integer
language plpgsql security definer set search_path = ''
as $$
declare
  letter record;
  replayed integer := 0;
begin
  for letter in
    select id, queue_name, message from sync.dead_letters
     where replayed_at is null and (p_ids is null or id = any (p_ids))
     order by id for update
  loop
    perform pgmq.send(letter.queue_name, (letter.message - 'last_error') || jsonb_build_object('attempt', 0, 'replayed_from', letter.id));
    update sync.dead_letters set replayed_at = now() where id = letter.id;
    replayed := replayed + 1;
  end loop;
  return replayed;
end
$$;

revoke execute on function sync._retry_delay_seconds(integer), sync.fail_messages(text, bigint[], text, integer),
  sync.replay_dead_letters(bigint[]) from public;
grant execute on function sync.fail_messages(text, bigint[], text, integer), sync.replay_dead_letters(bigint[]) to service_role;
