-- Conflict resolution: the strategy table's constraints, the engine's
-- decision log and review queue (one pending row per record field, one
-- notification), the held fields, and the review RPCs under RLS: a member
-- lists and resolves only their tenant's conflicts; a resolution writes the
-- record as an app edit (queued for every connection) and keeps who and when.
begin;
select plan(34);

insert into crm.tenants (id, name, slug) values
  ('aaaaaaaa-0000-4000-8000-000000000000', 'Conflicts A', 'conflicts-a'),
  ('bbbbbbbb-0000-4000-8000-000000000000', 'Conflicts B', 'conflicts-b');
insert into sync.connections (id, tenant_id, provider, account_id, enabled) values
  ('aaaaaaaa-0000-4000-8000-0000000000c1', 'aaaaaaaa-0000-4000-8000-000000000000', 'hubspot', 'conflicts-hs', true),
  ('aaaaaaaa-0000-4000-8000-0000000000c2', 'aaaaaaaa-0000-4000-8000-000000000000', 'pipedrive', 'conflicts-pd', true),
  ('bbbbbbbb-0000-4000-8000-0000000000c1', 'bbbbbbbb-0000-4000-8000-000000000000', 'hubspot', 'conflicts-hs-b', true);
insert into crm.contacts (id, tenant_id, email, first_name, phone) values
  ('aaaaaaaa-0000-4000-8000-000000000001', 'aaaaaaaa-0000-4000-8000-000000000000', 'ann@a.io', 'Ann local', '111'),
  ('bbbbbbbb-0000-4000-8000-000000000001', 'bbbbbbbb-0000-4000-8000-000000000000', 'bob@b.io', 'Bob local', '222');
insert into crm.deals (id, tenant_id, name, amount) values
  ('aaaaaaaa-0000-4000-8000-0000000000d1', 'aaaaaaaa-0000-4000-8000-000000000000', 'Deal', 100);

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
end $$;

-- Strategies: the table refuses what the API's schema refuses.
select lives_ok($$insert into sync.conflict_strategies (tenant_id, strategy) values ('aaaaaaaa-0000-4000-8000-000000000000', 'timestamp')$$,
  'a tenant default strategy');
select throws_ok($$insert into sync.conflict_strategies (tenant_id, strategy) values ('aaaaaaaa-0000-4000-8000-000000000000', 'manual_review')$$,
  '23505', null, 'one tenant default (entity type and field null count as equal)');
select lives_ok($$insert into sync.conflict_strategies (tenant_id, entity_type, field, strategy, merge_rule) values
  ('aaaaaaaa-0000-4000-8000-000000000000', 'deal', 'amount', 'field_merge', 'max')$$, 'a per-field max rule on a number');
select throws_ok($$insert into sync.conflict_strategies (tenant_id, entity_type, field, strategy, merge_rule) values
  ('aaaaaaaa-0000-4000-8000-000000000000', 'deal', 'name', 'field_merge', 'max')$$,
  '23514', null, 'max/min only on numeric fields');
select throws_ok($$insert into sync.conflict_strategies (tenant_id, entity_type, field, strategy) values
  ('aaaaaaaa-0000-4000-8000-000000000000', 'deal', 'colour', 'timestamp')$$, '23514', null, 'a field must be a synced column');
select throws_ok($$insert into sync.conflict_strategies (tenant_id, field, strategy) values
  ('aaaaaaaa-0000-4000-8000-000000000000', 'name', 'timestamp')$$, '23514', null, 'a field rule needs its entity type');
select throws_ok($$insert into sync.conflict_strategies (tenant_id, entity_type, strategy) values
  ('aaaaaaaa-0000-4000-8000-000000000000', 'contact', 'source_priority')$$, '23514', null, 'source_priority needs the list');
select throws_ok($$insert into sync.conflict_strategies (tenant_id, entity_type, strategy, source_priority) values
  ('aaaaaaaa-0000-4000-8000-000000000000', 'contact', 'source_priority', array['hubspot', 'hubspot'])$$,
  '23514', null, 'a source appears once in the list');
select throws_ok($$insert into sync.conflict_strategies (tenant_id, entity_type, strategy, source_priority) values
  ('aaaaaaaa-0000-4000-8000-000000000000', 'contact', 'source_priority', array['salesforce'])$$,
  '23514', null, 'only known sources');
select throws_ok($$insert into sync.conflict_strategies (tenant_id, entity_type, strategy) values
  ('aaaaaaaa-0000-4000-8000-000000000000', 'contact', 'field_merge')$$, '23514', null, 'field_merge needs a merge rule');
select throws_ok($$insert into sync.conflict_strategies (tenant_id, entity_type, field, strategy, merge_rule, separator) values
  ('aaaaaaaa-0000-4000-8000-000000000000', 'contact', 'lead_source', 'field_merge', 'newest', ',')$$,
  '23514', null, 'a separator belongs to the append rule only');
select results_eq($$select strategy, merge_rule from sync.load_conflict_strategies('aaaaaaaa-0000-4000-8000-0000000000c1') order by strategy$$,
  $$values ('field_merge', 'max'), ('timestamp', null)$$, 'the worker reads its tenant''s rules');

-- The engine records decisions; a manual-review decision opens the field's conflict once.
select is(sync.record_conflict_decisions('aaaaaaaa-0000-4000-8000-0000000000c1', 'contact', $$[
  {"remote_id": "501", "local_id": "aaaaaaaa-0000-4000-8000-000000000001", "field": "first_name", "strategy": "manual_review",
   "scope": "tenant", "winner": "pending", "base": "Ann", "local": "Ann local", "remote": "Ann remote", "value": "Ann local", "reason": "held"},
  {"remote_id": "501", "local_id": "aaaaaaaa-0000-4000-8000-000000000001", "field": "phone", "strategy": "timestamp",
   "scope": "default", "winner": "remote", "base": "000", "local": "111", "remote": "999", "value": "999", "reason": "later"}]$$),
  1, 'one conflict opened');
select is(sync.record_conflict_decisions('aaaaaaaa-0000-4000-8000-0000000000c2', 'contact', $$[
  {"remote_id": "p9", "local_id": "aaaaaaaa-0000-4000-8000-000000000001", "field": "first_name", "strategy": "manual_review",
   "scope": "review", "winner": "pending", "base": "Ann", "local": "Ann local", "remote": "Ann again", "value": "Ann local", "reason": "again"}]$$),
  0, 'the same field detected again (another delivery, another CRM) opens nothing new');
select results_eq($$select remote_value #>> '{}', detections, connection_id from sync.conflicts where tenant_id = 'aaaaaaaa-0000-4000-8000-000000000000'$$,
  $$values ('Ann again', 2, 'aaaaaaaa-0000-4000-8000-0000000000c2'::uuid)$$, 'the open conflict carries the latest snapshot');
select is((select count(*)::int from sync.admin_notifications where tenant_id = 'aaaaaaaa-0000-4000-8000-000000000000'
             and kind = 'conflict_pending_review'), 1, 'the admins are notified once');
select results_eq($$select strategy, winner, result_value #>> '{}' from sync.conflict_decisions
                     where tenant_id = 'aaaaaaaa-0000-4000-8000-000000000000' order by id$$,
  $$values ('manual_review', 'pending', 'Ann local'), ('timestamp', 'remote', '999'), ('manual_review', 'pending', 'Ann local')$$,
  'every decision is in the log with its strategy, winner and value');
select results_eq($$select fields from sync.held_conflict_fields('aaaaaaaa-0000-4000-8000-0000000000c1', 'contact',
                     array['aaaaaaaa-0000-4000-8000-000000000001']::uuid[])$$,
  $$values (array['first_name'])$$, 'the pending field is held (for every connection of the tenant)');
select throws_ok($$select sync.record_conflict_decisions('00000000-0000-4000-8000-000000000999', 'contact', '[]')$$,
  'P0002', null, 'an unknown connection is an error');
select throws_ok($$select sync.record_conflict_decisions('aaaaaaaa-0000-4000-8000-0000000000c1', 'contact', '[
  {"remote_id": "501", "local_id": "aaaaaaaa-0000-4000-8000-000000000001", "field": "colour", "strategy": "manual_review",
   "scope": "tenant", "winner": "pending", "reason": "held"}]')$$,
  '23514', null, 'a conflict names a synced field');

-- Tenant B has a conflict too; A's member must not see or resolve it.
select sync.record_conflict_decisions('bbbbbbbb-0000-4000-8000-0000000000c1', 'contact', $$[
  {"remote_id": "701", "local_id": "bbbbbbbb-0000-4000-8000-000000000001", "field": "first_name", "strategy": "manual_review",
   "scope": "tenant", "winner": "pending", "base": "Bob", "local": "Bob local", "remote": "Bob remote", "value": "Bob local", "reason": "held"}]$$);

select pg_temp.act_as_member('aaaaaaaa-0000-4000-8000-000000000000');
select results_eq($$select field, local_value #>> '{}', remote_value #>> '{}', current_value #>> '{}' from public.list_pending_conflicts()$$,
  $$values ('first_name', 'Ann local', 'Ann again', 'Ann local')$$, 'a member lists their tenant''s pending conflicts with the field diff');
select throws_ok($$select public.list_pending_conflicts(null, 0)$$, '22023', null, 'the limit is checked');
select throws_ok(format('select public.resolve_conflict(%L, %L)',
                        (select k.id from sync.conflicts k where k.tenant_id = 'bbbbbbbb-0000-4000-8000-000000000000'), 'remote'),
  'P0002', null, 'another tenant''s conflict is not found');
select is(sync._current_value('contact', 'bbbbbbbb-0000-4000-8000-000000000001', 'first_name'), null,
  'the current-value helper does not read another tenant''s record');
select pg_temp.act_as_superuser();
select set_config('test.conflict_a', (select k.id::text from sync.conflicts k where k.tenant_id = 'aaaaaaaa-0000-4000-8000-000000000000'), true);
select pgmq.purge_queue('crm_outbound');

select pg_temp.act_as_member('aaaaaaaa-0000-4000-8000-000000000000');
select throws_ok($$select public.resolve_conflict(current_setting('test.conflict_a')::uuid, 'both')$$, '22023', null, 'an unknown choice is refused');
select throws_ok($$select public.resolve_conflict(current_setting('test.conflict_a')::uuid, 'custom')$$, '22023', null, 'custom needs a value');
select results_eq($$select status, resolution, resolved_value #>> '{}', resolved_by
                     from public.resolve_conflict(current_setting('test.conflict_a')::uuid, 'custom', '"Annie"')$$,
  $$values ('resolved', 'custom', 'Annie', 'cccccccc-0000-4000-8000-000000000001')$$, 'a member resolves with a custom value; who is kept');
select is((select first_name from crm.contacts where id = 'aaaaaaaa-0000-4000-8000-000000000001'), 'Annie', 'the record takes the chosen value');
select is((select count(*)::int from public.list_pending_conflicts()), 0, 'nothing is pending any more');
select throws_ok($$select public.resolve_conflict(current_setting('test.conflict_a')::uuid, 'local')$$, '55000', null,
  'a resolved conflict cannot be resolved again');
select pg_temp.act_as_superuser();

select set_eq($$select message ->> 'connection_id' from pgmq.q_crm_outbound where message ->> 'local_id' = 'aaaaaaaa-0000-4000-8000-000000000001'$$,
  array['aaaaaaaa-0000-4000-8000-0000000000c1', 'aaaaaaaa-0000-4000-8000-0000000000c2'],
  'the resolution is queued for every connected CRM (it was raised by one, the other gets it too)');
select is((select count(*)::int from sync.held_conflict_fields('aaaaaaaa-0000-4000-8000-0000000000c1', 'contact',
             array['aaaaaaaa-0000-4000-8000-000000000001']::uuid[])), 0, 'the field is no longer held');
select results_eq($$select winner, scope, result_value #>> '{}' from sync.conflict_decisions
                     where tenant_id = 'aaaaaaaa-0000-4000-8000-000000000000' order by id desc limit 1$$,
  $$values ('custom', 'review', 'Annie')$$, 'the resolution is in the decision log');
select ok((select resolved_at is not null from sync.conflicts where id = current_setting('test.conflict_a')::uuid), 'when is kept');

select * from finish();
rollback;
