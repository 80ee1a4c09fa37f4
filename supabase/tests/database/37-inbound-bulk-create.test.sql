-- Inbound apply of a batch that mixes new records (written in bulk) with
-- updates, duplicates, matches and deletions (written row by row): every
-- change gets its outcome, identity row, references and audit entry.
begin;
select plan(17);

insert into crm.tenants (id, name, slug) values ('bbbbbbbb-0000-4000-8000-000000000000', 'Bulk B', 'bulk-b');
insert into sync.connections (id, tenant_id, provider, account_id) values
  ('bbbbbbbb-0000-4000-8000-0000000000c1', 'bbbbbbbb-0000-4000-8000-000000000000', 'hubspot', 'bulk-hs'),
  ('bbbbbbbb-0000-4000-8000-0000000000c2', 'bbbbbbbb-0000-4000-8000-000000000000', 'pipedrive', 'bulk-pd');
select pgmq.purge_queue('crm_outbound');

-- A company already mapped, and a local contact that a new remote record matches by email.
select sync.apply_inbound_changes('bbbbbbbb-0000-4000-8000-0000000000c1', 'company',
  '[{"remote_id": "c-1", "remote_updated_at": "2026-01-01T09:00:00Z", "set": {"name": "Known"}, "base": {"name": "Known"}}]');
insert into crm.contacts (id, tenant_id, email, first_name)
values ('bbbbbbbb-0000-4000-8000-00000000aa01', 'bbbbbbbb-0000-4000-8000-000000000000', 'local@example.com', 'Local');
select sync.apply_inbound_changes('bbbbbbbb-0000-4000-8000-0000000000c1', 'contact',
  '[{"remote_id": "p-old", "remote_updated_at": "2026-01-01T09:00:00Z", "set": {"email": "old@example.com", "first_name": "Old"},
     "base": {"email": "old@example.com", "first_name": "Old"}}]');
select pgmq.purge_queue('crm_outbound');

select results_eq(
  $$select remote_id, outcome from sync.apply_inbound_changes('bbbbbbbb-0000-4000-8000-0000000000c1', 'contact',
    '[{"remote_id": "p-1", "remote_updated_at": "2026-01-02T10:00:00Z", "expected_unmapped": true,
       "set": {"email": "one@example.com", "first_name": "One", "phone": "+1 555 0001"}, "base": {"email": "one@example.com"},
       "references": {"company": "c-1"}},
      {"remote_id": "p-2", "remote_updated_at": "2026-01-02T10:00:00Z", "expected_unmapped": true,
       "set": {"email": "two@example.com"}, "base": {"email": "two@example.com"}, "references": {"company": "c-later"}},
      {"remote_id": "p-old", "remote_updated_at": "2026-01-02T10:00:00Z", "set": {"first_name": "Older"}, "base": {"first_name": "Older"}},
      {"remote_id": "p-match", "remote_updated_at": "2026-01-02T10:00:00Z", "local_id": "bbbbbbbb-0000-4000-8000-00000000aa01",
       "set": {"first_name": "Matched"}, "base": {"first_name": "Matched"}},
      {"remote_id": "p-gone", "remote_updated_at": "2026-01-02T10:00:00Z", "deleted": true, "set": {}},
      {"remote_id": "p-dup", "remote_updated_at": "2026-01-02T10:00:00Z", "expected_unmapped": true,
       "set": {"email": "dup@example.com", "first_name": "First"}, "base": {}},
      {"remote_id": "p-dup", "remote_updated_at": "2026-01-02T10:00:01Z", "expected_unmapped": true,
       "set": {"email": "dup@example.com", "first_name": "Second"}, "base": {}}]')
    order by remote_id, outcome$$,
  $$values ('p-1', 'created'), ('p-2', 'created'), ('p-dup', 'created'), ('p-dup', 'updated'), ('p-gone', 'deleted'),
           ('p-match', 'matched'), ('p-old', 'updated')$$,
  'each change of a mixed batch gets its outcome');

select results_eq($$select first_name, phone, lead_source from crm.contacts where email = 'one@example.com'$$,
  $$values ('One', '+1 555 0001', null::text)$$, 'a new record gets the fields it sets');
select is((select first_name from crm.contacts where email = 'two@example.com'), null,
  'a new record with fewer fields in the same batch keeps the defaults of the others');
select is((select c.name from crm.contacts p join crm.companies c on c.id = p.company_id where p.email = 'one@example.com'), 'Known',
  'a reference to a mapped record is set at creation');
select is((select target_remote_id from sync.pending_references where local_id = (select id from crm.contacts where email = 'two@example.com')),
  'c-later', 'a reference to a record not here yet is remembered');
select is((select count(*)::int from sync.identity_map m join crm.contacts p on p.id = m.local_id
            where m.connection_id = 'bbbbbbbb-0000-4000-8000-0000000000c1' and m.remote_id in ('p-1', 'p-2')), 2,
  'new records are in the identity map, pointing at their rows');
select is((select base ->> 'email' from sync.identity_map where remote_id = 'p-1'), 'one@example.com', 'with their shadow');
select is((select first_name from crm.contacts where email = 'old@example.com'), 'Older', 'an update in the same batch is applied');
select is((select local_id from sync.identity_map where remote_id = 'p-match'), 'bbbbbbbb-0000-4000-8000-00000000aa01'::uuid,
  'a matched local record is attached, not duplicated');
select results_eq($$select count(*)::int, min(first_name) from crm.contacts where email = 'dup@example.com'$$,
  $$values (1, 'Second')$$, 'a remote id twice in one batch makes one record, with the newer version');
select is((select count(*)::int from sync.identity_map where remote_id = 'p-gone'), 0, 'a deletion of an unknown record creates nothing');

select is((select count(*)::int from audit.entries a join crm.contacts p on p.id = a.entity_id
            where p.email in ('one@example.com', 'two@example.com') and a.action = 'created' and a.source = 'hubspot'
              and a.actor_connection_id = 'bbbbbbbb-0000-4000-8000-0000000000c1'), 2,
  'each new record has its audit entry, from the CRM it came from');
select is((select count(*)::int from pgmq.q_crm_outbound where message ->> 'connection_id' = 'bbbbbbbb-0000-4000-8000-0000000000c1'), 0,
  'nothing is queued back to the CRM the records came from');
select ok((select count(*) > 0 from pgmq.q_crm_outbound where message ->> 'connection_id' = 'bbbbbbbb-0000-4000-8000-0000000000c2'),
  'the other connection is told');
select is(current_setting('crm_sync.origin_connection', true), '', 'the origin is put back after the apply');

-- The company and a deal waiting for it arrive later: every waiting record, of either table, points at it.
select sync.apply_inbound_changes('bbbbbbbb-0000-4000-8000-0000000000c1', 'deal',
  '[{"remote_id": "d-1", "remote_updated_at": "2026-01-02T10:00:00Z", "expected_unmapped": true, "set": {"name": "Deal"}, "base": {},
     "references": {"company": "c-later", "contact": "p-1"}}]');
select sync.apply_inbound_changes('bbbbbbbb-0000-4000-8000-0000000000c1', 'company',
  '[{"remote_id": "c-later", "remote_updated_at": "2026-01-02T11:00:00Z", "expected_unmapped": true, "set": {"name": "Later"}, "base": {}}]');
select results_eq(
  $$select (select c.name from crm.contacts p join crm.companies c on c.id = p.company_id where p.email = 'two@example.com'),
           (select c.name from crm.deals d join crm.companies c on c.id = d.company_id where d.name = 'Deal'),
           (select p.email from crm.deals d join crm.contacts p on p.id = d.contact_id where d.name = 'Deal')$$,
  $$values ('Later', 'Later', 'one@example.com')$$, 'records waiting in several tables point at the new record');
select is((select count(*)::int from sync.pending_references where connection_id = 'bbbbbbbb-0000-4000-8000-0000000000c1'), 0,
  'no reference is left pending');

select * from finish();
rollback;
