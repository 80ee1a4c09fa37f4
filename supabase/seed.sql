-- Demo data for the local stack (applied on a new or reset database).
-- Two tenants so tenant isolation is visible from the first query:
--   set app.current_tenant_id = '00000000-0000-4000-8000-00000000a001';
insert into crm.tenants (id, name, slug) values
  ('00000000-0000-4000-8000-00000000a001', 'Acme Corp', 'acme'),
  ('00000000-0000-4000-8000-00000000b001', 'Globex', 'globex')
on conflict (id) do nothing;

insert into crm.companies (id, tenant_id, name, domain, industry, employee_count, annual_revenue, website) values
  ('00000000-0000-4000-8000-00000000a101', '00000000-0000-4000-8000-00000000a001', 'Initech', 'initech.example', 'Software', 120, 15000000, 'https://initech.example'),
  ('00000000-0000-4000-8000-00000000b101', '00000000-0000-4000-8000-00000000b001', 'Umbrella', 'umbrella.example', 'Pharma', 5000, 900000000, 'https://umbrella.example')
on conflict (id) do nothing;

insert into crm.contacts (id, tenant_id, email, first_name, last_name, phone, company_id, lifecycle_stage, lead_source) values
  ('00000000-0000-4000-8000-00000000a201', '00000000-0000-4000-8000-00000000a001', 'peter@initech.example', 'Peter', 'Gibbons', '+1 555 0100', '00000000-0000-4000-8000-00000000a101', 'lead', 'website'),
  ('00000000-0000-4000-8000-00000000a202', '00000000-0000-4000-8000-00000000a001', 'joanna@initech.example', 'Joanna', 'Bromley', null, '00000000-0000-4000-8000-00000000a101', 'customer', 'referral'),
  ('00000000-0000-4000-8000-00000000b201', '00000000-0000-4000-8000-00000000b001', 'alice@umbrella.example', 'Alice', 'Abernathy', '+1 555 0199', '00000000-0000-4000-8000-00000000b101', 'opportunity', 'event')
on conflict (id) do nothing;

insert into crm.deals (id, tenant_id, name, amount, currency, stage, status, probability, close_date, company_id, contact_id) values
  ('00000000-0000-4000-8000-00000000a301', '00000000-0000-4000-8000-00000000a001', 'Initech renewal', 48000, 'USD', 'proposal_sent', 'open', 60, current_date + 30, '00000000-0000-4000-8000-00000000a101', '00000000-0000-4000-8000-00000000a201'),
  ('00000000-0000-4000-8000-00000000b301', '00000000-0000-4000-8000-00000000b001', 'Umbrella pilot', 120000, 'EUR', 'qualified', 'open', 20, current_date + 90, '00000000-0000-4000-8000-00000000b101', null)
on conflict (id) do nothing;

insert into crm.activities (tenant_id, type, subject, body, occurred_at, direction, contact_id, deal_id) values
  ('00000000-0000-4000-8000-00000000a001', 'call', 'Renewal kickoff', 'Discussed seat count.', now() - interval '2 days', 'outbound', '00000000-0000-4000-8000-00000000a201', '00000000-0000-4000-8000-00000000a301'),
  ('00000000-0000-4000-8000-00000000b001', 'note', 'Pilot scope', 'Two sites first.', now() - interval '1 day', null, '00000000-0000-4000-8000-00000000b201', '00000000-0000-4000-8000-00000000b301');

insert into crm.tasks (tenant_id, title, due_date, contact_id, deal_id) values
  ('00000000-0000-4000-8000-00000000a001', 'Send renewal quote', current_date + 3, '00000000-0000-4000-8000-00000000a201', '00000000-0000-4000-8000-00000000a301');
