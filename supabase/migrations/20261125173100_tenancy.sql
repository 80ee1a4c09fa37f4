-- Tenants and the one helper every tenant policy calls.
create schema crm;
comment on schema crm is 'Unified CRM data of every tenant: contacts, companies, deals, activities, tasks.';
revoke all on schema crm from public;
grant usage on schema crm to authenticated, service_role;

create table crm.tenants (
  id uuid primary key default gen_random_uuid(),
  name text not null check (length(btrim(name)) between 1 and 200),
  slug text not null unique check (slug ~ '^[a-z0-9][a-z0-9-]{1,62}$'),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
comment on table crm.tenants is 'One customer of the app; every crm and sync row belongs to exactly one tenant.';
alter table crm.tenants enable row level security;

-- The tenant of the current request. A request that carries a JWT (PostgREST,
-- the app) is bound to its app_metadata.tenant_id claim and nothing else, so a
-- client cannot pick a tenant with SET. Sessions without a JWT (server-side
-- jobs, analysts on a direct connection) use the app.current_tenant_id setting.
-- A missing or malformed value yields null, which matches no row.
create function crm.current_tenant_id() returns uuid
language plpgsql stable security definer set search_path = ''
as $$
declare
  claims jsonb := nullif(current_setting('request.jwt.claims', true), '')::jsonb;
  candidate text;
begin
  if claims is not null and claims ? 'role' then
    candidate := claims -> 'app_metadata' ->> 'tenant_id';
  else
    candidate := current_setting('app.current_tenant_id', true);
  end if;
  if candidate ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then
    return candidate::uuid;
  end if;
  return null;
end
$$;
revoke execute on function crm.current_tenant_id() from public;
grant execute on function crm.current_tenant_id() to authenticated, service_role;

create policy "members read their own tenant" on crm.tenants
  for select to authenticated
  using (id = (select crm.current_tenant_id()));

grant select on crm.tenants to authenticated;
grant all on crm.tenants to service_role;
