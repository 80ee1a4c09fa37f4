-- Two workers may apply the same remote record at once (HubSpot and
-- Pipedrive deliver events twice, and a backfill page can overlap a
-- webhook). The row lock in the apply only serializes records that are
-- already mapped: for a new remote record both workers would insert a local
-- record, and the loser's would be left unmapped (a duplicate). The apply now
-- first takes a transaction lock per remote record, in remote id order so
-- two batches never wait on each other in a cycle. A change decided as new
-- (expected_unmapped) whose record another worker mapped in the meantime is answered "retry":
-- the worker reads the state again and resolves against the mapped record.

alter function sync.apply_inbound_changes(uuid, crm.entity_type, jsonb) rename to _apply_inbound_changes_locked;
revoke execute on function sync._apply_inbound_changes_locked(uuid, crm.entity_type, jsonb) from service_role;

create function sync.apply_inbound_changes(p_connection_id uuid, p_entity_type crm.entity_type, p_changes jsonb)
returns table (remote_id text, local_id uuid, outcome text)
language plpgsql security definer set search_path = ''
as $$
declare
  key text;
  mapped_meanwhile text[];
begin
  for key in
    select distinct c.value ->> 'remote_id' from jsonb_array_elements(p_changes) c order by 1
  loop
    perform pg_advisory_xact_lock(hashtextextended(p_connection_id::text || '/' || p_entity_type::text || '/' || key, 0));
  end loop;

  select coalesce(array_agg(c.value ->> 'remote_id'), array[]::text[]) into mapped_meanwhile
    from jsonb_array_elements(p_changes) c
    join sync.identity_map m
      on m.connection_id = p_connection_id and m.entity_type = p_entity_type and m.remote_id = c.value ->> 'remote_id'
   where (c.value ->> 'expected_unmapped')::boolean
     and m.remote_updated_at < (c.value ->> 'remote_updated_at')::timestamptz;

  return query
    select m.remote_id, m.local_id, 'retry'::text
      from sync.identity_map m
     where m.connection_id = p_connection_id and m.entity_type = p_entity_type and m.remote_id = any (mapped_meanwhile);
  return query
    select r.remote_id, r.local_id, r.outcome
      from sync._apply_inbound_changes_locked(p_connection_id, p_entity_type,
             (select coalesce(jsonb_agg(c.value), '[]'::jsonb) from jsonb_array_elements(p_changes) c
               where not (c.value ->> 'remote_id' = any (mapped_meanwhile)))) r;
end
$$;

revoke execute on function sync.apply_inbound_changes(uuid, crm.entity_type, jsonb) from public;
grant execute on function sync.apply_inbound_changes(uuid, crm.entity_type, jsonb) to service_role;
