// GET /functions/v1/health: 200 with the report when healthy, 503 when the
// database is unreachable or a required extension is missing.
import type { Sql } from '../db.ts';
import { jsonResponse, methodNotAllowed } from '../http.ts';
import { buildHealthReport } from './report.ts';

export function createHealthHandler(sql: Sql): (req: Request) => Promise<Response> {
  return async (req) => {
    if (req.method !== 'GET') return methodNotAllowed(['GET']);
    const report = await buildHealthReport(sql);
    return jsonResponse(report.status === 'ok' ? 200 : 503, report);
  };
}
