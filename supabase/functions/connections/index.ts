import { createConnectionsHandler } from '../_shared/connections/handler.ts';
import { createSql } from '../_shared/db.ts';
import { parseFunctionEnv, publicFunctionsUrl } from '../_shared/env.ts';

const env = parseFunctionEnv(Deno.env.toObject());
Deno.serve(createConnectionsHandler(createSql(env.SUPABASE_DB_URL, { max: 2 }), publicFunctionsUrl(env)));
