-- crm-sync stand-in for supabase_vault 0.3.1 (local stack only).
--
-- Hosted Supabase ships the real extension (C, libsodium, key from the
-- server's key loader). This script keeps its SQL surface: the table
-- vault.secrets, the view vault.decrypted_secrets and the functions
-- vault.create_secret / vault.update_secret, with the grants hosted Supabase
-- gives. The encryption is built from pgcrypto instead:
--
--   * the 32-byte master key is read from the file named by vault.key_file in
--     the server configuration files, never stored in the database;
--   * a deterministic AEAD per row: AES-256-CBC with a synthetic IV, the first
--     16 bytes of HMAC-SHA256 over (nonce, additional data, message). The
--     additional data is the secret's id, so ciphertext copied to another row
--     does not decrypt; any change to the ciphertext fails authentication.
--   * vault.secrets.secret holds base64(iv || ciphertext), never plaintext.
--
-- Deliberate differences from the real 0.3.1:
--   * Ciphertext is not interchangeable with hosted Supabase (libsodium
--     XChaCha20-SIV there, 24-byte nonces; AES/HMAC and 16-byte nonces here).
--     Secrets move between the two only as plaintext, through the API.
--   * vault.key_file is read from the configuration files (pg_file_settings);
--     a SET in a session is ignored, so no role can redirect the key read.
--   * create_secret encrypts before it inserts, so no plaintext row version
--     is ever written (the real one inserts, then updates); update_secret
--     draws a fresh nonce with a new secret.
--   * The grants hosted Supabase applies after installing the extension are
--     made here, by the script itself. Internal functions (_read_key,
--     _synthetic_iv, _crypto_aead_det_encrypt) are callable by the owner only.

\echo Use "create extension supabase_vault" to load this file. \quit

do $guard$
begin
  if not exists (
    select
    from pg_catalog.pg_extension e
    join pg_catalog.pg_namespace n on n.oid = e.extnamespace
    where e.extname = 'pgcrypto' and n.nspname = 'extensions'
  ) then
    raise exception 'the supabase_vault stand-in needs pgcrypto in schema extensions'
      using errcode = '55000',
            hint = 'Run: create extension pgcrypto with schema extensions (the stack bootstrap does this, as hosted Supabase does).';
  end if;
end
$guard$;

-- Reads the master key. The path comes from the configuration files
-- (pg_file_settings), not from current_setting(), so a session cannot point
-- the vault at another file with SET vault.key_file.
create function vault._read_key()
returns bytea
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  key_path text;
  session_path text := current_setting('vault.key_file', true);
  key_text text;
begin
  select f.setting
  into key_path
  from pg_catalog.pg_file_settings f
  where f.name = 'vault.key_file' and f.applied
  order by f.seqno desc
  limit 1;

  if coalesce(key_path, '') = '' then
    raise exception 'vault key file is not configured'
      using errcode = '55000',
            detail = case
              when coalesce(session_path, '') <> '' then format(
                'vault.key_file is %L in this session but not in the configuration files; the vault '
                'reads it only from postgresql.conf or postgresql.auto.conf, so that a session cannot redirect it.',
                session_path)
              else 'The setting vault.key_file is missing from postgresql.conf.'
            end,
            hint = 'Add vault.key_file = ''/absolute/path/vault.key'' to postgresql.conf, the file holding '
                   'a random 32-byte key as 64 hex characters (the local stack writes both when it starts).';
  end if;

  if left(key_path, 1) <> '/' then
    raise exception 'vault.key_file must be an absolute path, got %', key_path
      using errcode = '22023',
            hint = 'Set vault.key_file in postgresql.conf to the absolute path of the key file.';
  end if;

  begin
    key_text := pg_read_file(key_path);
  exception
    when undefined_file then
      raise exception 'vault key file % does not exist', key_path
        using errcode = '58P01',
              hint = 'Start the local stack, which writes it, or write 64 hex characters '
                     '(for example: openssl rand -hex 32) to that path, readable by the postgres OS user.';
    when others then
      raise exception 'vault key file % could not be read: %', key_path, sqlerrm
        using errcode = sqlstate,
              hint = 'Make the file readable by the operating-system user that runs PostgreSQL (usually postgres).';
  end;

  key_text := btrim(key_text, E' \t\r\n');
  if key_text !~ '^[0-9A-Fa-f]{64}$' then
    raise exception 'vault key file % does not hold a 32-byte hex key', key_path
      using errcode = 'F0000',
            hint = 'The file must contain exactly 64 hexadecimal characters (for example: openssl rand -hex 32).';
  end if;

  return decode(key_text, 'hex');
end
$$;

comment on function vault._read_key() is
  'Internal: the vault master key from the file named by vault.key_file. Callable by the extension owner only.';

create function vault._crypto_aead_det_noncegen()
returns bytea
language sql
volatile
set search_path = ''
as $$
  select extensions.gen_random_bytes(16)
$$;

-- The synthetic IV: binds nonce, additional data and message together.
create function vault._synthetic_iv(mac_key bytea, nonce bytea, additional bytea, message bytea)
returns bytea
language sql
immutable
set search_path = ''
as $$
  select substring(
    extensions.hmac(
      int4send(coalesce(length(nonce), 0)) || coalesce(nonce, ''::bytea)
        || int4send(coalesce(length(additional), 0)) || coalesce(additional, ''::bytea)
        || message,
      mac_key,
      'sha256'
    )
    from 1 for 16
  )
$$;

create function vault._crypto_aead_det_encrypt(
  message bytea,
  additional bytea,
  key_id bigint,
  context bytea = 'pgsodium',
  nonce bytea = null
)
returns bytea
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  master_key bytea;
  info bytea;
  iv bytea;
begin
  if message is null then
    return null;
  end if;
  master_key := vault._read_key();
  info := convert_to(format('crm-sync vault %s:', key_id), 'utf8') || coalesce(context, ''::bytea);
  iv := vault._synthetic_iv(extensions.hmac(info || '\x02'::bytea, master_key, 'sha256'), nonce, additional, message);
  return iv || extensions.encrypt_iv(
    message,
    extensions.hmac(info || '\x01'::bytea, master_key, 'sha256'),
    iv,
    'aes-cbc/pad:pkcs'
  );
end
$$;

create function vault._crypto_aead_det_decrypt(
  message bytea,
  additional bytea,
  key_id bigint,
  context bytea = 'pgsodium',
  nonce bytea = null
)
returns bytea
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  master_key bytea;
  info bytea;
  iv bytea;
  plain bytea;
begin
  if message is null then
    return null;
  end if;
  master_key := vault._read_key();
  info := convert_to(format('crm-sync vault %s:', key_id), 'utf8') || coalesce(context, ''::bytea);

  if length(message) >= 32 and length(message) % 16 = 0 then
    iv := substring(message from 1 for 16);
    begin
      plain := extensions.decrypt_iv(
        substring(message from 17),
        extensions.hmac(info || '\x01'::bytea, master_key, 'sha256'),
        iv,
        'aes-cbc/pad:pkcs'
      );
    exception
      when others then
        plain := null;
    end;
  end if;

  if plain is null
     or vault._synthetic_iv(extensions.hmac(info || '\x02'::bytea, master_key, 'sha256'), nonce, additional, plain)
        <> iv then
    raise exception 'vault secret could not be decrypted'
      using errcode = 'XX001',
            detail = 'The ciphertext does not authenticate with the key in vault.key_file: the key file '
                     'was replaced, or the row was written other than through vault.create_secret or vault.update_secret.',
            hint = 'Restore the original key file, or store the secret again with vault.update_secret.';
  end if;

  return plain;
end
$$;

create table vault.secrets (
  id uuid primary key default gen_random_uuid(),
  name text,
  description text not null default '',
  secret text not null,
  key_id uuid,
  nonce bytea default vault._crypto_aead_det_noncegen(),
  created_at timestamptz not null default current_timestamp,
  updated_at timestamptz not null default current_timestamp
);

comment on table vault.secrets is
  'Table with encrypted `secret` column for storing sensitive information on disk.';

create unique index secrets_name_idx on vault.secrets using btree (name) where name is not null;

create view vault.decrypted_secrets as
select
  s.id,
  s.name,
  s.description,
  s.secret,
  convert_from(
    vault._crypto_aead_det_decrypt(
      message := decode(s.secret, 'base64'),
      additional := convert_to(s.id::text, 'utf8'),
      key_id := 0,
      context := 'pgsodium'::bytea,
      nonce := s.nonce
    ),
    'utf8'
  ) as decrypted_secret,
  s.key_id,
  s.nonce,
  s.created_at,
  s.updated_at
from vault.secrets s;

-- Encrypts before the insert, so the plaintext never reaches a heap tuple.
create function vault.create_secret(
  new_secret text,
  new_name text = null,
  new_description text = '',
  -- unused, as in supabase_vault 0.3
  new_key_id uuid = null
)
returns uuid
language plpgsql
security definer
set search_path = ''
as $$
declare
  secret_id uuid := gen_random_uuid();
  secret_nonce bytea := vault._crypto_aead_det_noncegen();
begin
  insert into vault.secrets (id, name, description, secret, nonce)
  values (
    secret_id,
    new_name,
    new_description,
    encode(
      vault._crypto_aead_det_encrypt(
        message := convert_to(new_secret, 'utf8'),
        additional := convert_to(secret_id::text, 'utf8'),
        key_id := 0,
        context := 'pgsodium'::bytea,
        nonce := secret_nonce
      ),
      'base64'
    ),
    secret_nonce
  );
  return secret_id;
end
$$;

create function vault.update_secret(
  secret_id uuid,
  new_secret text = null,
  new_name text = null,
  new_description text = null,
  -- unused, as in supabase_vault 0.3
  new_key_id uuid = null
)
returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  secret_nonce bytea := vault._crypto_aead_det_noncegen();
begin
  update vault.secrets s
  set
    secret = case
      when new_secret is null then s.secret
      else encode(
        vault._crypto_aead_det_encrypt(
          message := convert_to(new_secret, 'utf8'),
          additional := convert_to(s.id::text, 'utf8'),
          key_id := 0,
          context := 'pgsodium'::bytea,
          nonce := secret_nonce
        ),
        'base64'
      )
    end,
    nonce = case when new_secret is null then s.nonce else secret_nonce end,
    name = coalesce(new_name, s.name),
    description = coalesce(new_description, s.description),
    updated_at = now()
  where s.id = secret_id;
end
$$;

select pg_catalog.pg_extension_config_dump('vault.secrets', '');

-- Access as on hosted Supabase: the owner and postgres manage secrets,
-- service_role reads and deletes them and calls the two functions; anon,
-- authenticated and PUBLIC get nothing.
revoke all on schema vault from public;
revoke all on table vault.secrets, vault.decrypted_secrets from public;
revoke all on function
  vault._read_key(),
  vault._crypto_aead_det_noncegen(),
  vault._synthetic_iv(bytea, bytea, bytea, bytea),
  vault._crypto_aead_det_encrypt(bytea, bytea, bigint, bytea, bytea),
  vault._crypto_aead_det_decrypt(bytea, bytea, bigint, bytea, bytea),
  vault.create_secret(text, text, text, uuid),
  vault.update_secret(uuid, text, text, text, uuid)
from public;

grant usage on schema vault to postgres with grant option;
grant select, delete, truncate, references on vault.secrets, vault.decrypted_secrets to postgres with grant option;
grant execute on function
  vault.create_secret(text, text, text, uuid),
  vault.update_secret(uuid, text, text, text, uuid),
  vault._crypto_aead_det_decrypt(bytea, bytea, bigint, bytea, bytea)
to postgres with grant option;

grant usage on schema vault to service_role;
grant select, delete on vault.secrets, vault.decrypted_secrets to service_role;
grant execute on function
  vault.create_secret(text, text, text, uuid),
  vault.update_secret(uuid, text, text, text, uuid),
  vault._crypto_aead_det_decrypt(bytea, bytea, bigint, bytea, bytea)
to service_role;
