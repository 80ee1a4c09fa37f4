// What the `health` function reports: whether the database answers, which
// migrations are applied and which extensions (with versions) are installed.
import type { Sql } from '../db.ts';

export interface HealthReport {
  status: 'ok' | 'degraded';
  database: { reachable: boolean; serverVersion?: string; latencyMs?: number; error?: string };
  migrations: { count: number; latest: string | null; applied: { version: string; name: string | null }[] };
  extensions: Record<string, string>;
  checkedAt: string;
}

/** Extensions the engine needs; a missing one makes the report degraded. */
export const requiredExtensions = ['pg_cron', 'pg_net', 'pgmq', 'supabase_vault', 'pgcrypto'] as const;

export async function buildHealthReport(sql: Sql, now: () => Date = () => new Date()): Promise<HealthReport> {
  const started = performance.now();
  try {
    const [server] = await sql<{ server_version: string }[]>`select current_setting('server_version') as server_version`;
    const latencyMs = Math.round((performance.now() - started) * 10) / 10;
    const migrations = await sql<{ version: string; name: string | null }[]>`
      select version, name from supabase_migrations.schema_migrations order by version`;
    const extensions = await sql<{ extname: string; extversion: string }[]>`
      select extname, extversion from pg_extension order by extname`;
    const installed = Object.fromEntries(extensions.map((e) => [e.extname, e.extversion]));
    const missing = requiredExtensions.filter((name) => !(name in installed));
    return {
      status: missing.length === 0 ? 'ok' : 'degraded',
      database: { reachable: true, serverVersion: server.server_version, latencyMs },
      migrations: { count: migrations.length, latest: migrations.at(-1)?.version ?? null, applied: [...migrations] },
      extensions: installed,
      checkedAt: now().toISOString(),
    };
  } catch (error) {
    return {
      status: 'degraded',
      database: { reachable: false, error: error instanceof Error ? error.message : String(error) },
      migrations: { count: 0, latest: null, applied: [] },
      extensions: {},
      checkedAt: now().toISOString(),
    };
  }
}
