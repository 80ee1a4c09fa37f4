-- Reconciliation compares every listed record with its local row, and most
-- agree. It read them with sync.load_inbound_state, which also returns what
-- only the resolver needs (the shadow, its references, the pending write): a
-- third of the call's database time. sync.load_reconcile_state returns what a
-- comparison needs (the local row's fields and references, and whether either
-- side is deleted); the engine loads the full state only for the records that
-- differ.
--
-- The local row comes as json of its synced columns and references only
-- (sync._synced_columns, sync._references_of). The function is generated with
-- one static query per entity type so that plpgsql keeps the plans (as
-- load_inbound_state): a migration that changes the synced columns must
-- generate it again.
do $generate$
declare
  branches text;
begin
  select string_agg(format($branch$
  %s p_entity_type = %L then
    return query
      select w.remote_id, m.local_id, case when t.id is not null then (select row_to_json(r) from (select %s) r) end,
             t.deleted_at is not null,
             m.remote_deleted_at is not null
        from unnest(p_remote_ids) as w (remote_id)
        left join sync.identity_map m
          on m.connection_id = p_connection_id and m.entity_type = p_entity_type and m.remote_id = w.remote_id
        left join crm.%I t on t.id = m.local_id;$branch$,
      case when e.n = 1 then 'if' else 'elsif' end, e.entity_type,
      (select string_agg(format('t.%I', c), ', ')
         from unnest(sync._synced_columns(e.entity_type)
                     || array(select r || '_id' from unnest(sync._references_of(e.entity_type)) r)) c),
      sync._table_of(e.entity_type)), '' order by e.n)
    into branches
    from unnest(array['contact', 'company', 'deal', 'activity', 'task']::crm.entity_type[]) with ordinality as e (entity_type, n);

  execute format($function$
create function sync.load_reconcile_state(p_connection_id uuid, p_entity_type crm.entity_type, p_remote_ids text[])
returns table (remote_id text, local_id uuid, local json, local_deleted boolean, remote_deleted boolean)
language plpgsql stable security definer set search_path = ''
as $body$
begin%s
  end if;
end
$body$$function$, branches);
end
$generate$;

comment on function sync.load_reconcile_state(uuid, crm.entity_type, text[]) is
  'What reconciliation compares of each listed record: its local id, the local row''s synced columns as json, and whether '
  'it is deleted locally or known deleted in the CRM. One row per remote id, in no set order; local_id null when unmapped.';
revoke execute on function sync.load_reconcile_state(uuid, crm.entity_type, text[]) from public;
grant execute on function sync.load_reconcile_state(uuid, crm.entity_type, text[]) to service_role;

-- The rate budget's window of grants is rewritten by every grant. Compressed,
-- as Postgres keeps an array of over 2 kB by default, each grant decompressed
-- and compressed it again: 0.8 ms a call with 1,000 grants in the window,
-- against 0.4 ms stored out of line uncompressed.
alter table sync.rate_budgets alter column grants set storage external;
