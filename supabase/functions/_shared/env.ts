// The environment every Edge Function gets from the runtime (hosted or the
// local gateway), parsed once and failing fast with the missing names.
import { z } from 'zod';

const functionEnvSchema = z.object({
  SUPABASE_URL: z.url(),
  SUPABASE_DB_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// connection string'),
  SUPABASE_ANON_KEY: z.string().min(20),
  SUPABASE_SERVICE_ROLE_KEY: z.string().min(20),
  // Optional: the functions base URL as outside callers (CRM webhooks) see it,
  // when it differs from `${SUPABASE_URL}/functions/v1` (custom domain, proxy).
  CRM_SYNC_PUBLIC_FUNCTIONS_URL: z.preprocess((value) => (value === '' ? undefined : value), z.url().optional()),
});

export type FunctionEnv = z.infer<typeof functionEnvSchema>;

export class EnvError extends Error {}

/** Parses the runtime environment; throws EnvError naming each bad variable. */
export function parseFunctionEnv(source: Record<string, string | undefined>): FunctionEnv {
  const result = functionEnvSchema.safeParse(source);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  throw new EnvError(
    `Edge Function environment is incomplete (${problems.join('; ')}). ` +
      'The Supabase runtime sets these; locally `npm start` does. Set extra ones in supabase/functions/.env.',
  );
}

/** The functions base URL that webhook senders call and sign, without a trailing slash. */
export function publicFunctionsUrl(env: FunctionEnv): string {
  return (env.CRM_SYNC_PUBLIC_FUNCTIONS_URL ?? `${env.SUPABASE_URL}/functions/v1`).replace(/\/+$/, '');
}
