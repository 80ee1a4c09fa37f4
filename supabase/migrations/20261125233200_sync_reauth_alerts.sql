-- Credentials a CRM refuses (a revoked OAuth app, an invalid_grant on
-- refresh, a 401): the connection is marked needs_reauth, its sync pauses
-- (the worker leaves its queued messages in place) and an alert row says
-- why. Connecting the account again resumes it and drains what waited.
-- OAuth refreshes take the connection's credentials lock, so one worker at a
-- time refreshes and the others find the new token.
alter table sync.connections
  add column auth_status text not null default 'active' check (auth_status in ('active', 'needs_reauth'));
comment on column sync.connections.auth_status is 'needs_reauth: the CRM refused the credentials; sync waits for the account to be connected again.';
grant select (auth_status) on sync.connections to authenticated;

-- Conditions an operator must see. Open alerts have resolved_at null; one
-- open alert per connection and kind.
create table sync.alerts (
  id bigint generated always as identity primary key,
  tenant_id uuid not null references crm.tenants (id) on delete cascade,
  connection_id uuid references sync.connections (id) on delete cascade,
  kind text not null check (kind ~ '^[a-z_]{1,50}$'),
  message text not null,
  raised_at timestamptz not null default now(),
  resolved_at timestamptz
);
comment on table sync.alerts is 'Conditions that need an operator (needs_reauth, ...); resolved_at is set when they clear.';
create unique index alerts_open_idx on sync.alerts (connection_id, kind) where resolved_at is null;
create index alerts_tenant_idx on sync.alerts (tenant_id, raised_at desc);
alter table sync.alerts enable row level security;
create policy "members read their tenant's alerts" on sync.alerts
  for select to authenticated using (tenant_id = (select crm.current_tenant_id()));
grant select on sync.alerts to authenticated;
grant all on sync.alerts to service_role;

create function sync.mark_needs_reauth(p_connection_id uuid, p_reason text) returns void
language plpgsql security definer set search_path = ''
as $$
declare
  tenant uuid;
begin
  update sync.connections c set auth_status = 'needs_reauth' where c.id = p_connection_id returning c.tenant_id into tenant;
  if tenant is null then
    raise exception 'connection % does not exist', p_connection_id using errcode = 'P0002';
  end if;
  insert into sync.alerts (tenant_id, connection_id, kind, message)
  values (tenant, p_connection_id, 'needs_reauth', left(coalesce(p_reason, 'the CRM refused the credentials'), 1000))
  on conflict (connection_id, kind) where resolved_at is null do nothing;
end
$$;

-- After a new connect: active again, the alert resolved, and the work that
-- waited made visible at once and the worker kicked.
create function sync.resume_connection(p_connection_id uuid) returns void
language plpgsql security definer set search_path = ''
as $$
begin
  update sync.connections c set auth_status = 'active' where c.id = p_connection_id and c.auth_status <> 'active';
  if not found then
    return;
  end if;
  update sync.alerts a set resolved_at = now()
   where a.connection_id = p_connection_id and a.kind = 'needs_reauth' and a.resolved_at is null;
  update pgmq.q_crm_outbound q set vt = clock_timestamp() where q.message ->> 'connection_id' = p_connection_id::text;
  update pgmq.q_crm_inbound q set vt = clock_timestamp() where q.message ->> 'connection_id' = p_connection_id::text;
  perform sync.kick_worker('resume', true);
end
$$;

-- The credentials, read under the connection's lock for the rest of the
-- transaction: the refresher holds it while it asks the CRM for a new token.
create function sync.lock_connection_credentials(p_connection_id uuid) returns jsonb
language plpgsql security definer set search_path = ''
as $$
begin
  perform pg_advisory_xact_lock(hashtextextended('crm_sync.credentials:' || p_connection_id::text, 0));
  return sync.connection_credentials(p_connection_id);
end
$$;

revoke execute on function sync.mark_needs_reauth(uuid, text), sync.resume_connection(uuid),
  sync.lock_connection_credentials(uuid) from public;
grant execute on function sync.mark_needs_reauth(uuid, text), sync.resume_connection(uuid),
  sync.lock_connection_credentials(uuid) to service_role;
