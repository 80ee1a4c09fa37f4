-- One request budget per connection, shared by every worker invocation: a
-- sliding log of the request times granted in the provider's window (HubSpot
-- counts a rolling 10 s window, so a token bucket with a burst would
-- overshoot it). A 429 pauses the connection until its Retry-After passes.
create table sync.rate_budgets (
  connection_id uuid primary key references sync.connections (id) on delete cascade,
  max_requests integer not null check (max_requests > 0),
  interval_ms integer not null check (interval_ms >= 100),
  grants bigint[] not null default '{}',
  paused_until timestamptz,
  pause_reason text,
  requests_granted bigint not null default 0,
  updated_at timestamptz not null default now()
);
comment on column sync.rate_budgets.grants is 'Epoch-ms times of the requests granted within the current window (oldest first).';
alter table sync.rate_budgets enable row level security;
create policy "members read their tenant's rate budgets" on sync.rate_budgets
  for select to authenticated
  using (exists (select from sync.connections c where c.id = connection_id and c.tenant_id = (select crm.current_tenant_id())));
grant select on sync.rate_budgets to authenticated;
grant all on sync.rate_budgets to service_role;

-- The provider's published limit unless the connection's settings say otherwise.
create function sync._default_rate_limit(p_provider text, p_settings jsonb, out max_requests integer, out interval_ms integer)
language sql immutable set search_path = ''
as $$
  select coalesce((p_settings -> 'rate_limit' ->> 'max_requests')::integer, case p_provider when 'hubspot' then 100 else 80 end),
         coalesce((p_settings -> 'rate_limit' ->> 'interval_ms')::integer, case p_provider when 'hubspot' then 10000 else 2000 end)
$$;

-- Asks for p_requests requests now. Grants all or none; when none, wait_ms
-- says how long until they would fit. Requests are counted against a window
-- 250 ms longer than the provider's, a margin for network delay between the
-- grant here and the arrival there.
create function sync.take_rate_budget(p_connection_id uuid, p_requests integer default 1)
returns table (granted boolean, wait_ms integer)
language plpgsql security definer set search_path = ''
as $$
declare
  budget sync.rate_budgets;
  now_ms constant bigint := (extract(epoch from clock_timestamp()) * 1000)::bigint;
  margin_ms constant integer := 250;
  window_start bigint;
  kept bigint[];
begin
  if p_requests < 1 then
    raise exception 'p_requests must be at least 1' using errcode = '22023';
  end if;
  select * into budget from sync.rate_budgets where connection_id = p_connection_id for update;
  if not found then
    insert into sync.rate_budgets (connection_id, max_requests, interval_ms)
    select c.id, l.max_requests, l.interval_ms
      from sync.connections c, sync._default_rate_limit(c.provider, c.settings) l
     where c.id = p_connection_id
    on conflict (connection_id) do nothing;
    select * into budget from sync.rate_budgets where connection_id = p_connection_id for update;
    if not found then
      raise exception 'connection % does not exist', p_connection_id using errcode = 'P0002';
    end if;
  end if;
  if p_requests > budget.max_requests then
    raise exception 'asked for % requests at once; the budget allows % per % ms', p_requests, budget.max_requests, budget.interval_ms
      using errcode = '22023';
  end if;

  if budget.paused_until > clock_timestamp() then
    granted := false;
    wait_ms := ceil(extract(epoch from budget.paused_until - clock_timestamp()) * 1000)::integer;
    return next;
    return;
  end if;

  window_start := now_ms - budget.interval_ms - margin_ms;
  select coalesce(array_agg(g order by g), '{}') into kept from unnest(budget.grants) g where g > window_start;

  if cardinality(kept) + p_requests <= budget.max_requests then
    update sync.rate_budgets
       set grants = kept || array_fill(now_ms, array[p_requests]), paused_until = null, pause_reason = null,
           requests_granted = requests_granted + p_requests, updated_at = now()
     where connection_id = p_connection_id;
    granted := true;
    wait_ms := 0;
  else
    update sync.rate_budgets set grants = kept, updated_at = now() where connection_id = p_connection_id;
    granted := false;
    -- The oldest grants that must leave the window before p_requests fit.
    wait_ms := greatest(1, kept[cardinality(kept) + p_requests - budget.max_requests] - window_start)::integer;
  end if;
  return next;
end
$$;

-- A 429 (or a provider outage) pauses one connection; the others go on.
create function sync.pause_connection(p_connection_id uuid, p_for_ms integer, p_reason text) returns timestamptz
language sql security definer set search_path = ''
as $$
  insert into sync.rate_budgets as b (connection_id, max_requests, interval_ms, paused_until, pause_reason)
  select c.id, l.max_requests, l.interval_ms, clock_timestamp() + make_interval(secs => p_for_ms / 1000.0), p_reason
    from sync.connections c, sync._default_rate_limit(c.provider, c.settings) l
   where c.id = p_connection_id
  on conflict (connection_id) do update
    set paused_until = greatest(coalesce(b.paused_until, clock_timestamp()), excluded.paused_until),
        pause_reason = excluded.pause_reason, updated_at = now()
  returning paused_until
$$;

revoke execute on function sync._default_rate_limit(text, jsonb), sync.take_rate_budget(uuid, integer),
  sync.pause_connection(uuid, integer, text) from public;
grant execute on function sync.take_rate_budget(uuid, integer), sync.pause_connection(uuid, integer, text) to service_role;
