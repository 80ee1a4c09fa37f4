-- Industries differ by system too (HubSpot's is an enumeration such as
-- COMPUTER_SOFTWARE; the app keeps free text), so they are value-mapped per
-- connection like stages and owners.
alter table sync.value_maps drop constraint value_maps_kind_check;
alter table sync.value_maps add constraint value_maps_kind_check
  check (kind in ('deal_stage', 'lifecycle_stage', 'owner', 'industry'));
