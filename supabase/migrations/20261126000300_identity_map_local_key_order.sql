-- The identity map's two unique keys began with the same columns:
-- (connection_id, entity_type, remote_id) and (connection_id, entity_type,
-- local_id). A lookup by remote id could therefore be planned on either, and
-- on a table that grew since its last ANALYZE (a first backfill) the planner
-- took the local-id key with remote_id as a filter: every lookup read every
-- row of the connection, and a page took longer the more pages came before
-- it, until autovacuum re-analyzed the table. The local-id key now leads with
-- local_id, so a remote-id lookup has one index to use, and a local-id lookup
-- (with or without the entity type) is still a single probe.
alter table sync.identity_map
  drop constraint identity_map_connection_id_entity_type_local_id_key,
  add constraint identity_map_local_key unique (local_id, connection_id, entity_type);
