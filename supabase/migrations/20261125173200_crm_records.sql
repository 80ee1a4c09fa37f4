-- The unified CRM records: the shape every provider maps to and from.
-- Every row carries tenant_id; references between records are composite
-- (tenant_id, id) foreign keys, so a row can only point inside its tenant.
-- Rows are soft-deleted (deleted_at) so sync can propagate deletions.

create domain crm.entity_type as text
  check (value in ('contact', 'company', 'deal', 'activity', 'task'));
comment on domain crm.entity_type is 'The kinds of record the engine syncs.';

create table crm.companies (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references crm.tenants (id) on delete cascade,
  name text,
  domain text check (domain = lower(domain) and domain !~ '\s'),
  industry text,
  employee_count integer check (employee_count >= 0),
  annual_revenue numeric(18, 2) check (annual_revenue >= 0),
  website text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  deleted_at timestamptz,
  unique (tenant_id, id)
);

create table crm.contacts (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references crm.tenants (id) on delete cascade,
  email text check (email ~ '^[^@\s]+@[^@\s]+$'),
  first_name text,
  last_name text,
  phone text,
  company_id uuid,
  lifecycle_stage text,
  lead_source text,
  custom_fields jsonb not null default '{}' check (jsonb_typeof(custom_fields) = 'object'),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  deleted_at timestamptz,
  unique (tenant_id, id),
  foreign key (tenant_id, company_id) references crm.companies (tenant_id, id) on delete set null (company_id)
);

create table crm.deals (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references crm.tenants (id) on delete cascade,
  name text,
  amount numeric(18, 2),
  currency char(3) check (currency ~ '^[A-Z]{3}$'),
  stage text,
  status text not null default 'open' check (status in ('open', 'won', 'lost')),
  probability numeric(5, 2) check (probability between 0 and 100),
  close_date date,
  owner_id uuid,
  company_id uuid,
  contact_id uuid,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  deleted_at timestamptz,
  unique (tenant_id, id),
  foreign key (tenant_id, company_id) references crm.companies (tenant_id, id) on delete set null (company_id),
  foreign key (tenant_id, contact_id) references crm.contacts (tenant_id, id) on delete set null (contact_id)
);
comment on column crm.deals.probability is 'Win probability in percent (0-100).';
comment on column crm.deals.owner_id is 'Local user (auth.users.id) owning the deal; provider owner ids are mapped per connection.';

create table crm.activities (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references crm.tenants (id) on delete cascade,
  type text not null check (type in ('call', 'email', 'meeting', 'note')),
  subject text,
  body text,
  occurred_at timestamptz not null default now(),
  direction text check (direction in ('inbound', 'outbound')),
  owner_id uuid,
  contact_id uuid,
  company_id uuid,
  deal_id uuid,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  deleted_at timestamptz,
  unique (tenant_id, id),
  foreign key (tenant_id, contact_id) references crm.contacts (tenant_id, id) on delete set null (contact_id),
  foreign key (tenant_id, company_id) references crm.companies (tenant_id, id) on delete set null (company_id),
  foreign key (tenant_id, deal_id) references crm.deals (tenant_id, id) on delete set null (deal_id)
);
comment on column crm.activities.occurred_at is 'When the call, email, meeting or note happened (the "timestamp" of the entity mapping).';

create table crm.tasks (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references crm.tenants (id) on delete cascade,
  title text not null check (length(btrim(title)) > 0),
  due_date date,
  status text not null default 'open' check (status in ('open', 'in_progress', 'completed', 'cancelled')),
  assigned_to uuid,
  contact_id uuid,
  company_id uuid,
  deal_id uuid,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  deleted_at timestamptz,
  unique (tenant_id, id),
  foreign key (tenant_id, contact_id) references crm.contacts (tenant_id, id) on delete set null (contact_id),
  foreign key (tenant_id, company_id) references crm.companies (tenant_id, id) on delete set null (company_id),
  foreign key (tenant_id, deal_id) references crm.deals (tenant_id, id) on delete set null (deal_id)
);

-- Lookups the sync engine and the reports run: matching by email and domain,
-- reverse references, incremental scans by updated_at, pipeline views.
create index contacts_tenant_email_idx on crm.contacts (tenant_id, lower(email)) where deleted_at is null;
create index contacts_tenant_company_idx on crm.contacts (tenant_id, company_id) where company_id is not null;
create index contacts_tenant_updated_idx on crm.contacts (tenant_id, updated_at);
create index companies_tenant_domain_idx on crm.companies (tenant_id, domain) where deleted_at is null;
create index companies_tenant_updated_idx on crm.companies (tenant_id, updated_at);
create index deals_tenant_stage_idx on crm.deals (tenant_id, stage) where deleted_at is null;
create index deals_tenant_status_close_idx on crm.deals (tenant_id, status, close_date);
create index deals_tenant_owner_idx on crm.deals (tenant_id, owner_id) where owner_id is not null;
create index deals_tenant_company_idx on crm.deals (tenant_id, company_id) where company_id is not null;
create index deals_tenant_contact_idx on crm.deals (tenant_id, contact_id) where contact_id is not null;
create index deals_tenant_updated_idx on crm.deals (tenant_id, updated_at);
create index activities_tenant_contact_time_idx on crm.activities (tenant_id, contact_id, occurred_at desc) where contact_id is not null;
create index activities_tenant_company_idx on crm.activities (tenant_id, company_id) where company_id is not null;
create index activities_tenant_deal_time_idx on crm.activities (tenant_id, deal_id, occurred_at desc) where deal_id is not null;
create index activities_tenant_time_idx on crm.activities (tenant_id, occurred_at);
create index activities_tenant_updated_idx on crm.activities (tenant_id, updated_at);
create index tasks_tenant_assignee_status_idx on crm.tasks (tenant_id, assigned_to, status);
create index tasks_tenant_due_idx on crm.tasks (tenant_id, due_date) where status in ('open', 'in_progress');
create index tasks_tenant_contact_idx on crm.tasks (tenant_id, contact_id) where contact_id is not null;
create index tasks_tenant_company_idx on crm.tasks (tenant_id, company_id) where company_id is not null;
create index tasks_tenant_deal_idx on crm.tasks (tenant_id, deal_id) where deal_id is not null;
create index tasks_tenant_updated_idx on crm.tasks (tenant_id, updated_at);

-- updated_at is the time of the last write; created_at and tenant_id never change.
create function crm._touch_updated_at() returns trigger
language plpgsql set search_path = ''
as $$
begin
  new.created_at := old.created_at;
  new.updated_at := now();
  return new;
end
$$;

create function crm._keep_tenant() returns trigger
language plpgsql set search_path = ''
as $$
begin
  if new.tenant_id is distinct from old.tenant_id then
    raise exception '% rows cannot move to another tenant', tg_table_name
      using errcode = '42501', hint = 'create the record in the other tenant instead';
  end if;
  return new;
end
$$;
revoke execute on function crm._touch_updated_at(), crm._keep_tenant() from public;

create trigger touch_updated_at before update on crm.tenants
  for each row execute function crm._touch_updated_at();

do $$
declare
  tbl text;
begin
  foreach tbl in array array['companies', 'contacts', 'deals', 'activities', 'tasks'] loop
    execute format('create trigger keep_tenant before update of tenant_id on crm.%I for each row execute function crm._keep_tenant()', tbl);
    execute format('create trigger touch_updated_at before update on crm.%I for each row execute function crm._touch_updated_at()', tbl);
  end loop;
end
$$;
