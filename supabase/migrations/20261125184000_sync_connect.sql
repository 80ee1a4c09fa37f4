-- Connecting and disconnecting a CRM account. Connecting creates the
-- connection, stores its credentials in Vault and seeds its value maps in
-- one transaction; connecting the same account again updates it in place.
-- Disconnecting stops sync and keeps every synced record.
create function sync.connect_account(p_tenant_id uuid, p_provider text, p_account_id text, p_display_name text,
                                     p_settings jsonb, p_credentials jsonb, p_value_maps jsonb default '[]')
returns uuid
language plpgsql security definer set search_path = ''
as $$
declare
  connection_id uuid;
  owner uuid;
begin
  if not exists (select from crm.tenants where id = p_tenant_id) then
    raise exception 'tenant % does not exist', p_tenant_id using errcode = 'P0002', hint = 'create the tenant first (crm.tenants)';
  end if;
  select id, tenant_id into connection_id, owner from sync.connections where provider = p_provider and account_id = p_account_id;
  if owner is not null and owner <> p_tenant_id then
    raise exception '% account % is already connected to another tenant', p_provider, p_account_id
      using errcode = '23505', hint = 'disconnect it there first';
  end if;
  insert into sync.connections as c (tenant_id, provider, account_id, display_name, settings, enabled)
  values (p_tenant_id, p_provider, p_account_id, p_display_name, coalesce(p_settings, '{}'), true)
  on conflict (provider, account_id) do update
    set display_name = coalesce(excluded.display_name, c.display_name), settings = excluded.settings, enabled = true
  returning id into connection_id;
  perform sync.set_connection_credentials(connection_id, p_credentials);
  insert into sync.value_maps (connection_id, kind, remote_value, local_value, remote_context)
  select connection_id, v ->> 'kind', v ->> 'remote_value', v ->> 'local_value', v ->> 'remote_context'
    from jsonb_array_elements(coalesce(p_value_maps, '[]')) v
  on conflict do nothing;
  return connection_id;
end
$$;

create function sync.disconnect_account(p_connection_id uuid) returns void
language plpgsql security definer set search_path = ''
as $$
begin
  update sync.connections set enabled = false where id = p_connection_id;
  if not found then
    raise exception 'connection % does not exist', p_connection_id using errcode = 'P0002';
  end if;
end
$$;

revoke execute on function sync.connect_account(uuid, text, text, text, jsonb, jsonb, jsonb),
  sync.disconnect_account(uuid) from public;
grant execute on function sync.connect_account(uuid, text, text, text, jsonb, jsonb, jsonb),
  sync.disconnect_account(uuid) to service_role;
