-- The fields a write was asked to write: record_outbound_results keeps them
-- with the write's version (one version's writes together, an older write's
-- result late does not replace them, a create has none), and
-- load_inbound_state hands them to the inbound side, which judges the webhook
-- of that write by them.
begin;
select plan(5);

insert into crm.tenants (id, name, slug) values ('cccccccc-0000-4000-8000-000000000000', 'Written', 'written');
insert into sync.connections (id, tenant_id, provider, account_id) values
  ('cccccccc-0000-4000-8000-0000000000c1', 'cccccccc-0000-4000-8000-000000000000', 'pipedrive', 'written');
insert into crm.contacts (id, tenant_id, email, first_name, last_name) values
  ('cccccccc-0000-4000-8000-000000000001', 'cccccccc-0000-4000-8000-000000000000', 'w@x.io', 'Xia', 'Baker');

create function pg_temp.record(p_at text, p_fields jsonb) returns void language sql as $$
  select sync.record_outbound_results('cccccccc-0000-4000-8000-0000000000c1', 'contact', jsonb_build_array(
    jsonb_build_object('local_id', 'cccccccc-0000-4000-8000-000000000001', 'remote_id', '12', 'remote_updated_at', p_at,
                       'base', '{"email": "w@x.io", "first_name": "Xia", "last_name": "Baker"}'::jsonb, 'base_references', '{}'::jsonb)
    || coalesce(jsonb_build_object('written_fields', p_fields), '{}')));
$$;
create function pg_temp.written() returns text[] language sql as $$
  select written_fields from sync.load_inbound_state('cccccccc-0000-4000-8000-0000000000c1', 'contact', array['12']);
$$;

select pg_temp.record('2026-11-01T10:00:00Z', null);
select is(pg_temp.written(), null, 'a create has no asked fields');

select pg_temp.record('2026-11-01T10:00:05Z', '["first_name"]');
select is(pg_temp.written(), array['first_name'], 'an update keeps the fields it was asked to write');

select pg_temp.record('2026-11-01T10:00:05Z', '["email", "first_name"]');
select is(pg_temp.written(), array['email', 'first_name'], 'two writes of one version count together');

select pg_temp.record('2026-11-01T10:00:03Z', '["phone"]');
select is(pg_temp.written(), array['email', 'first_name'], 'an older write recorded late leaves them');

select pg_temp.record('2026-11-01T10:00:09Z', '["last_name"]');
select is(pg_temp.written(), array['last_name'], 'a newer write replaces them');

select * from finish();
rollback;
