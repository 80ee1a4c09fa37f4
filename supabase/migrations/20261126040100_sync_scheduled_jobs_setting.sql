-- A connection can opt out of the pg_cron schedules (settings.scheduled_jobs
-- = false): no hourly incremental and no daily reconciliation start for it,
-- while jobs started by hand still run. For an account under maintenance or
-- migration, where an operator runs the jobs when it suits.

-- The settings checker knows the new key (a typo stays an error).
create or replace function sync._check_connection_settings(settings jsonb) returns void
language plpgsql immutable set search_path = ''
as $$
declare
  allowed constant text[] := array['api_base_url', 'webhook_public_url', 'rate_limit', 'daily_limit', 'entities',
                                     'scheduled_jobs'];
  key text;
  value jsonb;
  entity text;
begin
  if jsonb_typeof(settings) is distinct from 'object' then
    raise exception 'connection settings must be a JSON object' using errcode = '22023';
  end if;
  for key, value in select * from jsonb_each(settings) loop
    case key
      when 'api_base_url', 'webhook_public_url' then
        if jsonb_typeof(value) <> 'string' or value #>> '{}' !~ '^https?://[^\s/]+(/\S*)?$' then
          raise exception 'connection setting % must be an http(s) URL, got %', key, value using errcode = '22023';
        end if;
      when 'rate_limit' then
        if jsonb_typeof(value) <> 'object'
          or jsonb_typeof(value -> 'max_requests') <> 'number' or jsonb_typeof(value -> 'interval_ms') <> 'number'
          or (value ->> 'max_requests')::numeric not between 1 and 100000
          or (value ->> 'interval_ms')::numeric not between 100 and 86400000
          or exists (select from jsonb_object_keys(value) k where k not in ('max_requests', 'interval_ms')) then
          raise exception 'connection setting rate_limit must be {"max_requests": 1..100000, "interval_ms": 100..86400000}, got %', value
            using errcode = '22023';
        end if;
      when 'daily_limit' then
        if jsonb_typeof(value) <> 'number' or (value #>> '{}')::numeric < 1 then
          raise exception 'connection setting daily_limit must be a positive number, got %', value using errcode = '22023';
        end if;
      when 'scheduled_jobs' then
        if jsonb_typeof(value) <> 'boolean' then
          raise exception 'connection setting scheduled_jobs must be true or false, got %', value using errcode = '22023';
        end if;
      when 'entities' then
        if jsonb_typeof(value) <> 'array' then
          raise exception 'connection setting entities must be an array of entity types' using errcode = '22023';
        end if;
        for entity in select jsonb_array_elements_text(value) loop
          if entity not in ('contact', 'company', 'deal', 'activity', 'task') then
            raise exception 'connection setting entities has unknown entity type "%"', entity
              using errcode = '22023', hint = 'use contact, company, deal, activity or task';
          end if;
        end loop;
      else
        raise exception 'unknown connection setting "%"', key
          using errcode = '22023', hint = format('allowed settings: %s', array_to_string(allowed, ', '));
    end case;
  end loop;
end
$$;

create or replace function sync.schedule_jobs(p_kind text) returns integer
language plpgsql security definer set search_path = ''
as $$
declare
  conn record;
  free text[];
  started integer := 0;
begin
  if p_kind not in ('incremental', 'reconcile') then
    raise exception 'only incremental and reconcile jobs are scheduled, not %', p_kind using errcode = '22023';
  end if;
  for conn in
    select c.id, c.settings from sync.connections c
     where c.enabled and coalesce((c.settings ->> 'scheduled_jobs')::boolean, true)
  loop
    select array_agg(e) into free
      from unnest(array['company', 'contact', 'deal', 'activity', 'task']) e
     where sync._connection_syncs(conn.settings, e)
       and not exists (select from sync.job_locks l where l.connection_id = conn.id and l.entity_type = e)
       -- Incremental needs a high-water mark: a connection never backfilled has nothing to continue from.
       and (p_kind = 'reconcile' or exists (select from sync.sync_marks m where m.connection_id = conn.id and m.entity_type = e));
    if free is not null then
      perform sync.start_job(conn.id, p_kind, free, 'cron');
      started := started + 1;
    end if;
  end loop;
  return started;
end
$$;
