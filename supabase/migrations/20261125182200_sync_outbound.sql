-- Outbound: local changes to the crm tables are queued on crm_outbound for
-- every enabled connection of the tenant that syncs that entity type, one
-- pgmq.send_batch per statement. A change the engine applied on behalf of a
-- connection (crm_sync.origin_connection) is not queued for that connection:
-- no echo back to the CRM it came from; other connections still get it.

-- Whether a connection syncs an entity type (settings.entities, or the
-- provider's defaults: tasks stay local unless asked for).
create function sync._connection_syncs(p_settings jsonb, p_entity_type text) returns boolean
language sql immutable set search_path = ''
as $$
  select case
    when p_settings ? 'entities' then p_settings -> 'entities' ? p_entity_type
    else p_entity_type in ('contact', 'company', 'deal', 'activity')
  end
$$;

create function sync._enqueue_local_changes() returns trigger
language plpgsql security definer set search_path = ''
as $$
declare
  entity constant text := tg_argv[0];
  origin constant text := nullif(current_setting('crm_sync.origin_connection', true), '');
  messages jsonb[];
begin
  if tg_op = 'DELETE' then
    select array_agg(jsonb_build_object('connection_id', c.id, 'entity_type', entity, 'local_id', o.id,
                                        'op', 'delete', 'queued_at', now()))
      into messages
      from old_rows o
      join sync.connections c on c.tenant_id = o.tenant_id and c.enabled
     where c.id::text is distinct from origin and sync._connection_syncs(c.settings, entity);
  else
    select array_agg(jsonb_build_object('connection_id', c.id, 'entity_type', entity, 'local_id', n.id,
                                        'op', 'upsert', 'queued_at', now()))
      into messages
      from new_rows n
      join sync.connections c on c.tenant_id = n.tenant_id and c.enabled
     where c.id::text is distinct from origin and sync._connection_syncs(c.settings, entity);
  end if;
  if messages is not null then
    perform pgmq.send_batch('crm_outbound', messages);
  end if;
  return null;
end
$$;
revoke execute on function sync._connection_syncs(jsonb, text), sync._enqueue_local_changes() from public;

do $$
declare
  entity text;
  tbl text;
begin
  foreach entity in array array['contact', 'company', 'deal', 'activity', 'task'] loop
    tbl := sync._table_of(entity::crm.entity_type);
    execute format('create trigger enqueue_inserts after insert on crm.%I referencing new table as new_rows
                    for each statement execute function sync._enqueue_local_changes(%L)', tbl, entity);
    execute format('create trigger enqueue_updates after update on crm.%I referencing new table as new_rows
                    for each statement execute function sync._enqueue_local_changes(%L)', tbl, entity);
    execute format('create trigger enqueue_deletes after delete on crm.%I referencing old table as old_rows
                    for each statement execute function sync._enqueue_local_changes(%L)', tbl, entity);
  end loop;
end
$$;

-- The state the outbound worker needs per local record: the row (null when
-- hard-deleted), the remote id and shadow, and each reference as the remote
-- id of the referenced record in this connection ('' when the referenced
-- record is not in that CRM yet; the worker sends it first).
create function sync.load_outbound_state(p_connection_id uuid, p_entity_type crm.entity_type, p_local_ids uuid[])
returns table (local_id uuid, local jsonb, local_updated_at timestamptz, remote_id text, remote_deleted boolean,
               base jsonb, base_references jsonb, local_references jsonb)
language plpgsql stable security definer set search_path = ''
as $$
declare
  refs text := coalesce((
    select string_agg(format(
      '%L, case when t.%I is null then null else coalesce((select r.remote_id from sync.identity_map r
          where r.connection_id = $2 and r.entity_type = %L and r.local_id = t.%I), %L) end',
      ref, ref || '_id', ref, ref || '_id', ''), ', ')
      from unnest(sync._references_of(p_entity_type)) ref), '');
begin
  return query execute format($q$
    select w.id, to_jsonb(t), t.updated_at, m.remote_id, m.remote_deleted_at is not null, coalesce(m.base, '{}'::jsonb),
           coalesce(m.base_references, '{}'::jsonb), %s
      from unnest($1::uuid[]) as w (id)
      left join crm.%I t on t.id = w.id
      left join sync.identity_map m on m.connection_id = $2 and m.entity_type = $3 and m.local_id = w.id$q$,
    case when refs = '' then $e$'{}'::jsonb$e$ else format('case when t.id is null then null else jsonb_build_object(%s) end', refs) end,
    sync._table_of(p_entity_type))
    using p_local_ids, p_connection_id, p_entity_type;
end
$$;

-- Records what the CRM now holds after the worker's writes. p_results:
-- [{local_id, remote_id, remote_updated_at, base, base_references, deleted?}].
-- A create inserts the identity row; an update replaces the shadow.
create function sync.record_outbound_results(p_connection_id uuid, p_entity_type crm.entity_type, p_results jsonb)
returns integer
language plpgsql security definer set search_path = ''
as $$
declare
  tenant uuid;
  recorded integer;
begin
  select c.tenant_id into tenant from sync.connections c where c.id = p_connection_id;
  if tenant is null then
    raise exception 'connection % does not exist', p_connection_id using errcode = 'P0002';
  end if;
  insert into sync.identity_map as m (connection_id, tenant_id, entity_type, remote_id, local_id, remote_updated_at,
                                      base, base_references, remote_deleted_at)
  select p_connection_id, tenant, p_entity_type, r ->> 'remote_id', (r ->> 'local_id')::uuid,
         (r ->> 'remote_updated_at')::timestamptz, coalesce(r -> 'base', '{}'), coalesce(r -> 'base_references', '{}'),
         case when (r ->> 'deleted')::boolean then coalesce((r ->> 'remote_updated_at')::timestamptz, now()) end
    from jsonb_array_elements(p_results) r
  on conflict (connection_id, entity_type, remote_id) do update
    set local_id = excluded.local_id,
        remote_updated_at = greatest(m.remote_updated_at, excluded.remote_updated_at),
        base = excluded.base, base_references = excluded.base_references,
        remote_deleted_at = excluded.remote_deleted_at;
  get diagnostics recorded = row_count;
  return recorded;
end
$$;

revoke execute on function sync.load_outbound_state(uuid, crm.entity_type, uuid[]),
  sync.record_outbound_results(uuid, crm.entity_type, jsonb) from public;
grant execute on function sync.load_outbound_state(uuid, crm.entity_type, uuid[]),
  sync.record_outbound_results(uuid, crm.entity_type, jsonb) to service_role;
