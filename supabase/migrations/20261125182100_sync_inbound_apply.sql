-- Inbound apply: the worker reads the state of a batch (load_inbound_state,
-- match_local_records), decides per field in TypeScript (the conflict
-- resolver), and applies the decisions here in one transaction. Every apply
-- is guarded: a remote version not newer than the one already applied is
-- "stale" (late or duplicate event), and a local row that changed since it
-- was read is "retry" (the worker reads again). Local writes made here are
-- marked with the connection as their origin, so the outbound trigger does
-- not send them back to that CRM.

create function sync.load_inbound_state(p_connection_id uuid, p_entity_type crm.entity_type, p_remote_ids text[])
returns table (remote_id text, local_id uuid, remote_updated_at timestamptz, base jsonb, base_references jsonb,
               local jsonb, local_updated_at timestamptz, local_deleted boolean)
language plpgsql stable security definer set search_path = ''
as $$
begin
  return query execute format($q$
    select w.remote_id, m.local_id, m.remote_updated_at, coalesce(m.base, '{}'::jsonb),
           coalesce(m.base_references, '{}'::jsonb), to_jsonb(t), t.updated_at, t.deleted_at is not null
      from unnest($1::text[]) as w (remote_id)
      left join sync.identity_map m
        on m.connection_id = $2 and m.entity_type = $3 and m.remote_id = w.remote_id
      left join crm.%I t on t.id = m.local_id$q$, sync._table_of(p_entity_type))
    using p_remote_ids, p_connection_id, p_entity_type;
end
$$;

-- Local records that a new remote record should attach to instead of being
-- created twice: contacts by email, companies by domain, never a record
-- already mapped to another remote record of this connection.
-- p_keys: {"<remote_id>": "<email or domain>"}.
create function sync.match_local_records(p_connection_id uuid, p_entity_type crm.entity_type, p_keys jsonb)
returns table (remote_id text, local_id uuid, local jsonb, local_updated_at timestamptz)
language plpgsql stable security definer set search_path = ''
as $$
declare
  tenant uuid;
  key_expr text := case p_entity_type when 'contact' then 'lower(t.email)' when 'company' then 't.domain' end;
begin
  if key_expr is null then
    return;
  end if;
  select c.tenant_id into tenant from sync.connections c where c.id = p_connection_id;
  return query execute format($q$
    select distinct on (k.key) k.remote_id, t.id, to_jsonb(t), t.updated_at
      from jsonb_each_text($1) as k (remote_id, key)
      join crm.%I t on t.tenant_id = $2 and %s = lower(k.key) and t.deleted_at is null
     where not exists (select from sync.identity_map m
                        where m.connection_id = $3 and m.entity_type = $4 and m.local_id = t.id)
     order by k.key, t.created_at$q$, sync._table_of(p_entity_type), key_expr)
    using p_keys, tenant, p_connection_id, p_entity_type;
end
$$;

-- Applies inbound decisions. p_changes is an array of
--   { remote_id, remote_updated_at, local_id?, expected_local_updated_at?,
--     set: {column: value}, base: {...}, references: {company: remote_id|null},
--     deleted?: bool, restore?: bool }
-- local_id with no identity row means "attach to this matched local record".
-- Returns one row per change: outcome created | updated | matched | deleted |
-- stale | retry.
create function sync.apply_inbound_changes(p_connection_id uuid, p_entity_type crm.entity_type, p_changes jsonb)
returns table (remote_id text, local_id uuid, outcome text)
language plpgsql security definer set search_path = ''
as $$
declare
  tenant uuid;
  tbl constant text := sync._table_of(p_entity_type);
  allowed constant text[] := sync._synced_columns(p_entity_type);
  ch jsonb;
  mapped record;
  cols text[];
  target uuid;
  current_updated timestamptz;
  ref text;
  ref_remote text;
  ref_local uuid;
  incoming_version timestamptz;
  previous_origin text;
begin
  select c.tenant_id into tenant from sync.connections c where c.id = p_connection_id;
  if tenant is null then
    raise exception 'connection % does not exist', p_connection_id using errcode = 'P0002';
  end if;
  -- Writes below come from this connection; the previous origin is put back at the end.
  previous_origin := current_setting('crm_sync.origin_connection', true);
  perform set_config('crm_sync.origin_connection', p_connection_id::text, true);

  for ch in select value from jsonb_array_elements(p_changes) loop
    remote_id := ch ->> 'remote_id';
    incoming_version := (ch ->> 'remote_updated_at')::timestamptz;
    select m.local_id, m.remote_updated_at into mapped
      from sync.identity_map m
     where m.connection_id = p_connection_id and m.entity_type = p_entity_type and m.remote_id = ch ->> 'remote_id'
       for update;

    if mapped.local_id is not null and mapped.remote_updated_at >= incoming_version then
      local_id := mapped.local_id; outcome := 'stale';
      return next;
      continue;
    end if;

    select array_agg(k order by k) into cols
      from jsonb_object_keys(coalesce(ch -> 'set', '{}')) k where k = any (allowed);
    cols := coalesce(cols, array[]::text[]);
    target := coalesce(mapped.local_id, (ch ->> 'local_id')::uuid);

    if target is not null then
      execute format('select updated_at from crm.%I where id = $1 for update', tbl) into current_updated using target;
      if current_updated is null then
        -- The local record is gone (hard-deleted); forget the mapping and start over.
        delete from sync.identity_map m where m.connection_id = p_connection_id and m.entity_type = p_entity_type
          and m.local_id = target;
        target := null;
      elsif ch ? 'expected_local_updated_at'
            and date_trunc('milliseconds', current_updated)
                <> date_trunc('milliseconds', (ch ->> 'expected_local_updated_at')::timestamptz) then
        -- (compared to the millisecond: the worker's clients carry no finer time)
        local_id := target; outcome := 'retry';
        return next;
        continue;
      end if;
    end if;

    if coalesce((ch ->> 'deleted')::boolean, false) then
      if target is not null then
        execute format('update crm.%I set deleted_at = coalesce(deleted_at, now()) where id = $1', tbl) using target;
        update sync.identity_map m set remote_updated_at = incoming_version, remote_deleted_at = incoming_version
         where m.connection_id = p_connection_id and m.entity_type = p_entity_type and m.local_id = target;
      end if;
      local_id := target; outcome := 'deleted';
      return next;
      continue;
    end if;

    if target is null then
      execute format('insert into crm.%I (tenant_id%s) select $1%s from jsonb_populate_record(null::crm.%I, $2) r returning id',
        tbl,
        (select coalesce(string_agg(', ' || quote_ident(c), ''), '') from unnest(cols) c),
        (select coalesce(string_agg(', r.' || quote_ident(c), ''), '') from unnest(cols) c),
        tbl) into target using tenant, ch -> 'set';
      outcome := 'created';
    else
      if cardinality(cols) > 0 then
        execute format('update crm.%I t set (%s) = (select %s from jsonb_populate_record(null::crm.%I, $2) r) where t.id = $1',
          tbl,
          (select string_agg(quote_ident(c), ', ') from unnest(cols) c),
          (select string_agg('r.' || quote_ident(c), ', ') from unnest(cols) c),
          tbl) using target, ch -> 'set';
      end if;
      if coalesce((ch ->> 'restore')::boolean, false) then
        execute format('update crm.%I set deleted_at = null where id = $1 and deleted_at is not null', tbl) using target;
      end if;
      outcome := case when mapped.local_id is null then 'matched' else 'updated' end;
    end if;

    insert into sync.identity_map as m (connection_id, tenant_id, entity_type, remote_id, local_id, remote_updated_at,
                                        base, base_references, remote_deleted_at)
    values (p_connection_id, tenant, p_entity_type, ch ->> 'remote_id', target, incoming_version,
            coalesce(ch -> 'base', '{}'), coalesce(ch -> 'references', '{}'), null)
    on conflict on constraint identity_map_pkey do update
      set remote_updated_at = excluded.remote_updated_at, base = excluded.base,
          base_references = excluded.base_references, remote_deleted_at = null;

    -- References: point at the local record of each referenced remote id, or
    -- remember the reference until that record arrives.
    for ref in select unnest(sync._references_of(p_entity_type)) loop
      continue when not (coalesce(ch -> 'references', '{}') ? ref);
      ref_remote := ch -> 'references' ->> ref;
      ref_local := null;
      if ref_remote is not null then
        select m.local_id into ref_local from sync.identity_map m
         where m.connection_id = p_connection_id and m.entity_type = ref::crm.entity_type and m.remote_id = ref_remote;
      end if;
      execute format('update crm.%I set %I = $2 where id = $1 and %I is distinct from $2', tbl, ref || '_id', ref || '_id')
        using target, ref_local;
      if ref_remote is not null and ref_local is null then
        insert into sync.pending_references (connection_id, entity_type, local_id, reference, target_remote_id)
        values (p_connection_id, p_entity_type, target, ref, ref_remote)
        on conflict on constraint pending_references_pkey do update set target_remote_id = excluded.target_remote_id;
      else
        delete from sync.pending_references p where p.connection_id = p_connection_id and p.entity_type = p_entity_type
          and p.local_id = target and p.reference = ref;
      end if;
    end loop;

    -- Records that were waiting for this one now point at it.
    perform sync._resolve_pending_references(p_connection_id, p_entity_type, ch ->> 'remote_id', target);

    local_id := target;
    return next;
  end loop;
  perform set_config('crm_sync.origin_connection', coalesce(previous_origin, ''), true);
end
$$;

create function sync._resolve_pending_references(p_connection_id uuid, p_target_type crm.entity_type,
                                                  p_target_remote_id text, p_target_local_id uuid)
returns void
language plpgsql security definer set search_path = ''
as $$
declare
  waiting record;
begin
  for waiting in
    delete from sync.pending_references p
     where p.connection_id = p_connection_id and p.reference = p_target_type::text and p.target_remote_id = p_target_remote_id
    returning p.entity_type, p.local_id, p.reference
  loop
    execute format('update crm.%I set %I = $2 where id = $1', sync._table_of(waiting.entity_type), waiting.reference || '_id')
      using waiting.local_id, p_target_local_id;
  end loop;
end
$$;

revoke execute on function sync.load_inbound_state(uuid, crm.entity_type, text[]),
  sync.match_local_records(uuid, crm.entity_type, jsonb),
  sync.apply_inbound_changes(uuid, crm.entity_type, jsonb),
  sync._resolve_pending_references(uuid, crm.entity_type, text, uuid) from public;
grant execute on function sync.load_inbound_state(uuid, crm.entity_type, text[]),
  sync.match_local_records(uuid, crm.entity_type, jsonb),
  sync.apply_inbound_changes(uuid, crm.entity_type, jsonb) to service_role;
