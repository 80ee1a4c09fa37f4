-- The local supabase_vault stand-in keeps the hosted API and access rules.
-- Assumes `create extension supabase_vault` already ran and vault.key_file
-- points at the stack's key file.
begin;
select plan(30);

-- API surface, as in supabase_vault 0.3.1
select has_table('vault', 'secrets', 'vault.secrets exists');
select has_view('vault', 'decrypted_secrets', 'vault.decrypted_secrets exists');
select has_function('vault', 'create_secret', array['text', 'text', 'text', 'uuid'], 'vault.create_secret(text, text, text, uuid) exists');
select has_function('vault', 'update_secret', array['uuid', 'text', 'text', 'text', 'uuid'], 'vault.update_secret(uuid, text, text, text, uuid) exists');
select columns_are(
  'vault', 'decrypted_secrets',
  array['id', 'name', 'description', 'secret', 'decrypted_secret', 'key_id', 'nonce', 'created_at', 'updated_at'],
  'vault.decrypted_secrets has every column of vault.secrets plus decrypted_secret'
);

-- Create and read back
select isnt(
  vault.create_secret('crm-sync-test-plaintext-7f3b', 'crm_sync_test_secret', 'token for the vault test'),
  null,
  'create_secret returns the new id'
);
select is(
  (select decrypted_secret from vault.decrypted_secrets where name = 'crm_sync_test_secret'),
  'crm-sync-test-plaintext-7f3b',
  'decrypted_secrets returns the plaintext'
);
select is(
  (select description from vault.decrypted_secrets where name = 'crm_sync_test_secret'),
  'token for the vault test',
  'the description is stored'
);

-- Only ciphertext at rest
select isnt(
  (select secret from vault.secrets where name = 'crm_sync_test_secret'),
  'crm-sync-test-plaintext-7f3b',
  'the stored secret column is not the plaintext'
);
select is(
  (select strpos(secret, 'crm-sync-test-plaintext-7f3b') from vault.secrets where name = 'crm_sync_test_secret'),
  0,
  'the stored secret column does not contain the plaintext'
);
select is(
  (select position(convert_to('crm-sync-test-plaintext-7f3b', 'utf8') in decode(secret, 'base64'))
   from vault.secrets where name = 'crm_sync_test_secret'),
  0,
  'the decoded ciphertext bytes do not contain the plaintext'
);
select vault.create_secret('crm-sync-test-plaintext-7f3b', 'crm_sync_test_twin');
select isnt(
  (select secret from vault.secrets where name = 'crm_sync_test_twin'),
  (select secret from vault.secrets where name = 'crm_sync_test_secret'),
  'the same plaintext stored twice gives two different ciphertexts'
);

-- Names are unique when present
select throws_ok(
  $$ select vault.create_secret('other', 'crm_sync_test_secret') $$,
  '23505', null,
  'a second secret with the same name is rejected'
);
select lives_ok(
  $$ select vault.create_secret('unnamed one'), vault.create_secret('unnamed two') $$,
  'any number of secrets may have no name'
);

-- Update
select lives_ok(
  $$ select vault.update_secret(
       (select id from vault.secrets where name = 'crm_sync_test_secret'),
       new_secret := 'crm-sync-test-rotated-41c2') $$,
  'update_secret replaces the secret'
);
select is(
  (select decrypted_secret from vault.decrypted_secrets where name = 'crm_sync_test_secret'),
  'crm-sync-test-rotated-41c2',
  'decrypted_secrets returns the new plaintext'
);
select lives_ok(
  $$ select vault.update_secret(
       (select id from vault.secrets where name = 'crm_sync_test_secret'),
       new_name := 'crm_sync_test_renamed',
       new_description := 'renamed') $$,
  'update_secret changes name and description alone'
);
select is(
  (select decrypted_secret || ' / ' || description from vault.decrypted_secrets where name = 'crm_sync_test_renamed'),
  'crm-sync-test-rotated-41c2 / renamed',
  'the secret is kept when only name and description change'
);

-- The key location comes from the server configuration, not the session
set local vault.key_file = '/nonexistent/vault.key';
select is(
  (select decrypted_secret from vault.decrypted_secrets where name = 'crm_sync_test_renamed'),
  'crm-sync-test-rotated-41c2',
  'a session SET of vault.key_file does not redirect the vault'
);
reset vault.key_file;

-- anon and authenticated get nothing
set local role anon;
select throws_ok($$ select * from vault.decrypted_secrets $$, '42501', null, 'anon cannot read vault.decrypted_secrets');
select throws_ok($$ select * from vault.secrets $$, '42501', null, 'anon cannot read vault.secrets');
select throws_ok($$ select vault.create_secret('x') $$, '42501', null, 'anon cannot call vault.create_secret');
reset role;

set local role authenticated;
select throws_ok($$ select * from vault.decrypted_secrets $$, '42501', null, 'authenticated cannot read vault.decrypted_secrets');
select throws_ok($$ select * from vault.secrets $$, '42501', null, 'authenticated cannot read vault.secrets');
select throws_ok($$ select vault.create_secret('x') $$, '42501', null, 'authenticated cannot call vault.create_secret');
reset role;

-- service_role reads and creates secrets, but never sees the key
set local role service_role;
select is(
  (select decrypted_secret from vault.decrypted_secrets where name = 'crm_sync_test_renamed'),
  'crm-sync-test-rotated-41c2',
  'service_role can read vault.decrypted_secrets'
);
select lives_ok(
  $$ select vault.create_secret('from service_role', 'crm_sync_test_service_role') $$,
  'service_role can call vault.create_secret'
);
select throws_ok(
  $$ insert into vault.secrets (secret) values ('plaintext') $$,
  '42501', null,
  'service_role cannot write vault.secrets directly'
);
select throws_ok($$ select vault._read_key() $$, '42501', null, 'service_role cannot read the key');
reset role;

-- Ciphertext is bound to its row: copied to another row it does not decrypt
update vault.secrets
set secret = (select secret from vault.secrets where name = 'crm_sync_test_renamed')
where name = 'crm_sync_test_twin';
select throws_ok(
  $$ select decrypted_secret from vault.decrypted_secrets where name = 'crm_sync_test_twin' $$,
  'XX001', 'vault secret could not be decrypted',
  'ciphertext moved to another row fails authentication'
);

select * from finish();
rollback;
