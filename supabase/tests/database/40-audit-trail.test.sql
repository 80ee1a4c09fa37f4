-- The audit trail: one entry per changed row with only the changed fields,
-- the source and the actor; append-only for every role; tenants read only
-- their own entries; monthly partitions.
begin;
select plan(39);

insert into crm.tenants (id, name, slug) values
  ('aaaaaaaa-0000-4000-8000-00000000a000', 'Audit A', 'audit-a'),
  ('bbbbbbbb-0000-4000-8000-00000000b000', 'Audit B', 'audit-b');
insert into sync.connections (id, tenant_id, provider, account_id) values
  ('aaaaaaaa-0000-4000-8000-00000000a0c1', 'aaaaaaaa-0000-4000-8000-00000000a000', 'hubspot', 'audit-hs');

create function pg_temp.act_as_member(tenant text) returns void language plpgsql as $$
begin
  perform set_config('request.jwt.claims', json_build_object(
    'sub', 'cccccccc-0000-4000-8000-000000000001', 'role', 'authenticated',
    'app_metadata', json_build_object('tenant_id', tenant))::text, true);
  execute 'set local role authenticated';
end $$;
create function pg_temp.act_as_superuser() returns void language plpgsql as $$
begin
  execute 'reset role';
  perform set_config('request.jwt.claims', '', true);
  perform set_config('crm_sync.origin_connection', '', true);
  perform set_config('crm_sync.change_source', '', true);
end $$;
create function pg_temp.entries_of(entity uuid) returns setof audit.entries language sql as $$
  select * from audit.entries where entity_id = entity order by id
$$;

-- A member's writes: source manual, the member as actor.
select pg_temp.act_as_member('aaaaaaaa-0000-4000-8000-00000000a000');
insert into crm.contacts (id, tenant_id, email, first_name)
  values ('aaaaaaaa-0000-4000-8000-00000000a001', 'aaaaaaaa-0000-4000-8000-00000000a000', 'ada@audit.example', 'Ada');
update crm.contacts set phone = '+1 555 0100' where id = 'aaaaaaaa-0000-4000-8000-00000000a001';
update crm.contacts set phone = '+1 555 0100' where id = 'aaaaaaaa-0000-4000-8000-00000000a001';
select pg_temp.act_as_superuser();

select results_eq(
  $$select action, source, actor_user_id, actor_connection_id, tenant_id from pg_temp.entries_of('aaaaaaaa-0000-4000-8000-00000000a001')$$,
  $$values ('created', 'manual', 'cccccccc-0000-4000-8000-000000000001'::uuid, null::uuid, 'aaaaaaaa-0000-4000-8000-00000000a000'::uuid),
           ('updated', 'manual', 'cccccccc-0000-4000-8000-000000000001'::uuid, null::uuid, 'aaaaaaaa-0000-4000-8000-00000000a000'::uuid)$$,
  'a member''s insert and update are recorded as manual with auth.uid(); an update that changes nothing is not');
select is((select changes from pg_temp.entries_of('aaaaaaaa-0000-4000-8000-00000000a001') where action = 'created'),
  '{"email": {"old": null, "new": "ada@audit.example"}, "first_name": {"old": null, "new": "Ada"}, "custom_fields": {"old": null, "new": {}}}'::jsonb,
  'a create records the fields it set');
select is((select changes from pg_temp.entries_of('aaaaaaaa-0000-4000-8000-00000000a001') where action = 'updated'),
  '{"phone": {"old": null, "new": "+1 555 0100"}}'::jsonb, 'an update records only the changed field, old and new');

-- The engine's writes carry their connection.
select set_config('crm_sync.origin_connection', 'aaaaaaaa-0000-4000-8000-00000000a0c1', true);
update crm.contacts set first_name = 'Ada L.' where id = 'aaaaaaaa-0000-4000-8000-00000000a001';
select pg_temp.act_as_superuser();
select results_eq(
  $$select source, actor_connection_id from pg_temp.entries_of('aaaaaaaa-0000-4000-8000-00000000a001') order by id desc limit 1$$,
  $$values ('hubspot', 'aaaaaaaa-0000-4000-8000-00000000a0c1'::uuid)$$,
  'a change applied from a CRM names the provider and the connection');

-- Server jobs declare themselves; anything else is system.
select set_config('crm_sync.change_source', 'automation', true);
update crm.contacts set lifecycle_stage = 'lead' where id = 'aaaaaaaa-0000-4000-8000-00000000a001';
select pg_temp.act_as_superuser();
select is((select source from pg_temp.entries_of('aaaaaaaa-0000-4000-8000-00000000a001') order by id desc limit 1), 'automation',
  'a job that declares itself automation is recorded as automation');
set local role service_role;
update crm.contacts set lifecycle_stage = 'customer' where id = 'aaaaaaaa-0000-4000-8000-00000000a001';
reset role;
select is((select source from pg_temp.entries_of('aaaaaaaa-0000-4000-8000-00000000a001') order by id desc limit 1), 'system',
  'a service-role write without a declared source is system');
select pg_temp.act_as_member('aaaaaaaa-0000-4000-8000-00000000a000');
select set_config('crm_sync.change_source', 'automation', true);
select set_config('crm_sync.origin_connection', 'aaaaaaaa-0000-4000-8000-00000000a0c1', true);
update crm.contacts set lead_source = 'web' where id = 'aaaaaaaa-0000-4000-8000-00000000a001';
select pg_temp.act_as_superuser();
select results_eq(
  $$select source, actor_user_id, actor_connection_id from pg_temp.entries_of('aaaaaaaa-0000-4000-8000-00000000a001') order by id desc limit 1$$,
  $$values ('manual', 'cccccccc-0000-4000-8000-000000000001'::uuid, null::uuid)$$,
  'a member cannot pass their write off as automation or as a CRM''s');

-- Deletes: soft and hard.
update crm.contacts set deleted_at = now() where id = 'aaaaaaaa-0000-4000-8000-00000000a001';
select is((select action from pg_temp.entries_of('aaaaaaaa-0000-4000-8000-00000000a001') order by id desc limit 1), 'deleted',
  'a soft delete is recorded as deleted');
delete from crm.contacts where id = 'aaaaaaaa-0000-4000-8000-00000000a001';
select is((select changes -> 'email' from pg_temp.entries_of('aaaaaaaa-0000-4000-8000-00000000a001') order by id desc limit 1),
  '{"old": "ada@audit.example", "new": null}'::jsonb, 'a hard delete records the values the row held');

-- Every crm table is audited; a statement writes one entry per row.
select is(
  (select array_agg(c.relname::text order by c.relname) from pg_class c
    where c.relnamespace = 'crm'::regnamespace and c.relkind = 'r'
      and not exists (select from pg_trigger t where t.tgrelid = c.oid and t.tgname = 'audit_updates')),
  null, 'every crm table has the audit triggers');
select is(
  (select array_agg(c.relname::text order by c.relname) from pg_class c
    where c.relnamespace = 'crm'::regnamespace and c.relkind = 'r'
      and obj_description(format('audit.%I', '_record_crm_' || c.relname)::regproc, 'pg_proc') is distinct from
          (select string_agg(a.attname::text, ',' order by a.attnum) from pg_attribute a
            where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped)),
  null, 'the audit trigger of every crm table covers all its current columns (else run audit.track_table again)');
insert into crm.companies (tenant_id, name) select 'aaaaaaaa-0000-4000-8000-00000000a000', 'Co ' || g from generate_series(1, 50) g;
update crm.companies set industry = 'Retail' where tenant_id = 'aaaaaaaa-0000-4000-8000-00000000a000';
select is((select count(*)::int from audit.entries where entity_type = 'company' and action = 'updated'
             and tenant_id = 'aaaaaaaa-0000-4000-8000-00000000a000'), 50, 'a bulk update writes one entry per row');
insert into crm.tasks (id, tenant_id, title) values ('bbbbbbbb-0000-4000-8000-00000000b001', 'bbbbbbbb-0000-4000-8000-00000000b000', 'B task');

-- Append-only for every role.
select pg_temp.act_as_member('aaaaaaaa-0000-4000-8000-00000000a000');
select throws_ok($$update audit.entries set action = 'updated'$$, '42501', null, 'authenticated cannot update audit entries');
select throws_ok($$delete from audit.entries$$, '42501', null, 'authenticated cannot delete audit entries');
select throws_ok($$insert into audit.entries (tenant_id, entity_type, entity_id, action, source)
                   values ('aaaaaaaa-0000-4000-8000-00000000a000', 'contact', gen_random_uuid(), 'created', 'manual')$$,
  '42501', null, 'authenticated cannot forge audit entries');
select throws_ok($$truncate audit.entries$$, '42501', null, 'authenticated cannot truncate audit entries');
select set_config('crm_sync.gdpr_erasure', 'on', true);
select throws_ok($$update audit.entries set changes = '{}'$$, '42501', null, 'the erasure marker does not let authenticated scrub entries');
select pg_temp.act_as_superuser();
set local role service_role;
select throws_ok($$delete from audit.entries$$, '42501', null, 'nor service_role delete them');
select set_config('crm_sync.gdpr_erasure', '', true);
reset role;
select pg_temp.act_as_member('aaaaaaaa-0000-4000-8000-00000000a000');
select pg_temp.act_as_superuser();
set local role anon;
select throws_ok($$select * from audit.entries$$, '42501', null, 'anon cannot read audit entries');
select throws_ok($$update audit.entries set action = 'updated'$$, '42501', null, 'anon cannot update audit entries');
select throws_ok($$delete from audit.entries$$, '42501', null, 'anon cannot delete audit entries');
reset role;
set local role service_role;
select throws_ok($$update audit.entries set action = 'updated'$$, '42501', null, 'service_role cannot update audit entries');
select throws_ok($$delete from audit.entries$$, '42501', null, 'service_role cannot delete audit entries');
select throws_ok($$insert into audit.entries (tenant_id, entity_type, entity_id, action, source)
                   values ('aaaaaaaa-0000-4000-8000-00000000a000', 'contact', gen_random_uuid(), 'created', 'manual')$$,
  '42501', null, 'service_role cannot write audit entries directly');
select throws_ok($$truncate audit.entries$$, '42501', null, 'service_role cannot truncate audit entries');
reset role;
select throws_ok($$update audit.entries set action = 'updated'$$, '42501', 'audit entries are append-only (update refused)',
  'not even the owner can update audit entries');
select throws_ok($$delete from audit.entries$$, '42501', 'audit entries are append-only (delete refused)',
  'not even the owner can delete audit entries');
select throws_ok(format('delete from audit.%I', 'entries_' || to_char(now(), 'YYYY_MM')), '42501',
  'audit entries are append-only (delete refused)', 'nor delete them from a partition directly');
select throws_ok($$truncate audit.entries$$, '42501', 'audit entries are append-only (truncate refused)',
  'not even the owner can truncate audit entries');

-- Tenants read only their own entries.
select pg_temp.act_as_member('aaaaaaaa-0000-4000-8000-00000000a000');
select is((select count(*)::int from audit.entries where tenant_id <> 'aaaaaaaa-0000-4000-8000-00000000a000'), 0,
  'a member sees no other tenant''s entries');
select is((select count(*)::int from audit.entries where entity_type = 'company'), 100, 'a member sees their tenant''s entries');
select pg_temp.act_as_superuser();
select pg_temp.act_as_member('bbbbbbbb-0000-4000-8000-00000000b000');
select results_eq($$select entity_type, action from audit.entries order by id$$, $$values ('tenant', 'created'), ('task', 'created')$$,
  'tenant B sees only its own entries (its tenant row and its task)');
select pg_temp.act_as_superuser();

-- Partitions: this month and three ahead, a default one, entries land by month.
select is((select count(*)::int from pg_inherits i join pg_class c on c.oid = i.inhrelid
            where i.inhparent = 'audit.entries'::regclass and c.relname ~ '^entries_\d{4}_\d{2}$'
              and c.relname >= 'entries_' || to_char(now(), 'YYYY_MM')), 4, 'partitions exist for this month and three ahead');
select is((select tableoid::regclass::text from audit.entries order by id desc limit 1),
  'audit.entries_' || to_char(now(), 'YYYY_MM'), 'an entry lands in its month''s partition');
select is(audit.create_partitions(3), 0, 'creating partitions again creates none');
select is(audit.create_partitions(5), 2, 'asking further ahead creates the missing months');
select is((select count(*)::int from pg_class c join pg_inherits i on i.inhrelid = c.oid
            where i.inhparent = 'audit.entries'::regclass and not c.relrowsecurity), 0, 'every partition has RLS enabled');
select ok(exists (select from cron.job where jobname = 'audit-partitions'), 'pg_cron keeps creating partitions ahead');
select ok(exists (select from pg_indexes where schemaname = 'audit' and tablename = 'entries' and indexdef like '%(tenant_id, entity_type, entity_id, occurred_at DESC)%'),
  'entries are indexed by entity');

select * from finish();
rollback;
