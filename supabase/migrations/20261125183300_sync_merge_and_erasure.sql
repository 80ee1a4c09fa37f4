-- Merges and privacy deletions sent by a CRM.
--
-- A merge folds records into a primary one: the local record of the primary
-- survives (or, if only a merged record was known locally, that record takes
-- the primary's remote id), references to the other local records are
-- repointed to it, and those records are soft-deleted. Because the merge
-- happened in this CRM, the deletions are not sent back to it; other CRMs
-- of the tenant do receive them.

create function sync._reference_columns_to(p_entity_type crm.entity_type)
returns table (table_name text, column_name text)
language sql immutable set search_path = ''
as $$
  select t, case p_entity_type when 'contact' then 'contact_id' when 'company' then 'company_id' when 'deal' then 'deal_id' end
    from unnest(case p_entity_type
      when 'contact' then array['deals', 'activities', 'tasks']
      when 'company' then array['contacts', 'deals', 'activities', 'tasks']
      when 'deal' then array['activities', 'tasks']
      else array[]::text[] end) t
$$;

create function sync.apply_remote_merge(p_connection_id uuid, p_entity_type crm.entity_type,
                                        p_primary_remote_id text, p_merged_remote_ids text[])
returns uuid
language plpgsql security definer set search_path = ''
as $$
declare
  tenant uuid;
  survivor uuid;
  loser uuid;
  ref record;
  previous_origin text := current_setting('crm_sync.origin_connection', true);
begin
  select c.tenant_id into tenant from sync.connections c where c.id = p_connection_id;
  if tenant is null then
    raise exception 'connection % does not exist', p_connection_id using errcode = 'P0002';
  end if;
  perform set_config('crm_sync.origin_connection', p_connection_id::text, true);

  select m.local_id into survivor from sync.identity_map m
   where m.connection_id = p_connection_id and m.entity_type = p_entity_type and m.remote_id = p_primary_remote_id;
  if survivor is null then
    -- Only a merged record is known here: it becomes the primary's record.
    update sync.identity_map m set remote_id = p_primary_remote_id
     where (m.connection_id, m.entity_type, m.remote_id) = (
       select m2.connection_id, m2.entity_type, m2.remote_id from sync.identity_map m2
        where m2.connection_id = p_connection_id and m2.entity_type = p_entity_type
          and m2.remote_id = any (p_merged_remote_ids)
        order by array_position(p_merged_remote_ids, m2.remote_id) limit 1)
    returning m.local_id into survivor;
  end if;

  for loser in
    delete from sync.identity_map m
     where m.connection_id = p_connection_id and m.entity_type = p_entity_type
       and m.remote_id = any (p_merged_remote_ids) and m.remote_id <> p_primary_remote_id
    returning m.local_id
  loop
    continue when loser = survivor or survivor is null;
    for ref in select * from sync._reference_columns_to(p_entity_type) loop
      execute format('update crm.%I set %I = $1 where %I = $2', ref.table_name, ref.column_name, ref.column_name)
        using survivor, loser;
    end loop;
    execute format('update crm.%I set deleted_at = coalesce(deleted_at, now()) where id = $1', sync._table_of(p_entity_type))
      using loser;
  end loop;

  perform set_config('crm_sync.origin_connection', coalesce(previous_origin, ''), true);
  return survivor;
end
$$;

-- A CRM's privacy deletion (HubSpot contact.privacyDeletion): the local
-- record is erased, not soft-deleted, and this connection's mapping and
-- shadow (which hold personal data) go with it. Other connections are told
-- through the outbound queue (a delete), so the person leaves every system.
-- The full GDPR workflow (tombstones, audit scrubbing) builds on this.
create function sync.apply_remote_erasure(p_connection_id uuid, p_entity_type crm.entity_type, p_remote_id text)
returns uuid
language plpgsql security definer set search_path = ''
as $$
declare
  erased uuid;
  previous_origin text := current_setting('crm_sync.origin_connection', true);
begin
  perform set_config('crm_sync.origin_connection', p_connection_id::text, true);
  delete from sync.identity_map m
   where m.connection_id = p_connection_id and m.entity_type = p_entity_type and m.remote_id = p_remote_id
  returning m.local_id into erased;
  if erased is not null then
    delete from sync.pending_references p where p.entity_type = p_entity_type and p.local_id = erased;
    execute format('delete from crm.%I where id = $1', sync._table_of(p_entity_type)) using erased;
  end if;
  perform set_config('crm_sync.origin_connection', coalesce(previous_origin, ''), true);
  return erased;
end
$$;

revoke execute on function sync._reference_columns_to(crm.entity_type),
  sync.apply_remote_merge(uuid, crm.entity_type, text, text[]),
  sync.apply_remote_erasure(uuid, crm.entity_type, text) from public;
grant execute on function sync.apply_remote_merge(uuid, crm.entity_type, text, text[]),
  sync.apply_remote_erasure(uuid, crm.entity_type, text) to service_role;
