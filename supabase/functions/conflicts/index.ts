import { createConflictsHandler } from '../_shared/conflicts/handler.ts';
import { createSql } from '../_shared/db.ts';
import { parseFunctionEnv } from '../_shared/env.ts';

const env = parseFunctionEnv(Deno.env.toObject());
Deno.serve(createConflictsHandler(createSql(env.SUPABASE_DB_URL, { max: 2 })));
