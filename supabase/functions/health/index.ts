import { createSql } from '../_shared/db.ts';
import { parseFunctionEnv } from '../_shared/env.ts';
import { createHealthHandler } from '../_shared/health/handler.ts';

const env = parseFunctionEnv(Deno.env.toObject());
Deno.serve(createHealthHandler(createSql(env.SUPABASE_DB_URL, { max: 2 })));
