import { createSql } from '../_shared/db.ts';
import { parseFunctionEnv } from '../_shared/env.ts';
import { createJobsHandler } from '../_shared/jobs/jobs-handler.ts';

const env = parseFunctionEnv(Deno.env.toObject());
Deno.serve(createJobsHandler(createSql(env.SUPABASE_DB_URL, { max: 6 })));
