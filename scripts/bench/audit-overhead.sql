-- What the audit trail adds to a bulk write: one UPDATE of 10,000 contacts
-- (one changed field each) with the audit triggers and without them,
-- alternated five times inside a transaction that is rolled back.
-- Run: psql "<db url>" -X -q -f scripts/bench/audit-overhead.sql
begin;
insert into crm.tenants (id, name, slug) values ('0a0d1700-0000-4000-8000-000000000001', 'Audit bench', 'audit-bench');
insert into crm.contacts (tenant_id, email, first_name, last_name, phone)
select '0a0d1700-0000-4000-8000-000000000001', format('bench%s@audit.example', g), 'Bench', format('Person %s', g), '+1 555 0100'
  from generate_series(1, 10000) g;

create temporary table timings (run int, audited boolean, ms numeric);
do $$
declare
  started timestamptz;
  i int;
begin
  for i in 1..5 loop
    started := clock_timestamp();
    update crm.contacts set lead_source = format('with audit %s', i) where tenant_id = '0a0d1700-0000-4000-8000-000000000001';
    insert into timings values (i, true, extract(epoch from clock_timestamp() - started) * 1000);

    alter table crm.contacts disable trigger audit_updates;
    started := clock_timestamp();
    update crm.contacts set lead_source = format('without audit %s', i) where tenant_id = '0a0d1700-0000-4000-8000-000000000001';
    insert into timings values (i, false, extract(epoch from clock_timestamp() - started) * 1000);
    alter table crm.contacts enable trigger audit_updates;
  end loop;
end
$$;

select case when audited then 'with audit' else 'without audit' end as bulk_update_of_10000,
       round(percentile_cont(0.5) within group (order by ms)::numeric, 1) as median_ms,
       round(min(ms), 1) as min_ms, round(max(ms), 1) as max_ms
  from timings group by audited order by audited desc;
select round(100 * ((select percentile_cont(0.5) within group (order by ms) from timings where audited)
                   / (select percentile_cont(0.5) within group (order by ms) from timings where not audited) - 1)::numeric, 0)
         as overhead_percent,
       (select count(*) from audit.entries where tenant_id = '0a0d1700-0000-4000-8000-000000000001' and action = 'updated')
         as entries_written;
rollback;
