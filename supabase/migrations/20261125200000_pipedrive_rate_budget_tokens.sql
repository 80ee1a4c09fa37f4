-- Token buckets for providers that weigh calls (Pipedrive): besides the
-- burst window of requests, a daily budget of tokens per connection (one
-- Pipedrive company), each call spending its cost. The day is the UTC day,
-- as Pipedrive counts it. HubSpot asks for no tokens and is unaffected.
alter table sync.rate_budgets
  add column daily_tokens integer check (daily_tokens > 0),
  add column budget_day date,
  add column day_tokens_spent bigint not null default 0,
  add column tokens_spent bigint not null default 0;
comment on column sync.rate_budgets.daily_tokens is 'Tokens a UTC day allows (settings.daily_limit, Pipedrive default 30000); null: no daily budget.';
comment on column sync.rate_budgets.day_tokens_spent is 'Tokens granted on budget_day.';

-- Pipedrive's API token burst on the Lite plan: 20 requests per rolling 2 s.
create or replace function sync._default_rate_limit(p_provider text, p_settings jsonb, out max_requests integer, out interval_ms integer)
language sql immutable set search_path = ''
as $$
  select coalesce((p_settings -> 'rate_limit' ->> 'max_requests')::integer, case p_provider when 'hubspot' then 100 else 20 end),
         coalesce((p_settings -> 'rate_limit' ->> 'interval_ms')::integer, case p_provider when 'hubspot' then 10000 else 2000 end)
$$;

-- The daily token budget of a connection: its daily_limit setting, else Pipedrive's smallest (Lite, one seat).
create function sync._default_daily_tokens(p_provider text, p_settings jsonb) returns integer
language sql immutable set search_path = ''
as $$
  select coalesce((p_settings ->> 'daily_limit')::numeric::integer, case p_provider when 'pipedrive' then 30000 end)
$$;
revoke execute on function sync._default_daily_tokens(text, jsonb) from public;

drop function sync.take_rate_budget(uuid, integer);

-- Asks for p_requests requests costing p_tokens tokens in all, now. Grants all
-- or none; when none, wait_ms says how long until they would fit: the burst
-- window as before, or the next UTC day when the day's tokens are spent.
create function sync.take_rate_budget(p_connection_id uuid, p_requests integer default 1, p_tokens integer default 0)
returns table (granted boolean, wait_ms integer)
language plpgsql security definer set search_path = ''
as $$
declare
  budget sync.rate_budgets;
  now_ms constant bigint := (extract(epoch from clock_timestamp()) * 1000)::bigint;
  today constant date := (clock_timestamp() at time zone 'utc')::date;
  margin_ms constant integer := 250;
  window_start bigint;
  kept bigint[];
  spent bigint;
begin
  if p_requests < 1 then
    raise exception 'p_requests must be at least 1' using errcode = '22023';
  end if;
  if p_tokens < 0 then
    raise exception 'p_tokens must not be negative' using errcode = '22023';
  end if;
  select * into budget from sync.rate_budgets b where b.connection_id = p_connection_id for update;
  if not found then
    insert into sync.rate_budgets as b (connection_id, max_requests, interval_ms, daily_tokens)
    select c.id, l.max_requests, l.interval_ms, sync._default_daily_tokens(c.provider, c.settings)
      from sync.connections c, sync._default_rate_limit(c.provider, c.settings) l
     where c.id = p_connection_id
    on conflict on constraint rate_budgets_pkey do nothing;
    select * into budget from sync.rate_budgets b where b.connection_id = p_connection_id for update;
    if not found then
      raise exception 'connection % does not exist', p_connection_id using errcode = 'P0002';
    end if;
  end if;
  if p_requests > budget.max_requests then
    raise exception 'asked for % requests at once; the budget allows % per % ms', p_requests, budget.max_requests, budget.interval_ms
      using errcode = '22023';
  end if;
  if p_tokens > budget.daily_tokens then
    raise exception 'asked for % tokens at once; the budget allows % a day', p_tokens, budget.daily_tokens using errcode = '22023';
  end if;

  if budget.paused_until > clock_timestamp() then
    granted := false;
    wait_ms := ceil(extract(epoch from budget.paused_until - clock_timestamp()) * 1000)::integer;
    return next;
    return;
  end if;

  spent := case when budget.budget_day = today then budget.day_tokens_spent else 0 end;
  if budget.daily_tokens is not null and spent + p_tokens > budget.daily_tokens then
    granted := false;
    wait_ms := greatest(1, ceil(extract(epoch from ((today + 1)::timestamp at time zone 'utc') - clock_timestamp()) * 1000))::integer;
    return next;
    return;
  end if;

  window_start := now_ms - budget.interval_ms - margin_ms;
  select coalesce(array_agg(g order by g), '{}') into kept from unnest(budget.grants) g where g > window_start;

  if cardinality(kept) + p_requests <= budget.max_requests then
    update sync.rate_budgets b
       set grants = kept || array_fill(now_ms, array[p_requests]), paused_until = null, pause_reason = null,
           requests_granted = b.requests_granted + p_requests, budget_day = today, day_tokens_spent = spent + p_tokens,
           tokens_spent = b.tokens_spent + p_tokens, updated_at = now()
     where b.connection_id = p_connection_id;
    granted := true;
    wait_ms := 0;
  else
    update sync.rate_budgets b set grants = kept, updated_at = now() where b.connection_id = p_connection_id;
    granted := false;
    -- The oldest grants that must leave the window before p_requests fit.
    wait_ms := greatest(1, kept[cardinality(kept) + p_requests - budget.max_requests] - window_start)::integer;
  end if;
  return next;
end
$$;
revoke execute on function sync.take_rate_budget(uuid, integer, integer) from public;
grant execute on function sync.take_rate_budget(uuid, integer, integer) to service_role;

-- A pause may create the budget row: with the daily budget too.
create or replace function sync.pause_connection(p_connection_id uuid, p_for_ms integer, p_reason text) returns timestamptz
language sql security definer set search_path = ''
as $$
  insert into sync.rate_budgets as b (connection_id, max_requests, interval_ms, daily_tokens, paused_until, pause_reason)
  select c.id, l.max_requests, l.interval_ms, sync._default_daily_tokens(c.provider, c.settings),
         clock_timestamp() + make_interval(secs => p_for_ms / 1000.0), p_reason
    from sync.connections c, sync._default_rate_limit(c.provider, c.settings) l
   where c.id = p_connection_id
  on conflict (connection_id) do update
    set paused_until = greatest(coalesce(b.paused_until, clock_timestamp()), excluded.paused_until),
        pause_reason = excluded.pause_reason, updated_at = now()
  returning paused_until
$$;
