-- Connection credentials live in Vault as one JSON document per connection
-- (API token or OAuth tokens, webhook secrets). This is the only way to read
-- them, and only the service role may call it.
create function sync.connection_credentials(p_connection_id uuid) returns jsonb
language plpgsql stable security definer set search_path = ''
as $$
declare
  secret_text text;
begin
  select s.decrypted_secret into secret_text
    from sync.connections c
    join vault.decrypted_secrets s on s.id = c.secret_id
   where c.id = p_connection_id;
  if secret_text is null then
    raise exception 'connection % has no credentials in Vault', p_connection_id
      using errcode = 'P0002', hint = 'connect the account again (crm-sync connect) to store its credentials';
  end if;
  return secret_text::jsonb;
end
$$;
revoke execute on function sync.connection_credentials(uuid) from public;
grant execute on function sync.connection_credentials(uuid) to service_role;

-- Stores (or replaces) a connection's credentials in Vault and links them.
create function sync.set_connection_credentials(p_connection_id uuid, p_credentials jsonb) returns uuid
language plpgsql security definer set search_path = ''
as $$
declare
  current_secret uuid;
begin
  if jsonb_typeof(p_credentials) is distinct from 'object' then
    raise exception 'credentials must be a JSON object' using errcode = '22023';
  end if;
  select secret_id into current_secret from sync.connections where id = p_connection_id for update;
  if not found then
    raise exception 'connection % does not exist', p_connection_id using errcode = 'P0002';
  end if;
  if current_secret is null then
    current_secret := vault.create_secret(p_credentials::text, format('crm-sync/connection/%s', p_connection_id),
      'CRM credentials of a crm-sync connection');
    update sync.connections set secret_id = current_secret where id = p_connection_id;
  else
    perform vault.update_secret(current_secret, p_credentials::text);
  end if;
  return current_secret;
end
$$;
revoke execute on function sync.set_connection_credentials(uuid, jsonb) from public;
grant execute on function sync.set_connection_credentials(uuid, jsonb) to service_role;
