-- GDPR: erasure and right of access for a person (a crm contact).
--
-- privacy.erase_contact erases a person in one transaction: the contact row,
-- the personal data of its activities and tasks (and mentions of the person
-- in the tenant's other activities, tasks and deal names), its identity map
-- rows and shadows, the queue messages, dead letters and webhook receipts
-- about it, and the values in its audit entries. Every connected CRM that
-- holds the person gets an 'erase' message on crm_outbound (the worker calls
-- adapter.eraseContacts: retried with backoff, dead-lettered when it cannot
-- succeed). What is left is a tombstone (privacy.erasures, plus a
-- gdpr_deleted audit entry) holding no personal data: who asked and when,
-- and per CRM whether the remote erasure is done.
create schema privacy;
comment on schema privacy is 'GDPR erasure tombstones and the erasure and access functions.';
revoke all on schema privacy from public;
grant usage on schema privacy to authenticated, service_role;

create table privacy.erasures (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references crm.tenants (id) on delete cascade,
  entity_type text not null default 'contact' check (entity_type = 'contact'),
  local_id uuid not null,
  requested_by text not null check (length(btrim(requested_by)) between 1 and 200),
  requested_at timestamptz not null default now(),
  origin_connection_id uuid references sync.connections (id) on delete set null,
  completed_at timestamptz
);
comment on table privacy.erasures is 'Tombstones of erased people: who asked, when, and (erasure_targets) the CRMs it reached. No personal data.';
comment on column privacy.erasures.local_id is 'The id the erased contact had; it points at nothing any more.';
comment on column privacy.erasures.origin_connection_id is 'Set when a CRM asked (a privacy deletion there): that CRM already erased the person.';
comment on column privacy.erasures.completed_at is 'When every CRM holding the person confirmed the erasure.';
create unique index erasures_local_idx on privacy.erasures (tenant_id, local_id);

create table privacy.erasure_targets (
  erasure_id uuid not null references privacy.erasures (id) on delete cascade,
  connection_id uuid not null references sync.connections (id) on delete cascade,
  remote_id text not null,
  status text not null check (status in ('queued', 'erased', 'failed')),
  error text,
  updated_at timestamptz not null default now(),
  primary key (erasure_id, connection_id)
);
comment on table privacy.erasure_targets is 'Per connected CRM: the remote record of an erased person and whether it is erased there.';

alter table privacy.erasures enable row level security;
alter table privacy.erasure_targets enable row level security;
create policy "members read their tenant's erasures" on privacy.erasures
  for select to authenticated using (tenant_id = (select crm.current_tenant_id()));
create policy "members read their tenant's erasure targets" on privacy.erasure_targets
  for select to authenticated
  using (exists (select from privacy.erasures e where e.id = erasure_id and e.tenant_id = (select crm.current_tenant_id())));
grant select on privacy.erasures, privacy.erasure_targets to authenticated;
grant all on privacy.erasures, privacy.erasure_targets to service_role;

-- The person's identifiers searched for in free text: email, phone and full
-- name (a first name alone would hit other people).
create function privacy._identifiers(p_contact crm.contacts) returns text[]
language sql immutable set search_path = ''
as $$
  select coalesce(array_agg(distinct lower(v)), '{}')
    from unnest(array[p_contact.email, p_contact.phone,
                      nullif(btrim(concat_ws(' ', p_contact.first_name, p_contact.last_name)), '')]) v
   where length(btrim(v)) >= 5
$$;

create function privacy._mentions(p_text text, p_needles text[]) returns boolean
language sql immutable set search_path = ''
as $$
  select p_text is not null and exists (select from unnest(p_needles) n where strpos(lower(p_text), n) > 0)
$$;

-- Whether a provider event (as queued) is about the person's remote record:
-- HubSpot contact.* events name it in objectId, Pipedrive person events in
-- meta.entity_id. (Events that carry the person's values are also found by
-- their mentions.)
create function privacy._event_about(p_event jsonb, p_remote_id text) returns boolean
language sql immutable set search_path = ''
as $$
  select coalesce((p_event ->> 'subscriptionType' like 'contact.%' and p_event ->> 'objectId' = p_remote_id)
               or (p_event -> 'meta' ->> 'entity' = 'person' and p_event -> 'meta' ->> 'entity_id' = p_remote_id), false)
$$;

-- Replaces every mention (any case) by "[erased]".
create function privacy._scrub(p_text text, p_needles text[]) returns text
language plpgsql immutable set search_path = ''
as $$
declare
  needle text;
  result text := p_text;
begin
  foreach needle in array p_needles loop
    result := regexp_replace(result, regexp_replace(needle, '([.\\+*?\[^\]$(){}=!<>|:\-#/])', '\\\1', 'g'), '[erased]', 'gi');
  end loop;
  return result;
end
$$;

-- The same inside JSON: only strings (and keys) change, so the document stays valid.
create function privacy._scrub_json(p_value jsonb, p_needles text[]) returns jsonb
language plpgsql immutable set search_path = ''
as $$
begin
  case jsonb_typeof(p_value)
    when 'string' then
      return to_jsonb(privacy._scrub(p_value #>> '{}', p_needles));
    when 'object' then
      return (select coalesce(jsonb_object_agg(privacy._scrub(e.key, p_needles), privacy._scrub_json(e.value, p_needles)), '{}')
                from jsonb_each(p_value) e);
    when 'array' then
      return (select coalesce(jsonb_agg(privacy._scrub_json(a.value, p_needles) order by a.ordinality), '[]')
                from jsonb_array_elements(p_value) with ordinality a);
    else
      return p_value;
  end case;
end
$$;

-- Erases a person. p_requested_by says who asked (a user id, an operator,
-- "connection:<id>"; not the person's own data). p_origin_connection: the
-- CRM that asked, which has erased the person already. Returns the erasure
-- id; erasing the same contact again returns the first erasure's id.
create function privacy.erase_contact(p_contact_id uuid, p_requested_by text, p_origin_connection uuid default null)
returns uuid
language plpgsql security definer set search_path = ''
as $$
declare
  person crm.contacts;
  needles text[];
  erasure uuid;
  linked uuid[];
  targets jsonb;
  queue_table text;
begin
  if p_requested_by is null or length(btrim(p_requested_by)) not between 1 and 200 then
    raise exception 'say who asked for the erasure (requested_by, 1 to 200 characters)' using errcode = '22023';
  end if;
  select * into person from crm.contacts c where c.id = p_contact_id for update;
  if not found then
    select e.id into erasure from privacy.erasures e where e.local_id = p_contact_id;
    if erasure is not null then
      return erasure;
    end if;
    raise exception 'contact % does not exist', p_contact_id using errcode = 'P0002';
  end if;
  needles := privacy._identifiers(person);
  -- Marks this transaction's writes as the erasure: audit entries record
  -- no values, and audit entries may be scrubbed (see audit._reject_change).
  perform set_config('crm_sync.gdpr_erasure', 'on', true);

  insert into privacy.erasures (tenant_id, local_id, requested_by, origin_connection_id)
  values (person.tenant_id, person.id, btrim(p_requested_by), p_origin_connection)
  returning id into erasure;
  insert into privacy.erasure_targets (erasure_id, connection_id, remote_id, status)
  select erasure, m.connection_id, m.remote_id,
         case when m.connection_id = p_origin_connection then 'erased' else 'queued' end
    from sync.identity_map m
   where m.tenant_id = person.tenant_id and m.entity_type = 'contact' and m.local_id = person.id;
  select coalesce(jsonb_agg(jsonb_build_object('connection_id', t.connection_id, 'remote_id', t.remote_id)), '[]')
    into targets from privacy.erasure_targets t where t.erasure_id = erasure;

  -- Activities and tasks about the person lose their text; mentions of the
  -- person elsewhere in the tenant's records are replaced.
  with scrubbed as (
    update crm.activities a set subject = null, body = null
     where a.tenant_id = person.tenant_id and a.contact_id = person.id
    returning a.id
  ), titled as (
    update crm.tasks t set title = 'Erased (GDPR request)'
     where t.tenant_id = person.tenant_id and t.contact_id = person.id
    returning t.id
  )
  select coalesce(array_agg(id), '{}') into linked from (select id from scrubbed union all select id from titled) l;
  update crm.activities a set subject = privacy._scrub(a.subject, needles), body = privacy._scrub(a.body, needles)
   where a.tenant_id = person.tenant_id and (privacy._mentions(a.subject, needles) or privacy._mentions(a.body, needles));
  update crm.tasks t set title = privacy._scrub(t.title, needles)
   where t.tenant_id = person.tenant_id and privacy._mentions(t.title, needles);
  update crm.deals d set name = privacy._scrub(d.name, needles)
   where d.tenant_id = person.tenant_id and privacy._mentions(d.name, needles);

  -- The person's sync state, then the row (its audit entry is the gdpr_deleted tombstone).
  delete from sync.identity_map m where m.tenant_id = person.tenant_id and m.entity_type = 'contact' and m.local_id = person.id;
  delete from sync.pending_references p where p.entity_type = 'contact' and p.local_id = person.id;
  delete from sync.unmapped_values u where u.last_local_id = person.id;
  update sync.identity_map m set base = privacy._scrub_json(m.base, needles)
   where m.tenant_id = person.tenant_id and privacy._mentions(m.base::text, needles);
  delete from crm.contacts c where c.id = person.id;

  -- Queue messages, waiting (q_) and archived (a_), about the person or mentioning them.
  foreach queue_table in array array['q_crm_outbound', 'a_crm_outbound', 'q_crm_inbound', 'a_crm_inbound'] loop
    execute format($q$
      delete from pgmq.%I q
       where privacy._mentions(q.message::text, $1)
          or q.message ->> 'local_id' = $2::text or q.message ->> 'merged_local_id' = $2::text
          or exists (select from jsonb_to_recordset($3) t (connection_id uuid, remote_id text)
                      where q.message ->> 'connection_id' = t.connection_id::text
                        and privacy._event_about(q.message -> 'event', t.remote_id))$q$, queue_table)
      using needles, person.id, targets;
  end loop;

  -- Dead letters about the person go (their work is moot); others lose mentions.
  delete from sync.dead_letters d
   where d.tenant_id = person.tenant_id
     and (d.message ->> 'local_id' = person.id::text
          or exists (select from jsonb_to_recordset(targets) t (connection_id uuid, remote_id text)
                      where d.connection_id = t.connection_id and privacy._event_about(d.message -> 'event', t.remote_id)));
  update sync.dead_letters d set message = privacy._scrub_json(d.message, needles), error = privacy._scrub(d.error, needles)
   where d.tenant_id = person.tenant_id and (privacy._mentions(d.message::text, needles) or privacy._mentions(d.error, needles));
  delete from sync.webhook_receipts r
   where exists (select from jsonb_to_recordset(targets) t (connection_id uuid, remote_id text)
                  where r.connection_id = t.connection_id and r.dedupe_key like 'contact.%|' || t.remote_id || '|%')
      or privacy._mentions(r.dedupe_key, needles);

  -- Audit: the values recorded for the person and its activities and tasks go; mentions elsewhere too.
  update audit.entries e set changes = audit._redact(e.changes)
   where e.tenant_id = person.tenant_id and e.entity_id = any (linked || person.id) and e.changes <> '{}';
  update audit.entries e set changes = privacy._scrub_json(e.changes, needles)
   where e.tenant_id = person.tenant_id and privacy._mentions(e.changes::text, needles);

  -- Each CRM that holds the person erases it too.
  perform pgmq.send_batch('crm_outbound', array(
    select jsonb_build_object('connection_id', t.connection_id, 'entity_type', 'contact', 'local_id', person.id,
                              'remote_id', t.remote_id, 'op', 'erase', 'erasure_id', erasure, 'queued_at', now())
      from privacy.erasure_targets t where t.erasure_id = erasure and t.status = 'queued'));
  update privacy.erasures e set completed_at = now()
   where e.id = erasure and not exists (select from privacy.erasure_targets t where t.erasure_id = erasure and t.status <> 'erased');

  perform set_config('crm_sync.gdpr_erasure', '', true);
  return erasure;
end
$$;

-- The worker's report of remote erasures done. p_erasure_ids: the erasures
-- this connection's CRM confirmed.
create function privacy.record_remote_erasures(p_connection_id uuid, p_erasure_ids uuid[]) returns integer
language plpgsql security definer set search_path = ''
as $$
declare
  recorded integer;
begin
  update privacy.erasure_targets t set status = 'erased', error = null, updated_at = now()
   where t.connection_id = p_connection_id and t.erasure_id = any (p_erasure_ids);
  get diagnostics recorded = row_count;
  update privacy.erasures e set completed_at = now()
   where e.completed_at is null and e.id = any (p_erasure_ids)
     and not exists (select from privacy.erasure_targets t where t.erasure_id = e.id and t.status <> 'erased');
  return recorded;
end
$$;

-- A remote erasure that failed for good lands in sync.dead_letters like any
-- message; its target shows it as failed (with the error) until an operator
-- replays the letter, which queues it again.
create function privacy._track_erasure_letters() returns trigger
language plpgsql security definer set search_path = ''
as $$
begin
  if new.message ->> 'op' is distinct from 'erase' or new.message ->> 'erasure_id' is null then
    return null;
  end if;
  update privacy.erasure_targets t
     set status = case when new.replayed_at is null then 'failed' else 'queued' end,
         error = case when new.replayed_at is null then left(new.error, 1000) end,
         updated_at = now()
   where t.erasure_id = (new.message ->> 'erasure_id')::uuid and t.connection_id = new.connection_id and t.status <> 'erased';
  return null;
end
$$;
create trigger track_erasure_letters after insert or update of replayed_at on sync.dead_letters
  for each row execute function privacy._track_erasure_letters();

-- A CRM record of an erased person that shows up later (a create that was
-- in flight during the erasure finishes and records its remote id) is not
-- mapped: it is erased in that CRM too.
create function privacy._erase_late_mappings() returns trigger
language plpgsql security definer set search_path = ''
as $$
declare
  erasure uuid;
begin
  select e.id into erasure from privacy.erasures e where e.tenant_id = new.tenant_id and e.local_id = new.local_id;
  if erasure is null then
    return new;
  end if;
  insert into privacy.erasure_targets as t (erasure_id, connection_id, remote_id, status)
  values (erasure, new.connection_id, new.remote_id, 'queued')
  on conflict (erasure_id, connection_id) do update set status = 'queued', remote_id = excluded.remote_id, updated_at = now();
  update privacy.erasures e set completed_at = null where e.id = erasure;
  perform pgmq.send('crm_outbound', jsonb_build_object('connection_id', new.connection_id, 'entity_type', 'contact',
    'local_id', new.local_id, 'remote_id', new.remote_id, 'op', 'erase', 'erasure_id', erasure, 'queued_at', now()));
  return null;
end
$$;
create trigger erase_late_mappings before insert on sync.identity_map
  for each row when (new.entity_type = 'contact') execute function privacy._erase_late_mappings();

-- Right of access: everything held about a person, as one JSON document.
create function privacy.export_contact(p_contact_id uuid) returns jsonb
language plpgsql stable security definer set search_path = ''
as $$
declare
  person crm.contacts;
begin
  select * into person from crm.contacts c where c.id = p_contact_id;
  if not found then
    raise exception 'contact % does not exist', p_contact_id using errcode = 'P0002',
      hint = 'an erased contact has nothing left to export; see privacy.erasures';
  end if;
  return jsonb_build_object(
    'exported_at', now(),
    'contact', to_jsonb(person),
    'company', (select to_jsonb(co) from crm.companies co where co.tenant_id = person.tenant_id and co.id = person.company_id),
    'deals', (select coalesce(jsonb_agg(to_jsonb(d) order by d.created_at), '[]') from crm.deals d
               where d.tenant_id = person.tenant_id and d.contact_id = person.id),
    'activities', (select coalesce(jsonb_agg(to_jsonb(a) order by a.occurred_at), '[]') from crm.activities a
                    where a.tenant_id = person.tenant_id and a.contact_id = person.id),
    'tasks', (select coalesce(jsonb_agg(to_jsonb(t) order by t.created_at), '[]') from crm.tasks t
               where t.tenant_id = person.tenant_id and t.contact_id = person.id),
    'crm_records', (select coalesce(jsonb_agg(jsonb_build_object(
                       'provider', c.provider, 'account_id', c.account_id, 'connection_id', c.id, 'remote_id', m.remote_id,
                       'remote_updated_at', m.remote_updated_at, 'synced_values', m.base) order by c.created_at), '[]')
                      from sync.identity_map m join sync.connections c on c.id = m.connection_id
                     where m.tenant_id = person.tenant_id and m.entity_type = 'contact' and m.local_id = person.id),
    'audit', (select coalesce(jsonb_agg(jsonb_build_object(
                 'occurred_at', e.occurred_at, 'action', e.action, 'changes', e.changes, 'source', e.source,
                 'actor_user_id', e.actor_user_id, 'actor_connection_id', e.actor_connection_id) order by e.occurred_at, e.id), '[]')
                from audit.entries e
               where e.tenant_id = person.tenant_id and e.entity_type = 'contact' and e.entity_id = person.id),
    'pending_sync', (select coalesce(jsonb_agg(q.message order by q.msg_id), '[]') from pgmq.q_crm_outbound q
                      where q.message ->> 'local_id' = person.id::text),
    'dead_letters', (select coalesce(jsonb_agg(jsonb_build_object('failed_at', d.failed_at, 'message', d.message, 'error', d.error)
                                               order by d.id), '[]')
                       from sync.dead_letters d where d.tenant_id = person.tenant_id and d.message ->> 'local_id' = person.id::text));
end
$$;

-- A CRM's privacy deletion (HubSpot contact.privacyDeletion) is the same
-- erasure, asked for by that connection: the person leaves every system.
-- Other entity types (no such event today) keep the plain local deletion.
create or replace function sync.apply_remote_erasure(p_connection_id uuid, p_entity_type crm.entity_type, p_remote_id text)
returns uuid
language plpgsql security definer set search_path = ''
as $$
declare
  erased uuid;
  previous_origin text := current_setting('crm_sync.origin_connection', true);
begin
  perform set_config('crm_sync.origin_connection', p_connection_id::text, true);
  select m.local_id into erased from sync.identity_map m
   where m.connection_id = p_connection_id and m.entity_type = p_entity_type and m.remote_id = p_remote_id;
  if erased is not null and p_entity_type = 'contact' then
    perform privacy.erase_contact(erased, format('connection:%s', p_connection_id), p_connection_id);
  elsif erased is not null then
    delete from sync.identity_map m
     where m.connection_id = p_connection_id and m.entity_type = p_entity_type and m.remote_id = p_remote_id;
    delete from sync.pending_references p where p.entity_type = p_entity_type and p.local_id = erased;
    execute format('delete from crm.%I where id = $1', sync._table_of(p_entity_type)) using erased;
  end if;
  perform set_config('crm_sync.origin_connection', coalesce(previous_origin, ''), true);
  return erased;
end
$$;

revoke execute on function privacy._identifiers(crm.contacts), privacy._mentions(text, text[]), privacy._event_about(jsonb, text), privacy._scrub(text, text[]),
  privacy._scrub_json(jsonb, text[]), privacy._track_erasure_letters(), privacy._erase_late_mappings(), privacy.erase_contact(uuid, text, uuid),
  privacy.record_remote_erasures(uuid, uuid[]), privacy.export_contact(uuid) from public;
grant execute on function privacy.erase_contact(uuid, text, uuid), privacy.record_remote_erasures(uuid, uuid[]),
  privacy.export_contact(uuid) to service_role;
