-- Spare grants: a caller that pays for its calls one at a time (HubSpot, a
-- job listing page after page) asked the database once per call, and with a
-- window of hundreds of grants each ask costs 0.3 to 1 ms of database time:
-- a fifth of a reconciliation's. With p_spare, a plain grant (not taken until
-- answered, no tokens) comes with up to p_spare more while the window stays at
-- most half full. They are stamped 1 s ahead: each counts as if sent then,
-- later than it is, so the window holds them at least as long as the CRM
-- does, provided they go out within that second (the caller drops those it has
-- not used by then). A busy window grants none: near the limit, every call asks.
drop function sync.take_rate_budget(uuid, integer, integer, boolean);

-- Asks for p_requests requests costing p_tokens tokens in all, now. Grants all
-- or none; when none, wait_ms says how long until they would fit: the burst
-- window, or the next UTC day when the day's tokens are spent. With
-- p_until_answered the grant is in flight until settled (grant_id names it);
-- when in-flight grants are what fills the window, wait_ms is short: they
-- settle within a round trip. `spare` says how many spare grants came with it.
create function sync.take_rate_budget(p_connection_id uuid, p_requests integer default 1, p_tokens integer default 0,
                                      p_until_answered boolean default false, p_spare integer default 0)
returns table (granted boolean, wait_ms integer, grant_id bigint, spare integer)
language plpgsql security definer set search_path = ''
as $$
declare
  budget sync.rate_budgets;
  now_ms constant bigint := (extract(epoch from clock_timestamp()) * 1000)::bigint;
  today constant date := (clock_timestamp() at time zone 'utc')::date;
  margin_ms constant integer := 250;
  in_flight_ms constant integer := 30000;
  spare_ahead_ms constant integer := 1000;
  stamp constant bigint := case when p_until_answered then now_ms + in_flight_ms else now_ms end;
  window_start bigint;
  kept bigint[];
  spent bigint;
  blocking bigint;
begin
  spare := 0;
  if p_requests < 1 then
    raise exception 'p_requests must be at least 1' using errcode = '22023';
  end if;
  if p_spare < 0 then
    raise exception 'p_spare must not be negative' using errcode = '22023';
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
    if not p_until_answered and p_tokens = 0 then
      spare := least(p_spare, greatest(0, budget.max_requests / 2 - cardinality(kept) - p_requests));
    end if;
    update sync.rate_budgets b
       set grants = kept || array_fill(stamp, array[p_requests]) || array_fill(now_ms + spare_ahead_ms, array[spare]),
           paused_until = null, pause_reason = null,
           requests_granted = b.requests_granted + p_requests + spare, budget_day = today, day_tokens_spent = spent + p_tokens,
           tokens_spent = b.tokens_spent + p_tokens, updated_at = now()
     where b.connection_id = p_connection_id;
    granted := true;
    wait_ms := 0;
    grant_id := case when p_until_answered then stamp end;
  else
    update sync.rate_budgets b set grants = kept, updated_at = now() where b.connection_id = p_connection_id;
    granted := false;
    -- The oldest grants that must leave the window before p_requests fit; one still in flight leaves once settled.
    blocking := kept[cardinality(kept) + p_requests - budget.max_requests];
    wait_ms := case when blocking > now_ms then 25 else greatest(1, blocking - window_start)::integer end;
  end if;
  return next;
end
$$;
revoke execute on function sync.take_rate_budget(uuid, integer, integer, boolean, integer) from public;
grant execute on function sync.take_rate_budget(uuid, integer, integer, boolean, integer) to service_role;
