// POST /functions/v1/sync-worker: one bounded drain of the sync queues.
// Called by pg_net (kicks and the cron safety net) and by operators, always
// with the service role key; answers with what the run did.
import process from 'node:process';
import { z } from 'zod';
import { roleOf } from '../auth.ts';
import type { Sql } from '../db.ts';
import { errorResponse, jsonResponse, methodNotAllowed } from '../http.ts';
import { adapterFor } from '../providers/registry.ts';
import { createSyncDb } from './sync-db.ts';
import { defaultWorkerOptions, runSyncWorker } from './worker.ts';

const requestSchema = z.object({
  reason: z.string().max(200).optional(),
  budget_ms: z.number().int().min(1_000).max(120_000).optional(),
}).partial();

export function createSyncWorkerHandler(sql: Sql, log: (line: string) => void = console.log) {
  const db = createSyncDb(sql);
  return async (req: Request): Promise<Response> => {
    if (req.method !== 'POST') return methodNotAllowed(['POST']);
    if (roleOf(req.headers.get('authorization')) !== 'service_role') {
      return errorResponse(403, 'forbidden', 'sync-worker runs only with the service role key');
    }
    const text = await req.text();
    let body: unknown = {};
    try {
      body = text ? JSON.parse(text) : {};
    } catch {
      return errorResponse(400, 'invalid_json', 'the body must be JSON, e.g. {"budget_ms": 20000}');
    }
    const parsed = requestSchema.safeParse(body);
    if (!parsed.success) return errorResponse(400, 'invalid_request', 'invalid sync-worker request', parsed.error.issues);

    const report = await runSyncWorker({
      db,
      adapterFor: (connection, deadline) => adapterFor(db, connection, deadline),
      kickNextRun: async () => {
        await sql`select sync.kick_worker('continue', true)`;
      },
      log,
      cpuMs: processCpuMs,
    }, { ...defaultWorkerOptions, budgetMs: parsed.data.budget_ms ?? defaultWorkerOptions.budgetMs });
    log(`sync-worker (${parsed.data.reason ?? 'manual'}): ${JSON.stringify(report)}`);
    return jsonResponse(200, report);
  };
}

/** User + system CPU of this process in ms; NaN where the runtime does not say. */
function processCpuMs(): number {
  try {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1000;
  } catch {
    return Number.NaN;
  }
}
