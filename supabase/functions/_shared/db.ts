// One postgres.js pool per function worker, on the database URL that the
// runtime provides (SUPABASE_DB_URL). Prepared statements are off so the
// same code works through Supabase's transaction pooler.
import postgres from 'postgres';

export type Sql = postgres.Sql;

export function createSql(databaseUrl: string, options: { max?: number } = {}): Sql {
  return postgres(databaseUrl, {
    max: options.max ?? 5,
    prepare: false,
    idle_timeout: 20,
    connect_timeout: 10,
    onnotice: () => {},
  });
}
