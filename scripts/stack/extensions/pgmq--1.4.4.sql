-- crm-sync stand-in for pgmq 1.4.4 (local stack only; hosted Supabase ships
-- the real extension).
--
-- Pure SQL and PL/pgSQL. It mirrors the SQL API of pgmq 1.4.4 as hosted
-- Supabase installs it: the same function names, argument names, defaults
-- and return types, the same per-queue tables (pgmq.q_<name>, pgmq.a_<name>)
-- and indexes, and the same bookkeeping in pgmq.meta. Creating a queue makes
-- its tables members of the extension, as the real one does, so
-- `drop extension pgmq` drops them and pg_dump skips them (definition and
-- data) like any other extension object.
--
-- The API is exactly 1.4.4's: read(queue_name, vt, qty) and
-- read(queue_name, vt, qty, conditions jsonb) are two functions,
-- read_with_poll takes no conditions, and send/send_batch take integer
-- delays only. The pgmq 1.5+ forms (conditional jsonb default '{}',
-- timestamptz delays) are left out on purpose: code that would fail on
-- hosted Supabase fails here too.
--
-- Deliberate differences:
--   * EXECUTE on the functions is revoked from PUBLIC (the real script keeps
--     the PostgreSQL default) and granted to postgres and service_role, the
--     roles hosted Supabase lets use pgmq. Nothing goes to anon or
--     authenticated.
--   * Partitioned queues need pg_partman, which the local stack does not
--     have: create_partitioned and convert_archive_partitioned raise
--     feature_not_supported.
--   * drop_queue has the signature hosted Supabase exposes,
--     drop_queue(queue_name text, partitioned boolean default false); it
--     detaches only what the extension still owns and ignores the flag.
--   * read_with_poll really sleeps poll_interval_ms between tries (1.4.4
--     divides as integers and so polls without sleeping).
--   * The identity sequence of each queue table is an extension member too,
--     as from pgmq 1.5; otherwise pg_dump emits a grant on a sequence that
--     the restore never creates.
--   * Empty or null queue names are rejected at create time.
--   * read and list_queues return rows in msg_id / creation order.

\echo Use "CREATE EXTENSION pgmq" to load this file. \quit

------------------------------------------------------------------------------
-- Catalogue and types
------------------------------------------------------------------------------

-- One row per queue. The schema itself comes from the control file.
create table pgmq.meta (
    queue_name varchar unique not null,
    is_partitioned boolean not null,
    is_unlogged boolean not null,
    created_at timestamp with time zone default now() not null
);

-- Read-only access for monitoring, as the real extension grants it.
grant usage on schema pgmq to pg_monitor;
grant select on all tables in schema pgmq to pg_monitor;
grant select on all sequences in schema pgmq to pg_monitor;
alter default privileges in schema pgmq grant select on tables to pg_monitor;
alter default privileges in schema pgmq grant select on sequences to pg_monitor;

-- The shape of a message, returned by read, read_with_poll, pop and set_vt.
create type pgmq.message_record as (
    msg_id bigint,
    read_ct integer,
    enqueued_at timestamp with time zone,
    vt timestamp with time zone,
    message jsonb
);

-- The shape of a pgmq.meta row, returned by list_queues.
create type pgmq.queue_record as (
    queue_name varchar,
    is_partitioned boolean,
    is_unlogged boolean,
    created_at timestamp with time zone
);

-- Returned by metrics and metrics_all.
create type pgmq.metrics_result as (
    queue_name text,
    queue_length bigint,
    newest_msg_age_sec integer,
    oldest_msg_age_sec integer,
    total_messages bigint,
    scrape_time timestamp with time zone
);

------------------------------------------------------------------------------
-- Queue names
------------------------------------------------------------------------------

-- Table name for a queue: '<prefix>_<queue name>' in lower case. Rejects the
-- characters the real extension rejects. Every caller still quotes the
-- result with format('%I'), so no name can break out of an identifier.
create function pgmq.format_table_name(queue_name text, prefix text)
returns text
language plpgsql
as $$
begin
    if queue_name ~ '\$|;|--|''' then
        raise exception 'queue name contains invalid characters: $, ;, --, or \'''
            using detail = format('queue name: %L', queue_name),
                  hint = 'Prefer letters, digits and underscores.';
    end if;
    return lower(prefix || '_' || queue_name);
end;
$$;

-- Checked when a queue is created: the longest table, index and sequence
-- names derived from the queue name must fit in 63 bytes.
create function pgmq.validate_queue_name(queue_name text)
returns void
language plpgsql
as $$
begin
    if queue_name is null or queue_name = '' then
        raise exception 'queue name must not be empty';
    end if;
    if length(queue_name) >= 48 then
        raise exception 'queue name is too long, maximum length is 48 characters'
            using detail = format('queue name %L has %s characters.',
                                  queue_name, length(queue_name)),
                  hint = 'Use at most 47 characters.';
    end if;
end;
$$;

-- True when pgmq.<table_name> (a table or a sequence) is a member of this
-- extension.
create function pgmq._belongs_to_pgmq(table_name text)
returns boolean
language sql
stable
as $$
    select exists (
        select 1
          from pg_catalog.pg_depend d
          join pg_catalog.pg_class c on c.oid = d.objid
          join pg_catalog.pg_extension e on e.oid = d.refobjid
         where d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
           and d.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass
           and d.deptype = 'e'
           and e.extname = 'pgmq'
           and c.relnamespace = 'pgmq'::pg_catalog.regnamespace
           and c.relname = $1
    );
$$;

------------------------------------------------------------------------------
-- Queue lifecycle
------------------------------------------------------------------------------

-- Creates pgmq.q_<name> and pgmq.a_<name>, makes them (and the identity
-- sequence) extension members, adds the indexes and registers the queue.
-- Idempotent, like the real create.
create function pgmq._create_queue(queue_name text, unlogged boolean)
returns void
language plpgsql
as $$
declare
    qtable text := pgmq.format_table_name(queue_name, 'q');
    atable text := pgmq.format_table_name(queue_name, 'a');
    qseq text;
begin
    perform pgmq.validate_queue_name(queue_name);

    execute format(
        $sql$
        create %s table if not exists pgmq.%I (
            msg_id bigint primary key generated always as identity,
            read_ct integer default 0 not null,
            enqueued_at timestamp with time zone default now() not null,
            vt timestamp with time zone not null,
            message jsonb
        )
        $sql$,
        case when unlogged then 'unlogged' else '' end,
        qtable
    );

    execute format(
        $sql$
        create table if not exists pgmq.%I (
            msg_id bigint primary key,
            read_ct integer default 0 not null,
            enqueued_at timestamp with time zone default now() not null,
            archived_at timestamp with time zone default now() not null,
            vt timestamp with time zone not null,
            message jsonb
        )
        $sql$,
        atable
    );

    if not pgmq._belongs_to_pgmq(qtable) then
        execute format('alter extension pgmq add table pgmq.%I', qtable);
    end if;

    qseq := pg_catalog.pg_get_serial_sequence(format('pgmq.%I', qtable), 'msg_id');
    if qseq is not null
       and not pgmq._belongs_to_pgmq((parse_ident(qseq))[2]) then
        execute format('alter extension pgmq add sequence %s', qseq);
    end if;

    if not pgmq._belongs_to_pgmq(atable) then
        execute format('alter extension pgmq add table pgmq.%I', atable);
    end if;

    execute format(
        'create index if not exists %I on pgmq.%I (vt asc)',
        qtable || '_vt_idx', qtable
    );

    execute format(
        'create index if not exists %I on pgmq.%I (archived_at)',
        'archived_at_idx_' || queue_name, atable
    );

    insert into pgmq.meta (queue_name, is_partitioned, is_unlogged)
    values (_create_queue.queue_name, false, _create_queue.unlogged)
    on conflict do nothing;
end;
$$;

create function pgmq.create_non_partitioned(queue_name text)
returns void
language plpgsql
as $$
begin
    perform pgmq._create_queue(queue_name, false);
end;
$$;

create function pgmq.create_unlogged(queue_name text)
returns void
language plpgsql
as $$
begin
    perform pgmq._create_queue(queue_name, true);
end;
$$;

create function pgmq."create"(queue_name text)
returns void
language plpgsql
as $$
begin
    perform pgmq.create_non_partitioned(queue_name);
end;
$$;

create function pgmq.create_partitioned(
    queue_name text,
    partition_interval text default '10000',
    retention_interval text default '100000'
)
returns void
language plpgsql
as $$
begin
    raise exception 'partitioned queues need pg_partman, which the local stack does not provide'
        using errcode = 'feature_not_supported',
              hint = 'Use pgmq.create or pgmq.create_unlogged locally.';
end;
$$;

create function pgmq.convert_archive_partitioned(
    table_name text,
    partition_interval text default '10000',
    retention_interval text default '100000',
    leading_partition integer default 10
)
returns void
language plpgsql
as $$
begin
    raise exception 'partitioned archives need pg_partman, which the local stack does not provide'
        using errcode = 'feature_not_supported';
end;
$$;

-- Detaches a queue's archive from the extension, so dropping the queue (or
-- the extension) keeps it.
create function pgmq.detach_archive(queue_name text)
returns void
language plpgsql
as $$
declare
    atable text := pgmq.format_table_name(queue_name, 'a');
begin
    execute format('alter extension pgmq drop table pgmq.%I', atable);
end;
$$;

-- Drops a queue, its archive and its pgmq.meta row. Detaches from the
-- extension only what the extension still owns (hosted Supabase behaviour).
-- The partitioned flag is accepted for compatibility and not needed.
create function pgmq.drop_queue(queue_name text, partitioned boolean default false)
returns boolean
language plpgsql
as $$
declare
    qtable text := pgmq.format_table_name(queue_name, 'q');
    atable text := pgmq.format_table_name(queue_name, 'a');
    qseq text;
begin
    if to_regclass(format('pgmq.%I', qtable)) is not null then
        qseq := pg_catalog.pg_get_serial_sequence(format('pgmq.%I', qtable), 'msg_id');
    end if;

    if pgmq._belongs_to_pgmq(qtable) then
        execute format('alter extension pgmq drop table pgmq.%I', qtable);
    end if;

    if qseq is not null and pgmq._belongs_to_pgmq((parse_ident(qseq))[2]) then
        execute format('alter extension pgmq drop sequence %s', qseq);
    end if;

    if pgmq._belongs_to_pgmq(atable) then
        execute format('alter extension pgmq drop table pgmq.%I', atable);
    end if;

    execute format('drop table if exists pgmq.%I', qtable);
    execute format('drop table if exists pgmq.%I', atable);

    delete from pgmq.meta m where m.queue_name = drop_queue.queue_name;

    return true;
end;
$$;

create function pgmq.list_queues()
returns setof pgmq.queue_record
language plpgsql
as $$
begin
    return query
        select m.queue_name, m.is_partitioned, m.is_unlogged, m.created_at
          from pgmq.meta m
         order by m.created_at, m.queue_name;
end;
$$;

-- Removes every message from the queue (the archive is kept) and returns
-- how many there were.
create function pgmq.purge_queue(queue_name text)
returns bigint
language plpgsql
as $$
declare
    qtable text := pgmq.format_table_name(queue_name, 'q');
    deleted_count bigint;
begin
    execute format('select count(*) from pgmq.%I', qtable) into deleted_count;
    execute format('truncate table pgmq.%I', qtable);
    return deleted_count;
end;
$$;

------------------------------------------------------------------------------
-- Messages
------------------------------------------------------------------------------

-- Enqueues one message, visible after `delay` seconds. Returns its msg_id.
create function pgmq.send(queue_name text, msg jsonb, delay integer default 0)
returns setof bigint
language plpgsql
as $$
declare
    qtable text := pgmq.format_table_name(queue_name, 'q');
begin
    return query execute format(
        $sql$
        insert into pgmq.%I (vt, message)
        values (clock_timestamp() + $2, $1)
        returning msg_id
        $sql$,
        qtable
    ) using msg, make_interval(secs => delay);
end;
$$;

-- Enqueues several messages in array order. Returns their msg_ids.
create function pgmq.send_batch(queue_name text, msgs jsonb[], delay integer default 0)
returns setof bigint
language plpgsql
as $$
declare
    qtable text := pgmq.format_table_name(queue_name, 'q');
begin
    return query execute format(
        $sql$
        insert into pgmq.%I (vt, message)
        select clock_timestamp() + $2, m.message
          from unnest($1::jsonb[]) with ordinality as m (message, position)
         order by m.position
        returning msg_id
        $sql$,
        qtable
    ) using msgs, make_interval(secs => delay);
end;
$$;

-- Claims up to qty visible messages (vt <= now) in msg_id order, skipping
-- rows locked by concurrent readers. Each claimed message gets read_ct + 1
-- and stays invisible for vt seconds. With conditions, only messages whose
-- body contains that JSON (message @> conditions) are considered.
create function pgmq.read(queue_name text, vt integer, qty integer, conditions jsonb)
returns setof pgmq.message_record
language plpgsql
as $$
declare
    qtable text := pgmq.format_table_name(queue_name, 'q');
begin
    return query execute format(
        $sql$
        with visible as (
            select q.msg_id
              from pgmq.%1$I q
             where q.vt <= clock_timestamp()
               and ($3::jsonb is null or q.message @> $3::jsonb)
             order by q.msg_id
             limit $1
               for update skip locked
        ), claimed as (
            update pgmq.%1$I q
               set vt = clock_timestamp() + $2,
                   read_ct = q.read_ct + 1
              from visible
             where q.msg_id = visible.msg_id
            returning q.msg_id, q.read_ct, q.enqueued_at, q.vt, q.message
        )
        select c.msg_id, c.read_ct, c.enqueued_at, c.vt, c.message
          from claimed c
         order by c.msg_id
        $sql$,
        qtable
    ) using qty, make_interval(secs => vt), conditions;
end;
$$;

create function pgmq.read(queue_name text, vt integer, qty integer)
returns setof pgmq.message_record
language plpgsql
as $$
begin
    return query select * from pgmq.read(queue_name, vt, qty, null::jsonb);
end;
$$;

-- Like read, but waits up to max_poll_seconds for messages, trying again
-- every poll_interval_ms.
create function pgmq.read_with_poll(
    queue_name text,
    vt integer,
    qty integer,
    max_poll_seconds integer default 5,
    poll_interval_ms integer default 100
)
returns setof pgmq.message_record
language plpgsql
as $$
declare
    stop_at timestamp with time zone :=
        clock_timestamp() + make_interval(secs => max_poll_seconds);
    r pgmq.message_record;
begin
    loop
        if clock_timestamp() >= stop_at then
            return;
        end if;

        for r in select * from pgmq.read(queue_name, vt, qty, null::jsonb) loop
            return next r;
        end loop;

        if found then
            return;
        end if;

        perform pg_sleep(poll_interval_ms::numeric / 1000);
    end loop;
end;
$$;

-- Removes and returns the oldest visible message. As in pgmq 1.4.4,
-- "visible" compares vt with the transaction start time, now().
create function pgmq.pop(queue_name text)
returns setof pgmq.message_record
language plpgsql
as $$
declare
    qtable text := pgmq.format_table_name(queue_name, 'q');
begin
    return query execute format(
        $sql$
        with next_message as (
            select q.msg_id
              from pgmq.%1$I q
             where q.vt <= now()
             order by q.msg_id
             limit 1
               for update skip locked
        )
        delete from pgmq.%1$I q
         using next_message
         where q.msg_id = next_message.msg_id
        returning q.msg_id, q.read_ct, q.enqueued_at, q.vt, q.message
        $sql$,
        qtable
    );
end;
$$;

-- Moves one message to the archive table. False when it was not in the queue.
create function pgmq.archive(queue_name text, msg_id bigint)
returns boolean
language plpgsql
as $$
declare
    qtable text := pgmq.format_table_name(queue_name, 'q');
    atable text := pgmq.format_table_name(queue_name, 'a');
    result bigint;
begin
    execute format(
        $sql$
        with archived as (
            delete from pgmq.%I
             where msg_id = $1
            returning msg_id, vt, read_ct, enqueued_at, message
        )
        insert into pgmq.%I (msg_id, vt, read_ct, enqueued_at, message)
        select msg_id, vt, read_ct, enqueued_at, message
          from archived
        returning msg_id
        $sql$,
        qtable, atable
    ) using msg_id into result;
    return result is not null;
end;
$$;

-- Moves several messages to the archive table. Returns the ids it moved.
create function pgmq.archive(queue_name text, msg_ids bigint[])
returns setof bigint
language plpgsql
as $$
declare
    qtable text := pgmq.format_table_name(queue_name, 'q');
    atable text := pgmq.format_table_name(queue_name, 'a');
begin
    return query execute format(
        $sql$
        with archived as (
            delete from pgmq.%I
             where msg_id = any($1)
            returning msg_id, vt, read_ct, enqueued_at, message
        )
        insert into pgmq.%I (msg_id, vt, read_ct, enqueued_at, message)
        select msg_id, vt, read_ct, enqueued_at, message
          from archived
        returning msg_id
        $sql$,
        qtable, atable
    ) using msg_ids;
end;
$$;

-- Deletes one message. False when it was not in the queue.
create function pgmq.delete(queue_name text, msg_id bigint)
returns boolean
language plpgsql
as $$
declare
    qtable text := pgmq.format_table_name(queue_name, 'q');
    result bigint;
begin
    execute format(
        'delete from pgmq.%I where msg_id = $1 returning msg_id',
        qtable
    ) using msg_id into result;
    return result is not null;
end;
$$;

-- Deletes several messages. Returns the ids it deleted.
create function pgmq.delete(queue_name text, msg_ids bigint[])
returns setof bigint
language plpgsql
as $$
declare
    qtable text := pgmq.format_table_name(queue_name, 'q');
begin
    return query execute format(
        'delete from pgmq.%I where msg_id = any($1) returning msg_id',
        qtable
    ) using msg_ids;
end;
$$;

-- Sets a message's visibility to now() + vt seconds and returns it.
create function pgmq.set_vt(queue_name text, msg_id bigint, vt integer)
returns setof pgmq.message_record
language plpgsql
as $$
declare
    qtable text := pgmq.format_table_name(queue_name, 'q');
begin
    return query execute format(
        $sql$
        update pgmq.%I q
           set vt = now() + $2
         where q.msg_id = $1
        returning q.msg_id, q.read_ct, q.enqueued_at, q.vt, q.message
        $sql$,
        qtable
    ) using msg_id, make_interval(secs => vt);
end;
$$;

------------------------------------------------------------------------------
-- Metrics
------------------------------------------------------------------------------

-- Queue length, message ages and the number of messages ever sent.
create function pgmq.metrics(queue_name text)
returns pgmq.metrics_result
language plpgsql
as $$
declare
    qtable text := pgmq.format_table_name(queue_name, 'q');
    qseq text := pg_catalog.pg_get_serial_sequence(format('pgmq.%I', qtable), 'msg_id');
    result_row pgmq.metrics_result;
begin
    execute format(
        $sql$
        with q_summary as (
            select count(*) as queue_length,
                   extract(epoch from (now() - max(enqueued_at)))::integer as newest_msg_age_sec,
                   extract(epoch from (now() - min(enqueued_at)))::integer as oldest_msg_age_sec,
                   now() as scrape_time
              from pgmq.%I
        ),
        all_metrics as (
            select case when is_called then last_value else 0 end as total_messages
              from %s
        )
        select $1::text,
               q_summary.queue_length,
               q_summary.newest_msg_age_sec,
               q_summary.oldest_msg_age_sec,
               all_metrics.total_messages,
               q_summary.scrape_time
          from q_summary, all_metrics
        $sql$,
        qtable, qseq
    ) using queue_name into result_row;
    return result_row;
end;
$$;

create function pgmq.metrics_all()
returns setof pgmq.metrics_result
language plpgsql
as $$
declare
    q record;
begin
    for q in select m.queue_name from pgmq.meta m order by m.queue_name loop
        return next pgmq.metrics(q.queue_name);
    end loop;
end;
$$;

------------------------------------------------------------------------------
-- Privileges
------------------------------------------------------------------------------

-- Deny by default: only the extension owner and the roles below may call
-- the functions. Tables keep the owner's privileges (plus pg_monitor's read
-- access above); a project grants its own queue tables on purpose.
revoke execute on all functions in schema pgmq from public;

-- Hosted Supabase lets postgres and service_role use pgmq. Grant the same
-- here when those roles exist (they do on the local stack); never anon or
-- authenticated.
do $grants$
declare
    role_name text;
begin
    foreach role_name in array array['postgres', 'service_role'] loop
        if exists (select 1 from pg_catalog.pg_roles r where r.rolname = role_name)
           and role_name <> current_user then
            execute format('grant usage on schema pgmq to %I', role_name);
            execute format('grant execute on all functions in schema pgmq to %I', role_name);
            execute format(
                'grant select, insert, update, delete on table pgmq.meta to %I',
                role_name
            );
        end if;
    end loop;
end
$grants$;
