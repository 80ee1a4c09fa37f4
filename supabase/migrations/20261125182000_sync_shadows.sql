-- Shadows: the last state of each record that the connected CRM is known to
-- hold (after its own changes and after the engine's writes), kept on the
-- identity map row. Conflicts are found three-way against it, field by
-- field: remote != base means the CRM changed the field, local != base means
-- the app did. The engine's own writes update the shadow, so their webhook
-- echo compares equal and changes nothing.
alter table sync.identity_map
  add column base jsonb not null default '{}' check (jsonb_typeof(base) = 'object'),
  add column base_references jsonb not null default '{}' check (jsonb_typeof(base_references) = 'object'),
  add column remote_deleted_at timestamptz;
comment on column sync.identity_map.base is 'Shadow: unified field values the CRM holds for this record, as last read or written.';
comment on column sync.identity_map.base_references is 'Shadow of references as remote ids, e.g. {"company": "123"}.';

-- References that point at a remote record not yet mapped locally (it has
-- not arrived yet). Resolved as soon as the target record is applied.
create table sync.pending_references (
  connection_id uuid not null references sync.connections (id) on delete cascade,
  entity_type crm.entity_type not null,
  local_id uuid not null,
  reference text not null check (reference in ('company', 'contact', 'deal')),
  target_remote_id text not null,
  created_at timestamptz not null default now(),
  primary key (connection_id, entity_type, local_id, reference)
);
create index pending_references_target_idx on sync.pending_references (connection_id, reference, target_remote_id);
alter table sync.pending_references enable row level security;
grant all on sync.pending_references to service_role;

-- The columns the engine syncs per entity type: the only ones a change may set.
create function sync._synced_columns(p_entity_type crm.entity_type) returns text[]
language sql immutable set search_path = ''
as $$
  select case p_entity_type
    when 'contact' then array['email', 'first_name', 'last_name', 'phone', 'lifecycle_stage', 'lead_source', 'custom_fields']
    when 'company' then array['name', 'domain', 'industry', 'employee_count', 'annual_revenue', 'website']
    when 'deal' then array['name', 'amount', 'currency', 'stage', 'status', 'probability', 'close_date', 'owner_id']
    when 'activity' then array['type', 'subject', 'body', 'occurred_at', 'direction', 'owner_id']
    when 'task' then array['title', 'due_date', 'status', 'assigned_to']
  end
$$;

create function sync._table_of(p_entity_type crm.entity_type) returns text
language sql immutable set search_path = ''
as $$
  select case p_entity_type
    when 'contact' then 'contacts' when 'company' then 'companies' when 'deal' then 'deals'
    when 'activity' then 'activities' when 'task' then 'tasks'
  end
$$;

create function sync._references_of(p_entity_type crm.entity_type) returns text[]
language sql immutable set search_path = ''
as $$
  select case p_entity_type
    when 'contact' then array['company']
    when 'company' then array[]::text[]
    when 'deal' then array['company', 'contact']
    else array['contact', 'company', 'deal']
  end
$$;
revoke execute on function sync._synced_columns(crm.entity_type), sync._table_of(crm.entity_type),
  sync._references_of(crm.entity_type) from public;
