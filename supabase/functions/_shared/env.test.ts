import { describe, expect, it } from 'vitest';
import { EnvError, parseFunctionEnv, publicFunctionsUrl } from './env.ts';

const complete = {
  SUPABASE_URL: 'http://127.0.0.1:54321',
  SUPABASE_DB_URL: 'postgresql://postgres:postgres@127.0.0.1:54322/postgres',
  SUPABASE_ANON_KEY: 'a'.repeat(40),
  SUPABASE_SERVICE_ROLE_KEY: 's'.repeat(40),
};

describe('parseFunctionEnv', () => {
  it('returns the runtime variables when all are present', () => {
    expect(parseFunctionEnv({ ...complete, OTHER: 'x' })).toEqual(complete);
  });

  it('names every missing or malformed variable and says where they come from', () => {
    const { SUPABASE_DB_URL: _omitted, ...rest } = complete;
    const attempt = () => parseFunctionEnv({ ...rest, SUPABASE_URL: 'not a url' });
    expect(attempt).toThrow(EnvError);
    expect(attempt).toThrow(/SUPABASE_URL.*SUPABASE_DB_URL|SUPABASE_DB_URL.*SUPABASE_URL/);
    expect(attempt).toThrow(/supabase\/functions\/\.env/);
  });

  it('takes an optional public functions URL, treating an empty value as unset', () => {
    const custom = 'https://crm.example.com/functions/v1/';
    const parsed = parseFunctionEnv({ ...complete, CRM_SYNC_PUBLIC_FUNCTIONS_URL: custom });
    expect(parsed.CRM_SYNC_PUBLIC_FUNCTIONS_URL).toBe(custom);
    expect(parseFunctionEnv({ ...complete, CRM_SYNC_PUBLIC_FUNCTIONS_URL: '' })).toEqual(complete);
    expect(() => parseFunctionEnv({ ...complete, CRM_SYNC_PUBLIC_FUNCTIONS_URL: 'crm.example.com' })).toThrow(
      /CRM_SYNC_PUBLIC_FUNCTIONS_URL/,
    );
  });
});

describe('publicFunctionsUrl', () => {
  it('is the configured URL without a trailing slash, else SUPABASE_URL/functions/v1', () => {
    expect(publicFunctionsUrl(parseFunctionEnv(complete))).toBe('http://127.0.0.1:54321/functions/v1');
    const custom = parseFunctionEnv({ ...complete, CRM_SYNC_PUBLIC_FUNCTIONS_URL: 'https://crm.example.com/fn/' });
    expect(publicFunctionsUrl(custom)).toBe('https://crm.example.com/fn');
  });
});
