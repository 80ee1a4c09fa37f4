-- Apps subscribe to CRM changes with Supabase Realtime (RLS applies there too).
alter publication supabase_realtime add table
  crm.companies, crm.contacts, crm.deals, crm.activities, crm.tasks;
