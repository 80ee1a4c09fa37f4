-- The inbound apply looks records up one key at a time (the identity map by
-- remote id, crm rows by id, contacts by email). On a table that has grown
-- since it was last analyzed (a first backfill into an empty project: the
-- identity map goes from 0 to 100,000 rows in a minute) the planner still
-- believes it tiny and may scan or hash it whole for a batch of keys, so
-- every page would cost more than the last until autovacuum catches up.
-- These functions only ever want index probes, so sequential scans are off
-- inside them (see also 20261126000300 for the identity map's keys).
alter function sync.apply_inbound_changes(uuid, crm.entity_type, jsonb) set enable_seqscan = off;
alter function sync._apply_inbound_changes_locked(uuid, crm.entity_type, jsonb) set enable_seqscan = off;
alter function sync._create_inbound_records(uuid, crm.entity_type, jsonb) set enable_seqscan = off;
alter function sync.load_inbound_state(uuid, crm.entity_type, text[]) set enable_seqscan = off;
alter function sync.match_local_records(uuid, crm.entity_type, jsonb) set enable_seqscan = off;
