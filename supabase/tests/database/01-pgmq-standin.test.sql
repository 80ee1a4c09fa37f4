-- The pgmq 1.4.4 API the sync engine relies on, as the local stand-in
-- (scripts/stack/extensions/pgmq--1.4.4.sql) provides it: queue lifecycle,
-- send, read with a visibility timeout, pop, archive, delete, purge,
-- metrics, queue-name validation and privileges. The database must already
-- have run `create extension pgmq`.
begin;
set local client_min_messages = warning;
select plan(93);

------------------------------------------------------------------------------
-- Installed objects
------------------------------------------------------------------------------

select has_extension('pgmq', 'pgmq', 'pgmq is installed in schema pgmq');
select is(
    (select extversion from pg_extension where extname = 'pgmq'),
    '1.4.4',
    'pgmq is at the version hosted Supabase ships'
);
select has_table('pgmq', 'meta', 'pgmq.meta exists');
select columns_are(
    'pgmq', 'meta',
    array['queue_name', 'is_partitioned', 'is_unlogged', 'created_at'],
    'pgmq.meta has the pgmq columns'
);
select has_composite('pgmq', 'message_record', 'pgmq.message_record exists');
select has_composite('pgmq', 'queue_record', 'pgmq.queue_record exists');
select has_composite('pgmq', 'metrics_result', 'pgmq.metrics_result exists');
select results_eq(
    $$
    select a.attname::text collate "default", format_type(a.atttypid, a.atttypmod)
      from pg_attribute a
     where a.attrelid = 'pgmq.message_record'::regclass and a.attnum > 0
     order by a.attnum
    $$,
    $$
    values ('msg_id', 'bigint'),
           ('read_ct', 'integer'),
           ('enqueued_at', 'timestamp with time zone'),
           ('vt', 'timestamp with time zone'),
           ('message', 'jsonb')
    $$,
    'pgmq.message_record has the pgmq shape'
);

select function_returns('pgmq', 'create', array['text'], 'void', 'create(queue_name)');
select function_returns('pgmq', 'create_unlogged', array['text'], 'void', 'create_unlogged(queue_name)');
select function_returns('pgmq', 'drop_queue', array['text', 'boolean'], 'boolean', 'drop_queue(queue_name, partitioned)');
select function_returns('pgmq', 'purge_queue', array['text'], 'bigint', 'purge_queue(queue_name)');
select function_returns('pgmq', 'list_queues', array[]::text[], 'setof pgmq.queue_record', 'list_queues()');
select function_returns('pgmq', 'send', array['text', 'jsonb', 'integer'], 'setof bigint', 'send(queue_name, msg, delay)');
select function_returns('pgmq', 'send_batch', array['text', 'jsonb[]', 'integer'], 'setof bigint', 'send_batch(queue_name, msgs, delay)');
select function_returns('pgmq', 'read', array['text', 'integer', 'integer'], 'setof pgmq.message_record', 'read(queue_name, vt, qty)');
select function_returns('pgmq', 'read', array['text', 'integer', 'integer', 'jsonb'], 'setof pgmq.message_record', 'read(queue_name, vt, qty, conditions)');
select function_returns('pgmq', 'read_with_poll', array['text', 'integer', 'integer', 'integer', 'integer'], 'setof pgmq.message_record', 'read_with_poll(queue_name, vt, qty, max_poll_seconds, poll_interval_ms)');
select function_returns('pgmq', 'pop', array['text'], 'setof pgmq.message_record', 'pop(queue_name)');
select function_returns('pgmq', 'archive', array['text', 'bigint'], 'boolean', 'archive(queue_name, msg_id)');
select function_returns('pgmq', 'archive', array['text', 'bigint[]'], 'setof bigint', 'archive(queue_name, msg_ids)');
select function_returns('pgmq', 'delete', array['text', 'bigint'], 'boolean', 'delete(queue_name, msg_id)');
select function_returns('pgmq', 'delete', array['text', 'bigint[]'], 'setof bigint', 'delete(queue_name, msg_ids)');
select function_returns('pgmq', 'set_vt', array['text', 'bigint', 'integer'], 'setof pgmq.message_record', 'set_vt(queue_name, msg_id, vt)');
select function_returns('pgmq', 'metrics', array['text'], 'pgmq.metrics_result', 'metrics(queue_name)');
select function_returns('pgmq', 'metrics_all', array[]::text[], 'setof pgmq.metrics_result', 'metrics_all()');

------------------------------------------------------------------------------
-- Queue lifecycle
------------------------------------------------------------------------------

select lives_ok($$select pgmq.create('crm_test_jobs')$$, 'create makes a queue');
select lives_ok($$select pgmq.create('crm_test_jobs')$$, 'create is idempotent');
select has_table('pgmq', 'q_crm_test_jobs', 'the queue table exists');
select has_table('pgmq', 'a_crm_test_jobs', 'the archive table exists');
select columns_are(
    'pgmq', 'q_crm_test_jobs',
    array['msg_id', 'read_ct', 'enqueued_at', 'vt', 'message'],
    'the queue table has the pgmq columns'
);
select columns_are(
    'pgmq', 'a_crm_test_jobs',
    array['msg_id', 'read_ct', 'enqueued_at', 'archived_at', 'vt', 'message'],
    'the archive table has the pgmq columns'
);
select col_is_pk('pgmq', 'q_crm_test_jobs', 'msg_id', 'msg_id is the queue primary key');
select is(
    (select attidentity::text from pg_attribute
      where attrelid = 'pgmq.q_crm_test_jobs'::regclass and attname = 'msg_id'),
    'a',
    'msg_id is an identity column (always)'
);
select has_index('pgmq', 'q_crm_test_jobs', 'q_crm_test_jobs_vt_idx', array['vt'], 'the queue is indexed on vt');
select has_index('pgmq', 'a_crm_test_jobs', 'archived_at_idx_crm_test_jobs', array['archived_at'], 'the archive is indexed on archived_at');
select is(
    (select count(*)::integer
       from pg_depend d
      where d.refobjid = (select oid from pg_extension where extname = 'pgmq')
        and d.deptype = 'e'
        and d.classid = 'pg_class'::regclass
        and d.objid in ('pgmq.q_crm_test_jobs'::regclass,
                        'pgmq.a_crm_test_jobs'::regclass)),
    2,
    'queue and archive tables are extension members, as pgmq makes them'
);
select results_eq(
    $$select queue_name::text, is_partitioned, is_unlogged
        from pgmq.list_queues() where queue_name = 'crm_test_jobs'$$,
    $$values ('crm_test_jobs', false, false)$$,
    'list_queues lists the queue once'
);

select lives_ok($$select pgmq.create_unlogged('crm_test_fast')$$, 'create_unlogged makes a queue');
select is(
    (select relpersistence::text from pg_class where oid = 'pgmq.q_crm_test_fast'::regclass),
    'u',
    'an unlogged queue has an unlogged queue table'
);
select is(
    (select is_unlogged from pgmq.list_queues() where queue_name = 'crm_test_fast'),
    true,
    'list_queues marks it unlogged'
);
select is(pgmq.drop_queue('crm_test_fast'), true, 'drop_queue returns true');
select hasnt_table('pgmq', 'q_crm_test_fast', 'drop_queue drops the queue table');
select hasnt_table('pgmq', 'a_crm_test_fast', 'drop_queue drops the archive table');
select is_empty(
    $$select 1 from pgmq.list_queues() where queue_name = 'crm_test_fast'$$,
    'drop_queue removes the queue from list_queues'
);

------------------------------------------------------------------------------
-- Send, read and the visibility timeout
------------------------------------------------------------------------------

create temporary table sent (label text primary key, msg_id bigint not null);

insert into sent select 'first', pgmq.send('crm_test_jobs', '{"n": 1}');
insert into sent
select 'batch_' || b.position, b.msg_id
  from pgmq.send_batch('crm_test_jobs', array['{"n": 2}', '{"n": 3}']::jsonb[])
       with ordinality as b (msg_id, position);

select ok(
    (select msg_id from sent where label = 'first') < (select msg_id from sent where label = 'batch_1')
    and (select msg_id from sent where label = 'batch_1') < (select msg_id from sent where label = 'batch_2'),
    'send and send_batch return increasing msg_ids, in array order for a batch'
);

create temporary table read_1 as select * from pgmq.read('crm_test_jobs', 30, 1);
select results_eq(
    $$select msg_id, read_ct, message from read_1$$,
    $$select msg_id, 1, '{"n": 1}'::jsonb from sent where label = 'first'$$,
    'read returns the oldest message as a message_record with read_ct 1'
);
select ok(
    (select vt from read_1) > clock_timestamp() + interval '25 seconds',
    'read hides the message for vt seconds'
);

create temporary table read_2 as select * from pgmq.read('crm_test_jobs', 30, 1);
select results_eq(
    $$select msg_id from read_2$$,
    $$select msg_id from sent where label = 'batch_1'$$,
    'a second read with qty 1 returns a different message'
);

select results_eq(
    $$select msg_id from pgmq.read('crm_test_jobs', 30, 10)$$,
    $$select msg_id from sent where label = 'batch_2'$$,
    'messages being processed stay invisible to further reads'
);
select is_empty(
    $$select * from pgmq.read('crm_test_jobs', 30, 10)$$,
    'nothing is visible while every message is being processed'
);

select results_eq(
    $$select msg_id from pgmq.set_vt('crm_test_jobs', (select msg_id from sent where label = 'first'), 0)$$,
    $$select msg_id from sent where label = 'first'$$,
    'set_vt returns the message it changed'
);
select results_eq(
    $$select msg_id, read_ct from pgmq.read('crm_test_jobs', 30, 10)$$,
    $$select msg_id, 2 from sent where label = 'first'$$,
    'after set_vt 0 the message is visible again and read_ct counts the second read'
);

select ok(
    pg_get_functiondef('pgmq.read(text, integer, integer, jsonb)'::regprocedure)
        ~* 'for\s+update\s+skip\s+locked',
    'read claims rows with FOR UPDATE SKIP LOCKED'
);

insert into sent select 'deal', pgmq.send('crm_test_jobs', '{"kind": "deal"}');
insert into sent select 'contact', pgmq.send('crm_test_jobs', '{"kind": "contact"}');
select results_eq(
    $$select msg_id from pgmq.read('crm_test_jobs', 30, 10, '{"kind": "contact"}')$$,
    $$select msg_id from sent where label = 'contact'$$,
    'read with conditions returns only messages containing that JSON'
);

insert into sent select 'delayed', pgmq.send('crm_test_jobs', '{"n": 6}', 60);
select ok(
    (select vt from pgmq.q_crm_test_jobs
      where msg_id = (select msg_id from sent where label = 'delayed'))
        > clock_timestamp() + interval '55 seconds',
    'send with a delay sets vt that far ahead'
);
select results_eq(
    $$select msg_id from pgmq.read('crm_test_jobs', 30, 10)$$,
    $$select msg_id from sent where label = 'deal'$$,
    'a delayed message is not read before its delay'
);

select is_empty(
    $$select * from pgmq.read_with_poll('crm_test_jobs', 30, 5, 1, 50)$$,
    'read_with_poll returns nothing when nothing becomes visible'
);
select lives_ok(
    $$select pgmq.set_vt('crm_test_jobs', (select msg_id from sent where label = 'batch_2'), 0)$$,
    'set_vt makes a message visible'
);
select results_eq(
    $$select msg_id from pgmq.read_with_poll('crm_test_jobs', 30, 5, 1, 50)$$,
    $$select msg_id from sent where label = 'batch_2'$$,
    'read_with_poll returns visible messages'
);

------------------------------------------------------------------------------
-- Pop
------------------------------------------------------------------------------

select lives_ok($$select pgmq.create('crm_test_pop')$$, 'create a queue to pop from');
insert into sent select 'pop_1', pgmq.send('crm_test_pop', '{"pop": 1}');
insert into sent select 'pop_2', pgmq.send('crm_test_pop', '{"pop": 2}');

-- pgmq 1.4.4 pop compares vt with now(), the start of the transaction, so a
-- message sent in the same transaction is not poppable yet.
select is_empty(
    $$select * from pgmq.pop('crm_test_pop')$$,
    'pop skips messages sent after the transaction started'
);
select lives_ok(
    $$select pgmq.set_vt('crm_test_pop', msg_id, 0) from sent where label like 'pop_%'$$,
    'set_vt 0 makes them poppable'
);
select results_eq(
    $$select msg_id, message from pgmq.pop('crm_test_pop')$$,
    $$select msg_id, '{"pop": 1}'::jsonb from sent where label = 'pop_1'$$,
    'pop returns the oldest visible message'
);
select results_eq(
    $$select msg_id from pgmq.q_crm_test_pop$$,
    $$select msg_id from sent where label = 'pop_2'$$,
    'pop deletes the message it returns'
);

------------------------------------------------------------------------------
-- Archive and delete
------------------------------------------------------------------------------

select is(
    pgmq.archive('crm_test_jobs', (select msg_id from sent where label = 'first')),
    true,
    'archive returns true for a queued message'
);
select results_eq(
    $$select msg_id, read_ct, message, archived_at is not null
        from pgmq.a_crm_test_jobs$$,
    $$select msg_id, 2, '{"n": 1}'::jsonb, true from sent where label = 'first'$$,
    'archive moves the message, with its read count, to the archive table'
);
select is_empty(
    $$select 1 from pgmq.q_crm_test_jobs
       where msg_id = (select msg_id from sent where label = 'first')$$,
    'the archived message has left the queue'
);
select is(
    pgmq.archive('crm_test_jobs', (select msg_id from sent where label = 'first')),
    false,
    'archive returns false for a message not in the queue'
);
select set_eq(
    $$select * from pgmq.archive('crm_test_jobs',
        array(select msg_id from sent where label in ('batch_1', 'batch_2')) || 999999::bigint)$$,
    $$select msg_id from sent where label in ('batch_1', 'batch_2')$$,
    'archive with an array returns the ids it moved'
);

select is(
    pgmq.delete('crm_test_jobs', (select msg_id from sent where label = 'deal')),
    true,
    'delete returns true for a queued message'
);
select is(
    pgmq.delete('crm_test_jobs', (select msg_id from sent where label = 'deal')),
    false,
    'delete returns false once the message is gone'
);
select set_eq(
    $$select * from pgmq.delete('crm_test_jobs',
        array(select msg_id from sent where label in ('contact', 'delayed')) || 999999::bigint)$$,
    $$select msg_id from sent where label in ('contact', 'delayed')$$,
    'delete with an array returns the ids it deleted'
);
select is(
    (select count(*)::integer from pgmq.a_crm_test_jobs
      where msg_id in (select msg_id from sent where label in ('deal', 'contact', 'delayed'))),
    0,
    'deleted messages are not archived'
);

------------------------------------------------------------------------------
-- Purge and metrics
------------------------------------------------------------------------------

select lives_ok(
    $$select pgmq.send_batch('crm_test_jobs', array['{"p": 1}', '{"p": 2}', '{"p": 3}']::jsonb[])$$,
    'queue three more messages'
);
select is(pgmq.purge_queue('crm_test_jobs'), 3::bigint, 'purge_queue returns how many messages it removed');
select is_empty($$select 1 from pgmq.q_crm_test_jobs$$, 'purge_queue empties the queue');
select isnt_empty($$select 1 from pgmq.a_crm_test_jobs$$, 'purge_queue keeps the archive');

select lives_ok($$select pgmq.create('crm_test_metrics')$$, 'create a queue to measure');
select lives_ok(
    $$select pgmq.send_batch('crm_test_metrics', array['{"m": 1}', '{"m": 2}']::jsonb[])$$,
    'queue two messages'
);
select results_eq(
    $$select queue_name, queue_length, total_messages,
             newest_msg_age_sec >= 0, oldest_msg_age_sec >= newest_msg_age_sec,
             scrape_time = now()
        from pgmq.metrics('crm_test_metrics')$$,
    $$values ('crm_test_metrics'::text, 2::bigint, 2::bigint, true, true, true)$$,
    'metrics reports name, length, ages, total and scrape time'
);
select lives_ok(
    $$select pgmq.delete('crm_test_metrics', (select min(msg_id) from pgmq.q_crm_test_metrics))$$,
    'delete one of them'
);
select results_eq(
    $$select queue_length, total_messages from pgmq.metrics('crm_test_metrics')$$,
    $$values (1::bigint, 2::bigint)$$,
    'queue_length counts queued messages, total_messages counts every message sent'
);
select results_eq(
    $$select queue_name, queue_length from pgmq.metrics_all()
       where queue_name in ('crm_test_jobs', 'crm_test_metrics') order by queue_name$$,
    $$values ('crm_test_jobs'::text, 0::bigint), ('crm_test_metrics'::text, 1::bigint)$$,
    'metrics_all reports every queue'
);

------------------------------------------------------------------------------
-- Queue names
------------------------------------------------------------------------------

select throws_ok(
    $$select pgmq.create('crm;drop')$$,
    'P0001',
    E'queue name contains invalid characters: $, ;, --, or \\''',
    'a queue name with ; is rejected'
);
select throws_ok(
    $$select pgmq.send('crm--x', '{}')$$,
    'P0001',
    E'queue name contains invalid characters: $, ;, --, or \\''',
    'every function rejects a queue name with --'
);
select throws_ok(
    format('select pgmq.create(%L)', repeat('q', 48)),
    'P0001',
    'queue name is too long, maximum length is 48 characters',
    'a 48-character queue name is rejected'
);
select lives_ok(
    format('select pgmq.create(%L)', repeat('q', 47)),
    'a 47-character queue name is accepted'
);
select throws_ok(
    $$select pgmq.create('')$$,
    'P0001',
    'queue name must not be empty',
    'an empty queue name is rejected'
);

------------------------------------------------------------------------------
-- Privileges
------------------------------------------------------------------------------

select ok(
    has_schema_privilege('service_role', 'pgmq', 'usage')
    and has_function_privilege('service_role', 'pgmq.send(text, jsonb, integer)', 'execute')
    and has_function_privilege('service_role', 'pgmq.read(text, integer, integer)', 'execute')
    and has_function_privilege('service_role', 'pgmq.archive(text, bigint)', 'execute'),
    'service_role may use pgmq'
);
select is_empty(
    $$select p.oid::regprocedure, r.rolname
        from pg_proc p
       cross join (values ('anon'), ('authenticated')) as r (rolname)
       where p.pronamespace = 'pgmq'::regnamespace
         and has_function_privilege(r.rolname, p.oid, 'execute')$$,
    'anon and authenticated cannot execute any pgmq function'
);

set local role anon;
select throws_ok(
    $$select pgmq.send('crm_test_jobs', '{}')$$,
    '42501',
    'permission denied for schema pgmq',
    'anon cannot send'
);
reset role;

set local role authenticated;
select throws_ok(
    $$select * from pgmq.read('crm_test_jobs', 30, 1)$$,
    '42501',
    'permission denied for schema pgmq',
    'authenticated cannot read'
);
reset role;

select * from finish();
rollback;
