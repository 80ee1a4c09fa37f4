// The running test stack, as `npm test` describes it in the environment.
export interface StackEnv {
  apiUrl: string;
  dbUrl: string;
  anonKey: string;
  serviceRoleKey: string;
}

export function stackEnv(): StackEnv {
  const { SUPABASE_URL, SUPABASE_DB_URL, SUPABASE_ANON_KEY, SUPABASE_SERVICE_ROLE_KEY } = process.env;
  if (!SUPABASE_URL || !SUPABASE_DB_URL || !SUPABASE_ANON_KEY || !SUPABASE_SERVICE_ROLE_KEY) {
    throw new Error('integration tests need the local stack: run them with `npm test` (it starts one and sets SUPABASE_*)');
  }
  return { apiUrl: SUPABASE_URL, dbUrl: SUPABASE_DB_URL, anonKey: SUPABASE_ANON_KEY, serviceRoleKey: SUPABASE_SERVICE_ROLE_KEY };
}

export const functionUrl = (env: StackEnv, name: string) => `${env.apiUrl}/functions/v1/${name}`;
