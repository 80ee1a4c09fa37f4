import { createSql } from '../_shared/db.ts';
import { parseFunctionEnv } from '../_shared/env.ts';
import { createSyncWorkerHandler } from '../_shared/sync/worker-handler.ts';

const env = parseFunctionEnv(Deno.env.toObject());
Deno.serve(createSyncWorkerHandler(createSql(env.SUPABASE_DB_URL, { max: 4 })));
