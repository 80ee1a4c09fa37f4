-- Merges made in the app: public.merge_records folds one local record into
-- another (references repointed, the merged record soft-deleted), and every
-- CRM that holds both records is asked to merge them too, so the merge is not
-- sent as an archive of the merged record.
--
-- Per enabled connection of the tenant:
--   both records mapped      → one outbound {op: 'merge', local_id: survivor, merged_local_id: merged}; the merged
--                              record's identity row is marked remote_deleted_at, so no archive goes out for it;
--   only the merged mapped   → the survivor takes over that identity row (the remote record becomes the survivor's)
--                              and is queued, so its values reach that record;
--   otherwise                → nothing beyond the usual outbound of the changed rows.
-- After the CRM merged them, the worker drops the merged record's identity
-- row (sync.record_remote_merge), so the CRM's merge webhook changes nothing.

-- The part of a merge that RLS does not cover (references in every table,
-- the identity map, the outbound queue). Called by merge_records after the
-- merged record was soft-deleted; it checks the caller's tenant itself.
create function sync._apply_local_merge(p_entity_type crm.entity_type, p_survivor uuid, p_merged uuid)
returns void
language plpgsql security definer set search_path = ''
as $$
declare
  caller_role text := coalesce(nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role', '');
  caller_tenant uuid := crm.current_tenant_id();
  survivor_tenant uuid;
  merged_tenant uuid;
  survivor_deleted boolean;
  merged_deleted boolean;
  ref record;
  messages jsonb[];
begin
  if p_entity_type not in ('contact', 'company', 'deal') then
    raise exception 'merge_records: % records cannot be merged (contact, company or deal)', p_entity_type using errcode = '22023';
  end if;
  execute format('select tenant_id, deleted_at is not null from crm.%I where id = $1', sync._table_of(p_entity_type))
    into survivor_tenant, survivor_deleted using p_survivor;
  execute format('select tenant_id, deleted_at is not null from crm.%I where id = $1', sync._table_of(p_entity_type))
    into merged_tenant, merged_deleted using p_merged;
  if survivor_tenant is null or merged_tenant is null then
    raise exception 'merge_records: % % or % does not exist', p_entity_type, p_survivor, p_merged using errcode = 'P0002';
  end if;
  if survivor_tenant <> merged_tenant then
    raise exception 'merge_records: % and % belong to different tenants', p_survivor, p_merged using errcode = '22023';
  end if;
  if caller_tenant is distinct from survivor_tenant and (caller_tenant is not null or caller_role not in ('', 'service_role')) then
    raise exception 'merge_records: not a member of the tenant of %', p_survivor using errcode = '42501';
  end if;
  if survivor_deleted or not merged_deleted then
    raise exception 'merge_records: the survivor must be live and the merged record soft-deleted' using errcode = '55000';
  end if;

  for ref in select * from sync._reference_columns_to(p_entity_type) loop
    execute format('update crm.%I set %I = $1 where %I = $2 and tenant_id = $3', ref.table_name, ref.column_name, ref.column_name)
      using p_survivor, p_merged, survivor_tenant;
  end loop;

  -- Both mapped in an enabled connection that syncs the type: the CRM merges them.
  with both_mapped as (
    select c.id as connection_id
      from sync.connections c
      join sync.identity_map s on s.connection_id = c.id and s.entity_type = p_entity_type and s.local_id = p_survivor
      join sync.identity_map m on m.connection_id = c.id and m.entity_type = p_entity_type and m.local_id = p_merged
     where c.tenant_id = survivor_tenant and c.enabled and sync._connection_syncs(c.settings, p_entity_type::text)
       and s.remote_deleted_at is null and m.remote_deleted_at is null
  ), marked as (
    update sync.identity_map m set remote_deleted_at = now()
      from both_mapped b
     where m.connection_id = b.connection_id and m.entity_type = p_entity_type and m.local_id = p_merged
    returning m.connection_id
  )
  select array_agg(jsonb_build_object('connection_id', connection_id, 'entity_type', p_entity_type, 'local_id', p_survivor,
                                      'merged_local_id', p_merged, 'op', 'merge', 'queued_at', now()))
    into messages from marked;
  if messages is not null then
    perform pgmq.send_batch('crm_outbound', messages);
  end if;

  -- Only the merged one mapped: its remote record becomes the survivor's.
  with taken as (
    update sync.identity_map m set local_id = p_survivor
     where m.tenant_id = survivor_tenant and m.entity_type = p_entity_type and m.local_id = p_merged
       and m.remote_deleted_at is null
       and not exists (select 1 from sync.identity_map s
                        where s.connection_id = m.connection_id and s.entity_type = p_entity_type and s.local_id = p_survivor)
    returning m.connection_id
  )
  select array_agg(jsonb_build_object('connection_id', c.id, 'entity_type', p_entity_type, 'local_id', p_survivor,
                                      'op', 'upsert', 'queued_at', now()))
    into messages
    from taken t join sync.connections c on c.id = t.connection_id
   where c.enabled and sync._connection_syncs(c.settings, p_entity_type::text);
  if messages is not null then
    perform pgmq.send_batch('crm_outbound', messages);
  end if;
end
$$;

create function public.merge_records(p_entity_type text, p_survivor uuid, p_merged uuid)
returns uuid
language plpgsql security invoker set search_path = ''
as $$
declare
  entity crm.entity_type;
  tbl text;
  survivor_tenant uuid;
  merged_tenant uuid;
  survivor_deleted timestamptz;
  merged_deleted timestamptz;
begin
  if p_entity_type is null or p_entity_type not in ('contact', 'company', 'deal') then
    raise exception 'merge_records: unknown entity type % (contact, company or deal)', coalesce(p_entity_type, 'null')
      using errcode = '22023';
  end if;
  if p_survivor is null or p_merged is null then
    raise exception 'merge_records: both record ids are required' using errcode = '22004';
  end if;
  if p_survivor = p_merged then
    raise exception 'merge_records: a record cannot be merged into itself (%)', p_survivor using errcode = '22023';
  end if;
  entity := p_entity_type::crm.entity_type;
  tbl := case p_entity_type when 'contact' then 'contacts' when 'company' then 'companies' else 'deals' end;

  -- Read under the caller's RLS: a record of another tenant is not found.
  execute format('select tenant_id, deleted_at from crm.%I where id = $1 for update', tbl)
    into survivor_tenant, survivor_deleted using p_survivor;
  if survivor_tenant is null then
    raise exception 'merge_records: % % not found', p_entity_type, p_survivor using errcode = 'P0002';
  end if;
  execute format('select tenant_id, deleted_at from crm.%I where id = $1 for update', tbl)
    into merged_tenant, merged_deleted using p_merged;
  if merged_tenant is null then
    raise exception 'merge_records: % % not found', p_entity_type, p_merged using errcode = 'P0002';
  end if;
  if survivor_tenant <> merged_tenant then
    raise exception 'merge_records: % and % belong to different tenants', p_survivor, p_merged using errcode = '22023';
  end if;
  if survivor_deleted is not null or merged_deleted is not null then
    raise exception 'merge_records: % % is already deleted', p_entity_type,
      case when survivor_deleted is not null then p_survivor else p_merged end using errcode = '55000';
  end if;

  execute format('update crm.%I set deleted_at = now() where id = $1', tbl) using p_merged;
  perform sync._apply_local_merge(entity, p_survivor, p_merged);
  return p_survivor;
end
$$;

-- After the CRM merged two records: the merged record's identity row goes,
-- so the CRM's merge webhook finds nothing to do.
create function sync.record_remote_merge(p_connection_id uuid, p_entity_type crm.entity_type, p_merged_remote_id text)
returns boolean
language sql security definer set search_path = ''
as $$
  with gone as (
    delete from sync.identity_map m
     where m.connection_id = p_connection_id and m.entity_type = p_entity_type and m.remote_id = p_merged_remote_id
    returning 1
  )
  select exists (select 1 from gone)
$$;

revoke execute on function sync._apply_local_merge(crm.entity_type, uuid, uuid),
  public.merge_records(text, uuid, uuid),
  sync.record_remote_merge(uuid, crm.entity_type, text) from public, anon, authenticated;
grant execute on function sync._apply_local_merge(crm.entity_type, uuid, uuid),
  public.merge_records(text, uuid, uuid) to authenticated, service_role;
grant execute on function sync.record_remote_merge(uuid, crm.entity_type, text) to service_role;
