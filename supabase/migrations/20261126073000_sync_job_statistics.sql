-- A job's pages look records up by key (the email match, the identity map)
-- through plans made from the tables' statistics. A tenant new to a table
-- whose statistics list every tenant it held when last analyzed is taken for
-- one row, whatever it holds since; two indexes then look equally cheap, and
-- the planner may pick (tenant_id, id) and filter the tenant's every row by
-- email for each key, or scan the connection's whole identity map for each
-- record. A backfill into such a table slowed down as it grew (runs of 5,000
-- records took 20 s instead of 2.5 s until autovacuum's next analyze, up to a
-- minute later). A job analyzes the tables its pages read, every ten pages, when
-- they changed by more than a quarter since their last analyze (plus 1,000
-- rows): a handful of analyzes over a whole backfill, each a sample.

-- Whether a table's statistics are stale: more rows changed since its last
-- analyze than a quarter of the rows the statistics know of, plus 1,000.
create function sync._statistics_stale(p_reltuples real, p_changed bigint) returns boolean
language sql immutable set search_path = ''
as $$
  select p_changed > 1000 + 0.25 * greatest(p_reltuples, 0)
$$;

-- Analyzes the tables of these entity types and the identity map where their
-- statistics are stale; returns the tables analyzed. A table another session
-- is analyzing or vacuuming is left to it (lock_timeout).
create function sync.refresh_job_statistics(p_entity_types crm.entity_type[]) returns text[]
language plpgsql security definer set search_path = '' set lock_timeout = '200ms'
as $$
declare
  tbl regclass;
  analyzed text[] := '{}';
begin
  for tbl in
    select distinct t.tbl
      from (select format('crm.%I', sync._table_of(e))::regclass as tbl from unnest(p_entity_types) e
            union all select 'sync.identity_map'::regclass) t
      join pg_class c on c.oid = t.tbl
     -- (the counter itself: the pg_stat_user_tables view costs milliseconds, and this runs before every page)
     where sync._statistics_stale(c.reltuples, pg_stat_get_mod_since_analyze(t.tbl))
  loop
    begin
      execute format('analyze %s', tbl);
      analyzed := analyzed || tbl::text;
    exception when lock_not_available then
      null;
    end;
  end loop;
  return analyzed;
end
$$;
revoke execute on function sync._statistics_stale(real, bigint), sync.refresh_job_statistics(crm.entity_type[]) from public;
grant execute on function sync.refresh_job_statistics(crm.entity_type[]) to service_role;
