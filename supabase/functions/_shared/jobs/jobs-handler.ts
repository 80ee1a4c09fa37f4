// /functions/v1/sync-jobs (service role only):
//   POST   {connection_id, kind, entity_types?, budget_ms?, max_records?, started_by?}
//            → 201 the new job, or 200 the active job that already holds these entity types
//   GET    ?connection_id=|tenant_id=&status=&limit=   → jobs, newest first
//   GET    /<id>                                      → the job's status, progress, rate and ETA
//   POST   /<id>/cancel | /<id>/resume                → the job after the action
//   POST   /<id>/run                                  → one bounded invocation (pg_net chains these)
import { z } from 'zod';
import { roleOf } from '../auth.ts';
import type { Sql } from '../db.ts';
import { errorResponse, jsonResponse, methodNotAllowed } from '../http.ts';
import { entityTypes } from '../model/unified.ts';
import { adapterFor } from '../providers/registry.ts';
import { createSyncDb } from '../sync/sync-db.ts';
import { createJobDb, jobKinds } from './job-db.ts';
import { runJobInvocation } from './job-runner.ts';
import { jobStatusView } from './job-status.ts';

const startSchema = z.object({
  connection_id: z.uuid(),
  kind: z.enum(jobKinds, { error: `kind must be one of ${jobKinds.join(', ')}` }),
  entity_types: z.array(z.enum(entityTypes)).min(1).max(5).optional(),
  started_by: z.string().min(1).max(200).optional(),
  budget_ms: z.number().int().min(1_000).max(140_000).optional(),
  max_records: z.number().int().min(1).max(100_000).optional(),
}).strict();

const listSchema = z.object({
  connection_id: z.uuid().optional(),
  tenant_id: z.uuid().optional(),
  status: z.enum(['queued', 'running', 'paused', 'done', 'failed', 'cancelled']).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});

const sqlErrors: Record<string, { status: number; code: string }> = {
  P0002: { status: 404, code: 'not_found' },
  '22023': { status: 400, code: 'invalid_request' },
  '55000': { status: 409, code: 'conflict' },
};

export function createJobsHandler(sql: Sql, log: (line: string) => void = console.log) {
  const jobs = createJobDb(sql);
  const db = createSyncDb(sql);

  async function status(id: string) {
    const job = await jobs.job(id);
    if (!job) return null;
    return jobStatusView(job, Date.now(), job.kind === 'reconcile' ? await jobs.reconcileRun(id) : undefined);
  }

  return async (req: Request): Promise<Response> => {
    if (roleOf(req.headers.get('authorization')) !== 'service_role') {
      return errorResponse(403, 'forbidden', 'sync-jobs runs only with the service role key');
    }
    const url = new URL(req.url);
    // The path after the function's name: /<id>[/<action>] (the gateway may keep or drop /functions/v1).
    const segments = url.pathname.split('/').filter(Boolean);
    const [jobId, action] = segments.slice(segments.indexOf('sync-jobs') + 1);
    try {
      if (jobId && !z.uuid().safeParse(jobId).success) return errorResponse(400, 'invalid_request', `job id must be a uuid, got "${jobId}"`);

      if (!jobId && req.method === 'POST') {
        let body: unknown;
        try {
          body = await req.json();
        } catch {
          return errorResponse(400, 'invalid_json', 'the body must be JSON, e.g. {"connection_id": "<uuid>", "kind": "backfill"}');
        }
        const parsed = startSchema.safeParse(body);
        if (!parsed.success) return errorResponse(400, 'invalid_request', 'invalid sync-jobs start request', parsed.error.issues);
        const input = parsed.data;
        const options = {
          ...(input.budget_ms ? { budget_ms: input.budget_ms } : {}),
          ...(input.max_records ? { max_records: input.max_records } : {}),
        };
        const started = await jobs.start(input.connection_id, input.kind, input.entity_types ?? null, input.started_by ?? 'api', options);
        const view = await status(started.job_id);
        if (!started.created && view?.kind !== input.kind) {
          return errorResponse(409, 'job_conflict',
            `a ${view?.kind} job (${started.job_id}) is ${view?.status} for some of these entity types; wait for it or cancel it`, { job: view });
        }
        return jsonResponse(started.created ? 201 : 200, { created: started.created, job: view });
      }
      if (!jobId && req.method === 'GET') {
        const parsed = listSchema.safeParse(Object.fromEntries(url.searchParams));
        if (!parsed.success) return errorResponse(400, 'invalid_request', 'invalid sync-jobs list request', parsed.error.issues);
        const rows = await jobs.list({ connectionId: parsed.data.connection_id, tenantId: parsed.data.tenant_id, status: parsed.data.status,
                                       limit: parsed.data.limit });
        const now = Date.now();
        return jsonResponse(200, { jobs: rows.map((row) => jobStatusView(row, now)) });
      }
      if (jobId && req.method === 'GET' && !action) {
        const view = await status(jobId);
        return view ? jsonResponse(200, { job: view }) : errorResponse(404, 'not_found', `job ${jobId} does not exist`);
      }
      if (jobId && req.method === 'POST' && (action === 'cancel' || action === 'resume')) {
        if (action === 'cancel') await jobs.cancel(jobId);
        else await jobs.resume(jobId);
        return jsonResponse(200, { job: await status(jobId) });
      }
      if (jobId && req.method === 'POST' && action === 'run') {
        const report = await runJobInvocation({
          jobs,
          db,
          adapterFor: (connection, deadline) => adapterFor(db, connection, deadline),
          log,
        }, jobId);
        if (report.claimed) log(`sync-jobs run: ${JSON.stringify(report)}`);
        return jsonResponse(200, report);
      }
      return methodNotAllowed(['POST', 'GET', 'GET /<id>', 'POST /<id>/cancel|resume|run']);
    } catch (error) {
      const mapped = sqlErrors[String((error as { code?: unknown }).code)];
      if (mapped) return errorResponse(mapped.status, mapped.code, (error as Error).message);
      log(`sync-jobs: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
      return errorResponse(500, 'internal', error instanceof Error ? error.message : String(error));
    }
  };
}
