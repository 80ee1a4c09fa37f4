-- Deny by default: app users (anon, authenticated) get no way to make the
-- database send HTTP requests (pg_net would otherwise let any signed-in user
-- reach internal URLs) and no other function beyond the ones the app needs.
-- A pgTAP test lists every function they can call against an allowed list.
revoke execute on function net.http_get(text, jsonb, jsonb, integer),
  net.http_post(text, jsonb, jsonb, jsonb, integer),
  net.http_delete(text, jsonb, jsonb, integer) from anon, authenticated;
