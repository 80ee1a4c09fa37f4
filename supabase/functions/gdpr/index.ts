import { createSql } from '../_shared/db.ts';
import { parseFunctionEnv } from '../_shared/env.ts';
import { createGdprHandler } from '../_shared/gdpr/handler.ts';

const env = parseFunctionEnv(Deno.env.toObject());
Deno.serve(createGdprHandler(createSql(env.SUPABASE_DB_URL, { max: 2 })));
