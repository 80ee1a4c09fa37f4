// One postgres.js pool per function worker, on the database URL that the
// runtime provides (SUPABASE_DB_URL). Prepared statements are off so the
// same code works through Supabase's transaction pooler. JIT compilation is
// off: the engine's queries are short, and the planner's high estimates for
// some of them made Postgres spend ~100 ms compiling a query that runs in 1 ms.
import postgres from 'postgres';

export type Sql = postgres.Sql;

export function createSql(databaseUrl: string, options: { max?: number } = {}): Sql {
  return postgres(databaseUrl, {
    max: options.max ?? 5,
    prepare: false,
    idle_timeout: 20,
    connect_timeout: 10,
    onnotice: () => {},
    connection: { jit: 'off' },
  });
}
