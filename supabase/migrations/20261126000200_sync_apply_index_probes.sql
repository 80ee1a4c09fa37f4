-- The inbound apply looks records up one key at a time (the identity map by
-- remote id, crm rows by id, contacts by email). On a table that has grown
-- since it was last analyzed (a first backfill into an empty project: the
-- identity map goes from 0 to 100,000 rows in a minute) the planner still
-- believes it tiny and may scan or hash it whole for a batch of keys, so
-- every page would cost more than the last until autovacuum catches up.
-- These functions only ever want index probes, so sequential scans are off
-- inside them (see also 20261126000300 for the identity map's keys), and
-- the state of a batch is read by one probe per remote id (LATERAL ...
-- LIMIT 1): as a join, a stale estimate of one row per connection made the
-- planner read all of the connection's identity rows for every batch.
create or replace function sync.load_inbound_state(p_connection_id uuid, p_entity_type crm.entity_type, p_remote_ids text[])
returns table (remote_id text, local_id uuid, remote_updated_at timestamptz, base jsonb, base_references jsonb,
               local jsonb, local_updated_at timestamptz, local_deleted boolean, remote_written_at timestamptz)
language plpgsql stable security definer set search_path = ''
as $$
begin
  return query execute format($q$
    select w.remote_id, m.local_id, m.remote_updated_at, coalesce(m.base, '{}'::jsonb),
           coalesce(m.base_references, '{}'::jsonb), to_jsonb(t), t.updated_at, t.deleted_at is not null,
           m.remote_written_at
      from unnest($1::text[]) as w (remote_id)
      left join lateral (select m.* from sync.identity_map m
                          where m.connection_id = $2 and m.entity_type = $3 and m.remote_id = w.remote_id limit 1) m on true
      left join lateral (select t.* from crm.%I t where t.id = m.local_id limit 1) t on true$q$, sync._table_of(p_entity_type))
    using p_remote_ids, p_connection_id, p_entity_type;
end
$$;

alter function sync.apply_inbound_changes(uuid, crm.entity_type, jsonb) set enable_seqscan = off;
alter function sync._apply_inbound_changes_locked(uuid, crm.entity_type, jsonb) set enable_seqscan = off;
alter function sync._create_inbound_records(uuid, crm.entity_type, jsonb) set enable_seqscan = off;
alter function sync.load_inbound_state(uuid, crm.entity_type, text[]) set enable_seqscan = off;
alter function sync.match_local_records(uuid, crm.entity_type, jsonb) set enable_seqscan = off;
