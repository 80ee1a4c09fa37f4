-- crm-sync stand-in for pg_net 0.14.0 (local stack only).
--
-- Hosted Supabase ships the real extension, whose background worker inside
-- the server sends the queued requests with libcurl. Here the same tables and
-- functions queue the request and notify channel pg_net_request; Postgres
-- delivers the notification only when the calling transaction commits, and
-- scripts/stack/pg-net-worker.mjs (connected as application_name
-- 'pg_net worker') claims the row, sends it and writes net._http_response.
-- A rolled-back transaction leaves neither the row nor the notification, so
-- its request is never sent: the real pg_net semantics.
--
-- As in the real extension the objects live in schema net whatever schema
-- `create extension` names.
--
-- Deliberate differences from the real 0.14.0:
--   * Requests go out only while a worker is connected (the stack starts
--     one); net.check_worker_is_up() looks for its application_name, and
--     net.worker_restart() drops its connections, which it re-opens.
--   * net.http_get/http_post/http_delete are SECURITY DEFINER with an empty
--     search_path, and access is narrower: postgres and service_role use
--     everything; authenticated may call the three http_* functions, as on
--     hosted Supabase, but reads no table; anon and PUBLIC get nothing
--     (hosted Supabase grants anon the same as authenticated, and the real
--     script gives PUBLIC all rights on the net tables).
--   * http_post raises its Content-Type error with SQLSTATE 22023 (the real
--     one: P0001) and treats null headers as {}. No function is declared
--     parallel safe.
--   * The worker sends with Node's fetch, not libcurl: it does not follow
--     redirects (as libcurl by default), refuses the ports fetch blocks,
--     reports errors in Node's words, and stores response header names in
--     lower case.

\echo Use "create extension pg_net" to load this file. \quit

create schema if not exists net;

create domain net.http_method as text
check (
  value ilike 'get'
  or value ilike 'post'
  or value ilike 'delete'
);

-- Pending requests; the worker deletes a row when it claims it.
create unlogged table net.http_request_queue (
  id bigserial,
  method net.http_method not null,
  url text not null,
  headers jsonb not null,
  body bytea,
  timeout_milliseconds int not null
);

-- One row per finished request, same id as the request; the worker deletes
-- rows older than its ttl (6 hours by default, as pg_net.ttl).
create unlogged table net._http_response (
  id bigint,
  status_code integer,
  content_type text,
  headers jsonb,
  content text,
  timed_out bool,
  error_msg text,
  created timestamptz not null default now()
);

create index on net._http_response (created);

create type net.request_status as enum ('PENDING', 'SUCCESS', 'ERROR');

create type net.http_response as (
  status_code integer,
  headers jsonb,
  body text
);

create type net.http_response_result as (
  status net.request_status,
  message text,
  response net.http_response
);

-- Percent-encodes every byte but the unreserved characters (RFC 3986), as
-- curl_easy_escape does in the real extension.
create function net._urlencode_string(string varchar)
returns text
language sql
immutable
strict
set search_path = ''
as $$
  select coalesce(
    string_agg(
      case
        when b between 48 and 57 or b between 65 and 90 or b between 97 and 122 or b in (45, 46, 95, 126)
          then chr(b)
        else '%' || upper(lpad(to_hex(b), 2, '0'))
      end,
      '' order by i
    ),
    ''
  )
  from (select convert_to(string, 'UTF8') as bytes) s
  cross join lateral generate_series(0, length(s.bytes) - 1) as i
  cross join lateral get_byte(s.bytes, i) as b
$$;

-- Appends already encoded key=value pairs to the url's query string,
-- before any #fragment.
create function net._encode_url_with_params_array(url text, params_array text[])
returns text
language sql
immutable
strict
set search_path = ''
as $$
  select case
    when array_to_string(params_array, '&') = '' then url
    else
      u.base
      || case
           when position('?' in u.base) = 0 then '?'
           when right(u.base, 1) in ('?', '&') then ''
           else '&'
         end
      || array_to_string(params_array, '&')
      || u.fragment
  end
  from (
    select
      split_part(url, '#', 1) as base,
      case when position('#' in url) > 0 then substring(url from position('#' in url)) else '' end as fragment
  ) u
$$;

create function net.http_get(
  -- url for the request
  url text,
  -- key/value pairs to be url encoded and appended to the `url`
  params jsonb default '{}'::jsonb,
  -- key/values to be included in request headers
  headers jsonb default '{}'::jsonb,
  -- the maximum number of milliseconds the request may take before being cancelled
  timeout_milliseconds int default 5000
)
returns bigint
language plpgsql
volatile
strict
security definer
set search_path = ''
as $$
declare
  request_id bigint;
  params_array text[];
begin
  select coalesce(array_agg(net._urlencode_string(key) || '=' || net._urlencode_string(value)), '{}')
  into params_array
  from jsonb_each_text(params);

  insert into net.http_request_queue (method, url, headers, timeout_milliseconds)
  values ('GET', net._encode_url_with_params_array(url, params_array), headers, timeout_milliseconds)
  returning id into request_id;

  perform pg_notify('pg_net_request', request_id::text);
  return request_id;
end
$$;

create function net.http_post(
  -- url for the request
  url text,
  -- body of the POST request
  body jsonb default '{}'::jsonb,
  -- key/value pairs to be url encoded and appended to the `url`
  params jsonb default '{}'::jsonb,
  -- key/values to be included in request headers
  headers jsonb default '{"Content-Type": "application/json"}'::jsonb,
  -- the maximum number of milliseconds the request may take before being cancelled
  timeout_milliseconds int default 5000
)
returns bigint
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  request_id bigint;
  params_array text[];
  content_type text;
begin
  select r.header_value
  into content_type
  from jsonb_each_text(coalesce(headers, '{}'::jsonb)) r(header_name, header_value)
  where lower(r.header_name) = 'content-type'
  limit 1;

  -- headers given without a content type get the JSON one added
  if content_type is null then
    headers := coalesce(headers, '{}'::jsonb) || '{"Content-Type": "application/json"}'::jsonb;
  elsif content_type <> 'application/json' then
    raise exception 'Content-Type header must be "application/json"'
      using errcode = '22023',
            hint = 'net.http_post sends a JSON body; leave Content-Type out or set it to application/json.';
  end if;

  select coalesce(array_agg(net._urlencode_string(key) || '=' || net._urlencode_string(value)), '{}')
  into params_array
  from jsonb_each_text(coalesce(params, '{}'::jsonb));

  insert into net.http_request_queue (method, url, headers, body, timeout_milliseconds)
  values (
    'POST',
    net._encode_url_with_params_array(url, params_array),
    headers,
    convert_to(body::text, 'UTF8'),
    timeout_milliseconds
  )
  returning id into request_id;

  perform pg_notify('pg_net_request', request_id::text);
  return request_id;
end
$$;

create function net.http_delete(
  -- url for the request
  url text,
  -- key/value pairs to be url encoded and appended to the `url`
  params jsonb default '{}'::jsonb,
  -- key/values to be included in request headers
  headers jsonb default '{}'::jsonb,
  -- the maximum number of milliseconds the request may take before being cancelled
  timeout_milliseconds int default 5000
)
returns bigint
language plpgsql
volatile
strict
security definer
set search_path = ''
as $$
declare
  request_id bigint;
  params_array text[];
begin
  select coalesce(array_agg(net._urlencode_string(key) || '=' || net._urlencode_string(value)), '{}')
  into params_array
  from jsonb_each_text(params);

  insert into net.http_request_queue (method, url, headers, timeout_milliseconds)
  values ('DELETE', net._encode_url_with_params_array(url, params_array), headers, timeout_milliseconds)
  returning id into request_id;

  perform pg_notify('pg_net_request', request_id::text);
  return request_id;
end
$$;

-- Blocks until the response of request_id is written.
create function net._await_response(request_id bigint)
returns bool
language plpgsql
volatile
strict
set search_path = ''
as $$
begin
  while not exists (select from net._http_response r where r.id = request_id) loop
    perform pg_sleep(0.05);
  end loop;
  return true;
end
$$;

create function net._http_collect_response(
  -- request_id reference
  request_id bigint,
  -- when `true`, return immediately. when `false` wait for the request to complete before returning
  async bool default true
)
returns net.http_response_result
language plpgsql
volatile
strict
set search_path = ''
as $$
declare
  rec net._http_response;
begin
  if not async then
    perform net._await_response(request_id);
  end if;

  select * into rec from net._http_response r where r.id = request_id;

  if rec.id is null or rec.error_msg is not null then
    return (
      'ERROR',
      coalesce(rec.error_msg, 'request matching request_id not found'),
      null
    )::net.http_response_result;
  end if;

  return (
    'SUCCESS',
    'ok',
    (rec.status_code, rec.headers, rec.content)::net.http_response
  )::net.http_response_result;
end
$$;

create function net.http_collect_response(
  -- request_id reference
  request_id bigint,
  -- when `true`, return immediately. when `false` wait for the request to complete before returning
  async bool default true
)
returns net.http_response_result
language plpgsql
volatile
strict
set search_path = ''
as $$
begin
  raise notice 'The net.http_collect_response function is deprecated.';
  return net._http_collect_response(request_id, async);
end
$$;

create function net.check_worker_is_up()
returns void
language plpgsql
set search_path = ''
as $$
begin
  if not exists (
    select from pg_catalog.pg_stat_activity a where a.application_name = 'pg_net worker'
  ) then
    raise exception 'the pg_net background worker is not up'
      using errcode = '55000',
            detail = 'No session with application_name ''pg_net worker'' is connected: queued requests wait until one is.',
            hint = 'Start the local stack, or run: node scripts/stack/pg-net-worker.mjs --db-url <database url>';
  end if;
end
$$;

comment on function net.check_worker_is_up() is
  'raises an exception if the pg_net worker is not connected, otherwise it doesn''t return anything';

-- Drops the worker's connections; scripts/stack/pg-net-worker.mjs reconnects.
create function net.worker_restart()
returns bool
language sql
security definer
set search_path = ''
as $$
  select coalesce(bool_or(pg_terminate_backend(a.pid)), false)
  from pg_catalog.pg_stat_activity a
  where a.application_name = 'pg_net worker'
$$;

-- Access: postgres and service_role use everything; authenticated may queue
-- requests through the three http_* functions (as hosted Supabase grants)
-- but reads no table; anon and PUBLIC get nothing.
revoke all on schema net from public;
revoke all on all tables in schema net from public;
revoke all on all sequences in schema net from public;
revoke all on all functions in schema net from public;

grant usage on schema net to postgres, service_role, authenticated;
grant all on all tables in schema net to postgres, service_role;
grant all on all sequences in schema net to postgres, service_role;
grant execute on all functions in schema net to postgres, service_role;

grant execute on function
  net.http_get(text, jsonb, jsonb, int),
  net.http_post(text, jsonb, jsonb, jsonb, int),
  net.http_delete(text, jsonb, jsonb, int)
to authenticated;
