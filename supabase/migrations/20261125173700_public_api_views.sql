-- The app's way in: security-invoker views in schema public (the one exposed
-- by the Data API), so RLS of the crm tables applies to every query through
-- them and the crm schema itself stays private. Soft-deleted rows are hidden.
create view public.companies with (security_invoker = true) as
  select * from crm.companies where deleted_at is null;
create view public.contacts with (security_invoker = true) as
  select * from crm.contacts where deleted_at is null;
create view public.deals with (security_invoker = true) as
  select * from crm.deals where deleted_at is null;
create view public.activities with (security_invoker = true) as
  select * from crm.activities where deleted_at is null;
create view public.tasks with (security_invoker = true) as
  select * from crm.tasks where deleted_at is null;

revoke all on public.companies, public.contacts, public.deals, public.activities, public.tasks from anon;
grant select, insert, update, delete on public.companies, public.contacts, public.deals, public.activities, public.tasks
  to authenticated, service_role;
