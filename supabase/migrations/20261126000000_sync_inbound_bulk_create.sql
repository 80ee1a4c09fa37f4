-- New remote records in bulk. A backfill page is almost all records the
-- engine has never seen; applying them one at a time (a dynamic INSERT, an
-- identity row, a reference lookup and a pending-reference check each) made
-- the database the bound of a backfill at about 600 records/s. Changes that
-- only create (not mapped, not matched to a local record, not a deletion, the
-- remote id once in the batch) are now written by one INSERT per column set,
-- one identity INSERT and one pass over references; every other change takes
-- the row-by-row path as before. Triggers see the same rows either way (the
-- audit and outbound triggers are per statement already).

create function sync._create_inbound_records(p_connection_id uuid, p_entity_type crm.entity_type, p_changes jsonb)
returns table (remote_id text, local_id uuid, outcome text)
language plpgsql security definer set search_path = ''
as $$
declare
  tenant uuid;
  tbl constant text := sync._table_of(p_entity_type);
  allowed constant text[] := sync._synced_columns(p_entity_type);
  refs constant text[] := sync._references_of(p_entity_type);
  creates jsonb;
  col_set record;
  ref_cols text;
  ref_values text;
  ref_joins text;
  waiting record;
  previous_origin text;
begin
  select c.tenant_id into tenant from sync.connections c where c.id = p_connection_id;
  if tenant is null then
    raise exception 'connection % does not exist', p_connection_id using errcode = 'P0002';
  end if;
  previous_origin := current_setting('crm_sync.origin_connection', true);
  perform set_config('crm_sync.origin_connection', p_connection_id::text, true);

  -- Each new record gets its local id here, so the rows, identity rows and references can be joined by it.
  select coalesce(jsonb_agg(c.value || jsonb_build_object('new_local_id', gen_random_uuid(),
           'cols', (select coalesce(jsonb_agg(k order by k), '[]') from jsonb_object_keys(coalesce(c.value -> 'set', '{}')) k
                     where k = any (allowed)))), '[]')
    into creates
    from jsonb_array_elements(p_changes) c;

  -- The references a new record carries, resolved against the identity map in the same statement.
  -- (Lookups by key are written as LATERAL ... LIMIT 1 throughout, so the planner probes the map's
  -- primary key per record instead of hashing the whole map, whatever its size.)
  select coalesce(string_agg(format(', %I', r || '_id'), ''), ''),
         coalesce(string_agg(format(', m_%s.local_id', r), ''), ''),
         coalesce(string_agg(format(
           ' left join lateral (select m.local_id from sync.identity_map m where m.connection_id = $3 and m.entity_type = %2$L'
           ' and m.remote_id = c.value -> ''references'' ->> %2$L limit 1) m_%1$s on true', r, r), ''), '')
    into ref_cols, ref_values, ref_joins
    from unnest(refs) r;

  -- One INSERT per set of columns (a page of one CRM usually has one): a column a change does not set keeps its default.
  for col_set in select distinct c.value -> 'cols' as cols from jsonb_array_elements(creates) c loop
    execute format(
      'insert into crm.%1$I (id, tenant_id%2$s%3$s)
       select (c.value ->> ''new_local_id'')::uuid, $1%4$s%5$s
         from jsonb_array_elements($2) c
        cross join lateral jsonb_populate_record(null::crm.%1$I, c.value -> ''set'') r%6$s
        where c.value -> ''cols'' = $4',
      tbl,
      (select coalesce(string_agg(', ' || quote_ident(k), ''), '') from jsonb_array_elements_text(col_set.cols) k),
      ref_cols,
      (select coalesce(string_agg(', r.' || quote_ident(k), ''), '') from jsonb_array_elements_text(col_set.cols) k),
      ref_values,
      ref_joins)
      using tenant, creates, p_connection_id, col_set.cols;
  end loop;

  insert into sync.identity_map as m (connection_id, tenant_id, entity_type, remote_id, local_id, remote_updated_at,
                                      base, base_references, remote_deleted_at)
  select p_connection_id, tenant, p_entity_type, c.value ->> 'remote_id', (c.value ->> 'new_local_id')::uuid,
         (c.value ->> 'remote_updated_at')::timestamptz, coalesce(c.value -> 'base', '{}'), coalesce(c.value -> 'references', '{}'), null
    from jsonb_array_elements(creates) c;

  -- References to records not here yet are remembered until they arrive.
  insert into sync.pending_references as p (connection_id, entity_type, local_id, reference, target_remote_id)
  select p_connection_id, p_entity_type, (c.value ->> 'new_local_id')::uuid, r.key, r.value
    from jsonb_array_elements(creates) c
   cross join lateral jsonb_each_text(coalesce(c.value -> 'references', '{}')) r
    left join lateral (select true as found from sync.identity_map m
                        where m.connection_id = p_connection_id and m.entity_type = r.key::crm.entity_type and m.remote_id = r.value
                        limit 1) m on true
   where r.key = any (refs) and r.value is not null and m.found is null
  on conflict on constraint pending_references_pkey do update set target_remote_id = excluded.target_remote_id;

  -- Records that were waiting for these ones now point at them: one UPDATE per waiting table and reference.
  for waiting in
    with resolved as (
      delete from sync.pending_references p
       using jsonb_array_elements(creates) c
       where p.connection_id = p_connection_id and p.reference = p_entity_type::text and p.target_remote_id = c.value ->> 'remote_id'
      returning p.entity_type, p.reference, p.local_id, (c.value ->> 'new_local_id')::uuid as target_local_id)
    select r.entity_type, r.reference, jsonb_object_agg(r.local_id, r.target_local_id) as targets
      from resolved r group by r.entity_type, r.reference
  loop
    execute format('update crm.%I t set %I = (n.value #>> ''{}'')::uuid from jsonb_each($1) n where t.id = n.key::uuid',
                   sync._table_of(waiting.entity_type), waiting.reference || '_id')
      using waiting.targets;
  end loop;

  perform set_config('crm_sync.origin_connection', coalesce(previous_origin, ''), true);
  return query select c.value ->> 'remote_id', (c.value ->> 'new_local_id')::uuid, 'created'::text
                 from jsonb_array_elements(creates) c;
end
$$;

revoke execute on function sync._create_inbound_records(uuid, crm.entity_type, jsonb) from public;

-- The entry point as before (per-record locks, "retry" for records mapped
-- meanwhile), now also locking the records referenced, and splitting pure
-- creates from the rest.
create or replace function sync.apply_inbound_changes(p_connection_id uuid, p_entity_type crm.entity_type, p_changes jsonb)
returns table (remote_id text, local_id uuid, outcome text)
language plpgsql security definer set search_path = ''
as $$
declare
  key text;
  mapped_meanwhile text[];
  creates jsonb;
  others jsonb;
begin
  -- The records' own locks, and those of the records they reference: a page of contacts and a
  -- page of their companies applied side by side would otherwise each miss the other's
  -- uncommitted work (the contact finds no company and waits for it in pending_references; the
  -- company, created meanwhile, finds no contact waiting) and the reference would be lost. One
  -- global order (by entity type and remote id) for all of them, so no two batches wait in a cycle.
  for key in
    select k from (
      select p_entity_type::text || '/' || (c.value ->> 'remote_id') as k from jsonb_array_elements(p_changes) c
      union
      select r.key || '/' || r.value from jsonb_array_elements(p_changes) c
       cross join lateral jsonb_each_text(coalesce(c.value -> 'references', '{}')) r
       where r.value is not null and r.key = any (sync._references_of(p_entity_type))) keys
     order by k
  loop
    perform pg_advisory_xact_lock(hashtextextended(p_connection_id::text || '/' || key, 0));
  end loop;

  select coalesce(array_agg(c.value ->> 'remote_id'), array[]::text[]) into mapped_meanwhile
    from jsonb_array_elements(p_changes) c
    join lateral (select m.remote_updated_at from sync.identity_map m
                   where m.connection_id = p_connection_id and m.entity_type = p_entity_type
                     and m.remote_id = c.value ->> 'remote_id' limit 1) m on true
   where (c.value ->> 'expected_unmapped')::boolean
     and m.remote_updated_at < (c.value ->> 'remote_updated_at')::timestamptz;

  return query
    select m.remote_id, m.local_id, 'retry'::text
      from sync.identity_map m
     where m.connection_id = p_connection_id and m.entity_type = p_entity_type and m.remote_id = any (mapped_meanwhile);

  -- Under the locks taken above nobody else can map these remote ids, so "no identity row" stays true until commit.
  -- (The identity row is probed by key, LATERAL ... LIMIT 1: as a NOT EXISTS the planner hashed the whole map.)
  with changes as (
    select c.value as change, c.ordinality, count(*) over (partition by c.value ->> 'remote_id') as times
      from jsonb_array_elements(p_changes) with ordinality c
     where not (c.value ->> 'remote_id' = any (mapped_meanwhile))),
  candidates as (
    select c.change, c.ordinality,
           c.change ->> 'local_id' is null and not coalesce((c.change ->> 'deleted')::boolean, false) and c.times = 1
             and m.remote_id is null as is_create
      from changes c
      left join lateral (select m.remote_id from sync.identity_map m
                          where m.connection_id = p_connection_id and m.entity_type = p_entity_type
                            and m.remote_id = c.change ->> 'remote_id' limit 1) m on true)
  select coalesce(jsonb_agg(change order by ordinality) filter (where is_create), '[]'),
         coalesce(jsonb_agg(change order by ordinality) filter (where not is_create), '[]')
    into creates, others
    from candidates;

  if jsonb_array_length(creates) > 0 then
    return query select r.remote_id, r.local_id, r.outcome from sync._create_inbound_records(p_connection_id, p_entity_type, creates) r;
  end if;
  if jsonb_array_length(others) > 0 then
    return query select r.remote_id, r.local_id, r.outcome from sync._apply_inbound_changes_locked(p_connection_id, p_entity_type, others) r;
  end if;
end
$$;
