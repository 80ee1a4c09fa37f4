-- Creates that may have happened: a CRM without an idempotent create
-- (Pipedrive) cannot be asked to "create unless it exists". Before creating,
-- the adapter notes the attempt here; a record with an earlier attempt may
-- have been created by a run whose answer was lost, so the adapter looks for
-- it first. A successful create forgets the attempt.
create table sync.create_attempts (
  connection_id uuid not null references sync.connections (id) on delete cascade,
  entity_type crm.entity_type not null,
  local_id uuid not null,
  first_attempt_at timestamptz not null default clock_timestamp(),
  attempts integer not null default 1,
  constraint create_attempts_pkey primary key (connection_id, entity_type, local_id)
);
comment on table sync.create_attempts is 'Creates sent to a CRM whose outcome is not recorded yet (engine internal).';
alter table sync.create_attempts enable row level security;
grant all on sync.create_attempts to service_role;

-- Notes an attempt for each local id; returns those attempted before, with when the first attempt was.
create function sync.note_create_attempts(p_connection_id uuid, p_entity_type crm.entity_type, p_local_ids uuid[])
returns table (local_id uuid, first_attempt_at timestamptz)
language sql security definer set search_path = ''
as $$
  with noted as (
    insert into sync.create_attempts as a (connection_id, entity_type, local_id)
    select p_connection_id, p_entity_type, l from unnest(p_local_ids) l
    on conflict on constraint create_attempts_pkey do update set attempts = a.attempts + 1
    returning a.local_id, a.attempts, a.first_attempt_at
  )
  select n.local_id, n.first_attempt_at from noted n where n.attempts > 1
$$;

create function sync.forget_create_attempts(p_connection_id uuid, p_entity_type crm.entity_type, p_local_ids uuid[]) returns void
language sql security definer set search_path = ''
as $$
  delete from sync.create_attempts a
   where a.connection_id = p_connection_id and a.entity_type = p_entity_type and a.local_id = any (p_local_ids)
$$;

revoke execute on function sync.note_create_attempts(uuid, crm.entity_type, uuid[]),
  sync.forget_create_attempts(uuid, crm.entity_type, uuid[]) from public;
grant execute on function sync.note_create_attempts(uuid, crm.entity_type, uuid[]),
  sync.forget_create_attempts(uuid, crm.entity_type, uuid[]) to service_role;
