-- Connections: one tenant's link to one CRM account. Credentials never live
-- here: secret_id points at the Vault secret holding them.
create schema sync;
comment on schema sync is 'Sync engine state: connections, identity map, queues, shadows, logs.';
revoke all on schema sync from public;
grant usage on schema sync to authenticated, service_role;

create table sync.connections (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references crm.tenants (id) on delete cascade,
  provider text not null check (provider in ('hubspot', 'pipedrive')),
  account_id text not null check (account_id ~ '^[A-Za-z0-9._-]{1,100}$'),
  display_name text,
  settings jsonb not null default '{}',
  secret_id uuid,
  enabled boolean not null default true,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (provider, account_id),
  unique (tenant_id, id)
);
comment on column sync.connections.account_id is 'The account at the provider: HubSpot portal id, Pipedrive company id. Webhooks are routed by it.';
comment on column sync.connections.secret_id is 'vault.secrets.id of the credentials (API token or OAuth tokens).';
comment on column sync.connections.settings is 'Per-connection options, validated by sync._check_connection_settings().';
create index connections_tenant_idx on sync.connections (tenant_id);

-- The settings document is checked key by key so a typo is an error with a
-- message, not a silently ignored option.
create function sync._check_connection_settings(settings jsonb) returns void
language plpgsql immutable set search_path = ''
as $$
declare
  allowed constant text[] := array['api_base_url', 'webhook_public_url', 'rate_limit', 'daily_limit', 'entities'];
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
revoke execute on function sync._check_connection_settings(jsonb) from public;

create function sync._validate_connection() returns trigger
language plpgsql set search_path = ''
as $$
begin
  perform sync._check_connection_settings(new.settings);
  if tg_op = 'UPDATE' then
    if new.tenant_id is distinct from old.tenant_id then
      raise exception 'a connection cannot move to another tenant' using errcode = '42501';
    end if;
    new.created_at := old.created_at;
    new.updated_at := now();
  end if;
  return new;
end
$$;
revoke execute on function sync._validate_connection() from public;

create trigger validate_connection before insert or update on sync.connections
  for each row execute function sync._validate_connection();

alter table sync.connections enable row level security;
create policy "members read their tenant's connections" on sync.connections
  for select to authenticated using (tenant_id = (select crm.current_tenant_id()));

-- Members may see a connection but not which Vault secret holds its credentials.
grant select (id, tenant_id, provider, account_id, display_name, settings, enabled, created_at, updated_at)
  on sync.connections to authenticated;
grant all on sync.connections to service_role;
