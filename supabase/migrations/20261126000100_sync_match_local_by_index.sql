-- Matching new remote records to local ones by email or domain looked the
-- keys up with a join the planner turned into scans of the tenant's whole
-- table (and of its identity map) once the tenant held tens of thousands of
-- records: every backfill page paid for the table's size. Each key is now
-- looked up on its own through the (tenant, email) / (tenant, domain)
-- index, oldest record first, as before. The planner's guess of how many
-- records share an email is far too high, which made it compile the query
-- (JIT, ~100 ms) on every page: JIT is off for this function.
create or replace function sync.match_local_records(p_connection_id uuid, p_entity_type crm.entity_type, p_keys jsonb)
returns table (remote_id text, local_id uuid, local jsonb, local_updated_at timestamptz)
language plpgsql stable security definer set search_path = '' set jit = off
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
     cross join lateral (
       select t.* from crm.%I t
        where t.tenant_id = $2 and %s = lower(k.key) and t.deleted_at is null
          and not exists (select from sync.identity_map m
                           where m.connection_id = $3 and m.entity_type = $4 and m.local_id = t.id)
        order by t.created_at
        limit 1) t
     order by k.key, t.created_at$q$, sync._table_of(p_entity_type), key_expr)
    using p_keys, tenant, p_connection_id, p_entity_type;
end
$$;
