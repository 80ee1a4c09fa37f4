-- Extensions the engine relies on, enabled exactly as on hosted Supabase.
-- pg_cron schedules work, pg_net lets SQL call Edge Functions, pgmq holds the
-- sync queues, supabase_vault keeps CRM credentials encrypted.
create extension if not exists pgcrypto with schema extensions;
create extension if not exists pg_cron with schema pg_catalog;
create extension if not exists pg_net with schema extensions;
create extension if not exists pgmq;
create extension if not exists supabase_vault;
