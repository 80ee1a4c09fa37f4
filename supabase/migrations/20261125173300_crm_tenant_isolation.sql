-- Tenant isolation of the crm records: authenticated users read and write
-- only rows of their own tenant (crm.current_tenant_id()); anon gets no
-- privilege at all; service_role bypasses RLS for the sync engine.
do $$
declare
  tbl text;
  label text;
begin
  foreach tbl in array array['companies', 'contacts', 'deals', 'activities', 'tasks'] loop
    label := replace(tbl, '_', ' ');
    execute format('alter table crm.%I enable row level security', tbl);
    execute format($p$create policy "members read their tenant's %s" on crm.%I
      for select to authenticated using (tenant_id = (select crm.current_tenant_id()))$p$, label, tbl);
    execute format($p$create policy "members add %s to their tenant" on crm.%I
      for insert to authenticated with check (tenant_id = (select crm.current_tenant_id()))$p$, label, tbl);
    execute format($p$create policy "members change their tenant's %s" on crm.%I
      for update to authenticated using (tenant_id = (select crm.current_tenant_id()))
      with check (tenant_id = (select crm.current_tenant_id()))$p$, label, tbl);
    execute format($p$create policy "members delete their tenant's %s" on crm.%I
      for delete to authenticated using (tenant_id = (select crm.current_tenant_id()))$p$, label, tbl);
    execute format('grant select, insert, update, delete on crm.%I to authenticated', tbl);
    execute format('grant all on crm.%I to service_role', tbl);
  end loop;
end
$$;
