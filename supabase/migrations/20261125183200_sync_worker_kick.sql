-- Waking the sync-worker function. Latency must not hang on cron: new work
-- on either queue kicks the worker at once through pg_net (debounced, and
-- skipped while a worker holds the lease, since it drains until the queues
-- are empty). pg_cron kicks every minute as the safety net for anything a
-- kick missed. The function URL and the service key are read from Vault
-- (sync.configure_worker_endpoint), as Supabase recommends for cron calls.
create table sync.worker_state (
  id boolean primary key default true check (id),
  lease_until timestamptz,
  last_kick_at timestamptz,
  last_run_started_at timestamptz,
  last_run_finished_at timestamptz
);
insert into sync.worker_state default values;
alter table sync.worker_state enable row level security;
grant all on sync.worker_state to service_role;

-- Stores where the worker is reachable: the functions base URL (for example
-- https://<project-ref>.supabase.co/functions/v1) and a key it accepts.
create function sync.configure_worker_endpoint(p_functions_url text, p_service_role_key text) returns void
language plpgsql security definer set search_path = ''
as $$
declare
  existing uuid;
  entry record;
begin
  if p_functions_url !~ '^https?://' then
    raise exception 'functions URL must start with http:// or https://, got %', p_functions_url using errcode = '22023';
  end if;
  for entry in select * from (values ('crm_sync_functions_url', p_functions_url), ('crm_sync_service_role_key', p_service_role_key)) v (name, value) loop
    select id into existing from vault.secrets where name = entry.name;
    if existing is null then
      perform vault.create_secret(entry.value, entry.name, 'crm-sync: how pg_net reaches the sync-worker function');
    else
      perform vault.update_secret(existing, entry.value);
    end if;
  end loop;
end
$$;

-- Sends one request to sync-worker unless one is already coming: a worker
-- holds the lease (it drains until the queues are empty, then looks once
-- more after releasing it), or a kick was sent in the last 5 seconds and no
-- run has started since (that run will see this work). Returns the pg_net
-- request id, or null.
create function sync.kick_worker(p_reason text, p_force boolean default false) returns bigint
language plpgsql security definer set search_path = ''
as $$
declare
  state sync.worker_state;
  base_url text;
  service_key text;
begin
  select * into state from sync.worker_state;
  if not p_force and (
       state.lease_until > clock_timestamp()
       or (state.last_kick_at > clock_timestamp() - interval '5 seconds'
           and state.last_kick_at > coalesce(state.last_run_started_at, '-infinity'))) then
    return null;
  end if;
  if not pg_try_advisory_xact_lock(hashtext('crm_sync.kick_worker')) then
    return null; -- another transaction is kicking right now
  end if;
  select decrypted_secret into base_url from vault.decrypted_secrets where name = 'crm_sync_functions_url';
  select decrypted_secret into service_key from vault.decrypted_secrets where name = 'crm_sync_service_role_key';
  if base_url is null or service_key is null then
    raise warning 'sync-worker endpoint is not configured; run sync.configure_worker_endpoint(url, key)';
    return null;
  end if;
  update sync.worker_state set last_kick_at = clock_timestamp();
  return net.http_post(
    url := base_url || '/sync-worker',
    body := jsonb_build_object('reason', p_reason),
    headers := jsonb_build_object('Content-Type', 'application/json', 'Authorization', 'Bearer ' || service_key),
    timeout_milliseconds := 60000);
end
$$;

create function sync._kick_on_new_work() returns trigger
language plpgsql security definer set search_path = ''
as $$
begin
  perform sync.kick_worker(tg_table_name);
  return null;
end
$$;
create trigger kick_worker after insert on pgmq.q_crm_inbound
  for each statement execute function sync._kick_on_new_work();
create trigger kick_worker after insert on pgmq.q_crm_outbound
  for each statement execute function sync._kick_on_new_work();

-- The worker's lease: taken and extended while it drains, released at the end.
create function sync.hold_worker_lease(p_seconds integer) returns void
language sql security definer set search_path = ''
as $$
  update sync.worker_state
     set lease_until = clock_timestamp() + make_interval(secs => p_seconds),
         last_run_started_at = case when lease_until is null or lease_until < clock_timestamp()
                                    then clock_timestamp() else last_run_started_at end
$$;

create function sync.release_worker_lease() returns void
language sql security definer set search_path = ''
as $$
  update sync.worker_state set lease_until = null, last_run_finished_at = clock_timestamp()
$$;

revoke execute on function sync.configure_worker_endpoint(text, text), sync.kick_worker(text, boolean),
  sync._kick_on_new_work(), sync.hold_worker_lease(integer), sync.release_worker_lease() from public;
grant execute on function sync.kick_worker(text, boolean), sync.hold_worker_lease(integer),
  sync.release_worker_lease() to service_role;

select cron.schedule('sync-worker-safety-net', '* * * * *', $$select sync.kick_worker('cron')$$);
