-- The local pg_net stand-in queues requests as pg_net 0.14 does.
-- Assumes `create extension pg_net with schema extensions` already ran.
-- Nothing is sent: the transaction rolls back, so the worker never sees
-- these rows.
begin;
select plan(33);

-- API surface, in schema net whatever schema the extension was created in
select has_schema('net', 'schema net exists');
select has_table('net', 'http_request_queue', 'net.http_request_queue exists');
select has_table('net', '_http_response', 'net._http_response exists');
select has_function('net', 'http_get', array['text', 'jsonb', 'jsonb', 'integer'], 'net.http_get(text, jsonb, jsonb, integer) exists');
select has_function('net', 'http_post', array['text', 'jsonb', 'jsonb', 'jsonb', 'integer'], 'net.http_post(text, jsonb, jsonb, jsonb, integer) exists');
select has_function('net', 'http_delete', array['text', 'jsonb', 'jsonb', 'integer'], 'net.http_delete(text, jsonb, jsonb, integer) exists');
select columns_are(
  'net', '_http_response',
  array['id', 'status_code', 'content_type', 'headers', 'content', 'timed_out', 'error_msg', 'created'],
  'net._http_response has the pg_net columns'
);

create temp table requests (label text primary key, id bigint);

-- GET: params become a url-encoded query string
insert into requests values
  ('get', net.http_get('http://crm-sync.test/items', '{"q": "a b&c/d", "page": "2"}')),
  ('get_with_query', net.http_get('http://crm-sync.test/items?limit=5#top', '{"after": "ä~"}')),
  ('get_timeout', net.http_get('http://crm-sync.test/slow', timeout_milliseconds := 250));

select isnt((select id from requests where label = 'get'), null, 'http_get returns the request id');
select is(
  (select q.method::text from net.http_request_queue q join requests r on r.id = q.id where r.label = 'get'),
  'GET',
  'http_get queues a GET under the returned id'
);
select is(
  (select q.url from net.http_request_queue q join requests r on r.id = q.id where r.label = 'get'),
  'http://crm-sync.test/items?q=a%20b%26c%2Fd&page=2',
  'params are appended as a url-encoded query string'
);
select is(
  (select q.url from net.http_request_queue q join requests r on r.id = q.id where r.label = 'get_with_query'),
  'http://crm-sync.test/items?limit=5&after=%C3%A4~#top',
  'params join an existing query string, before the fragment'
);
select is(
  (select q.headers from net.http_request_queue q join requests r on r.id = q.id where r.label = 'get'),
  '{}'::jsonb,
  'http_get sends no headers by default'
);
select is(
  (select q.body from net.http_request_queue q join requests r on r.id = q.id where r.label = 'get'),
  null,
  'http_get has no body'
);
select is(
  (select q.timeout_milliseconds from net.http_request_queue q join requests r on r.id = q.id where r.label = 'get'),
  5000,
  'the default timeout is 5000 ms'
);
select is(
  (select q.timeout_milliseconds from net.http_request_queue q join requests r on r.id = q.id where r.label = 'get_timeout'),
  250,
  'timeout_milliseconds is kept'
);
select is(net.http_get(null), null, 'http_get is strict: a null url queues nothing');

-- POST: JSON body, Content-Type added when missing
insert into requests values
  ('post', net.http_post('http://crm-sync.test/hooks', '{"name": "Ada", "n": 1}')),
  ('post_headers', net.http_post('http://crm-sync.test/hooks', headers := '{"X-Crm-Sync": "yes"}', params := '{"src": "db"}')),
  ('post_empty', net.http_post('http://crm-sync.test/hooks'));

select is(
  (select q.method::text from net.http_request_queue q join requests r on r.id = q.id where r.label = 'post'),
  'POST',
  'http_post queues a POST'
);
select is(
  (select q.headers from net.http_request_queue q join requests r on r.id = q.id where r.label = 'post'),
  '{"Content-Type": "application/json"}'::jsonb,
  'http_post sends Content-Type: application/json by default'
);
select is(
  (select convert_from(q.body, 'UTF8')::jsonb from net.http_request_queue q join requests r on r.id = q.id where r.label = 'post'),
  '{"name": "Ada", "n": 1}'::jsonb,
  'the JSON body is queued as UTF-8 bytes'
);
select is(
  (select q.headers from net.http_request_queue q join requests r on r.id = q.id where r.label = 'post_headers'),
  '{"X-Crm-Sync": "yes", "Content-Type": "application/json"}'::jsonb,
  'headers given without a content type get the JSON one added'
);
select is(
  (select q.url from net.http_request_queue q join requests r on r.id = q.id where r.label = 'post_headers'),
  'http://crm-sync.test/hooks?src=db',
  'http_post appends params too'
);
select is(
  (select convert_from(q.body, 'UTF8') from net.http_request_queue q join requests r on r.id = q.id where r.label = 'post_empty'),
  '{}',
  'the default body is an empty JSON object'
);
select throws_ok(
  $$ select net.http_post('http://crm-sync.test/hooks', headers := '{"content-type": "text/plain"}') $$,
  '22023', 'Content-Type header must be "application/json"',
  'http_post refuses a non-JSON content type'
);

-- DELETE
insert into requests values ('delete', net.http_delete('http://crm-sync.test/items/7', '{"force": "true"}'));

select is(
  (select q.method || ' ' || q.url from net.http_request_queue q join requests r on r.id = q.id where r.label = 'delete'),
  'DELETE http://crm-sync.test/items/7?force=true',
  'http_delete queues a DELETE with its params'
);
select ok(
  (select id from requests where label = 'delete') > (select id from requests where label = 'post'),
  'request ids increase'
);

select is(
  (select (net._http_collect_response(-1)).status::text),
  'ERROR',
  'collecting an unknown request reports ERROR'
);

-- Access: anon gets nothing; authenticated may queue but not read; service_role may do both
set local role anon;
select throws_ok($$ select net.http_post('http://crm-sync.test/hooks') $$, '42501', null, 'anon cannot call net.http_post');
select throws_ok($$ select net.http_get('http://crm-sync.test/items') $$, '42501', null, 'anon cannot call net.http_get');
select throws_ok($$ select * from net._http_response $$, '42501', null, 'anon cannot read net._http_response');
reset role;

set local role authenticated;
select throws_ok($$ select net.http_post('http://crm-sync.test/hooks') $$, '42501', null,
  'authenticated cannot call net.http_post (hosted allows it; the least-privilege migration revokes it)');
select throws_ok($$ select * from net.http_request_queue $$, '42501', null, 'authenticated cannot read the request queue');
reset role;

set local role service_role;
select lives_ok($$ select net.http_get('http://crm-sync.test/items') $$, 'service_role can call net.http_get');
select lives_ok($$ select * from net._http_response $$, 'service_role can read net._http_response');
reset role;

select * from finish();
rollback;
