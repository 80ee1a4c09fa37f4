-- The writes in flight: mark_outbound_pending notes what is being written,
-- every value per field (writes may overlap), load_inbound_state hands it to
-- the resolver (fresh notes only), and recording a write's result takes out
-- its own values.
begin;
select plan(8);

insert into crm.tenants (id, name, slug) values ('cccccccc-0000-4000-8000-000000000000', 'Pending', 'pending');
insert into sync.connections (id, tenant_id, provider, account_id) values
  ('cccccccc-0000-4000-8000-0000000000c1', 'cccccccc-0000-4000-8000-000000000000', 'hubspot', 'pending');
insert into crm.contacts (id, tenant_id, email, lead_source) values
  ('cccccccc-0000-4000-8000-000000000001', 'cccccccc-0000-4000-8000-000000000000', 'p@x.io', 'newer');
insert into sync.identity_map (connection_id, tenant_id, entity_type, remote_id, local_id, base) values
  ('cccccccc-0000-4000-8000-0000000000c1', 'cccccccc-0000-4000-8000-000000000000', 'contact', '801',
   'cccccccc-0000-4000-8000-000000000001', '{"email": "p@x.io", "lead_source": "old"}');

select sync.mark_outbound_pending('cccccccc-0000-4000-8000-0000000000c1', 'contact',
  '[{"local_id": "cccccccc-0000-4000-8000-000000000001", "fields": {"lead_source": "sent"}}]');
select sync.mark_outbound_pending('cccccccc-0000-4000-8000-0000000000c1', 'contact',
  '[{"local_id": "cccccccc-0000-4000-8000-000000000001", "fields": {"phone": "1"}}]');
select is((select pending_write from sync.load_inbound_state('cccccccc-0000-4000-8000-0000000000c1', 'contact', array['801'])),
  '{"lead_source": ["sent"], "phone": ["1"]}'::jsonb, 'the fields being written are noted, two writes in flight together');
select is((select base ->> 'lead_source' from sync.load_inbound_state('cccccccc-0000-4000-8000-0000000000c1', 'contact', array['801'])),
  'old', 'the shadow is left as it was');

update sync.identity_map set pending_write_at = now() - interval '6 minutes' where remote_id = '801';
select is((select pending_write from sync.load_inbound_state('cccccccc-0000-4000-8000-0000000000c1', 'contact', array['801'])),
  null, 'a note older than five minutes (a write that never came back) is ignored');
select sync.mark_outbound_pending('cccccccc-0000-4000-8000-0000000000c1', 'contact',
  '[{"local_id": "cccccccc-0000-4000-8000-000000000001", "fields": {"lead_source": "again"}}]');
select is((select pending_write from sync.identity_map where remote_id = '801'), '{"lead_source": ["again"]}'::jsonb,
  'a new note does not carry a stale one');

select sync.record_outbound_results('cccccccc-0000-4000-8000-0000000000c1', 'contact', $$[
  {"local_id": "cccccccc-0000-4000-8000-000000000001", "remote_id": "801", "remote_updated_at": "2026-11-01T10:00:00Z",
   "base": {"email": "p@x.io", "lead_source": "again"}, "base_references": {}}]$$);
select results_eq($$select pending_write, pending_write_at, base ->> 'lead_source' from sync.identity_map where remote_id = '801'$$,
  $$values (null::jsonb, null::timestamptz, 'again')$$, 'the recorded write clears the note; the shadow has the value');

-- Two worker runs write the record at once: the phone '7', then '21' with a last name.
select sync.mark_outbound_pending('cccccccc-0000-4000-8000-0000000000c1', 'contact',
  '[{"local_id": "cccccccc-0000-4000-8000-000000000001", "fields": {"phone": "7"}}]');
select sync.mark_outbound_pending('cccccccc-0000-4000-8000-0000000000c1', 'contact',
  '[{"local_id": "cccccccc-0000-4000-8000-000000000001", "fields": {"phone": "21", "last_name": "L21"}}]');
select is((select pending_write from sync.identity_map where remote_id = '801'), '{"phone": ["7", "21"], "last_name": ["L21"]}'::jsonb,
  'a field written twice at once keeps both values, oldest first');
select sync.record_outbound_results('cccccccc-0000-4000-8000-0000000000c1', 'contact', $$[
  {"local_id": "cccccccc-0000-4000-8000-000000000001", "remote_id": "801", "remote_updated_at": "2026-11-01T10:01:00Z",
   "base": {"email": "p@x.io", "lead_source": "again", "phone": "7"}, "base_references": {}, "written_fields": ["phone"]}]$$);
select results_eq($$select pending_write, pending_write_at is not null from sync.identity_map where remote_id = '801'$$,
  $$values ('{"phone": ["21"], "last_name": ["L21"]}'::jsonb, true)$$,
  'the first write recorded takes out its own value; the second is still in flight');
select sync.record_outbound_results('cccccccc-0000-4000-8000-0000000000c1', 'contact', $$[
  {"local_id": "cccccccc-0000-4000-8000-000000000001", "remote_id": "801", "remote_updated_at": "2026-11-01T10:02:00Z",
   "base": {"email": "p@x.io", "lead_source": "again", "phone": "21", "last_name": "L21"}, "base_references": {},
   "written_fields": ["phone", "last_name"]}]$$);
select results_eq($$select pending_write, pending_write_at from sync.identity_map where remote_id = '801'$$,
  $$values (null::jsonb, null::timestamptz)$$, 'the second write recorded leaves nothing in flight');

select * from finish();
rollback;
