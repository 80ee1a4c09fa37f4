// /functions/v1/conflicts: review conflicts and configure how they are
// settled. A tenant member (JWT with app_metadata.tenant_id) sees only their
// tenant (RLS); the service role adds ?tenant_id=<uuid>.
//   GET    /conflicts[?entity_type=&limit=]       pending conflicts by record, field by field (base, local, remote, current)
//   POST   /conflicts/resolve {resolutions: [{conflict_id, choice: local|remote|custom, value?}]}   in one transaction
//   GET    /conflicts/decisions[?entity_type=&local_id=&limit=]   the decision log, newest first
//   GET    /conflicts/notifications[?limit=]      what the tenant's admins should look at, newest first
//   GET    /conflicts/strategies                  the tenant's rules
//   PUT    /conflicts/strategies {entity_type?, field?, strategy, source_priority?, merge_rule?, separator?}   set one rule
//   DELETE /conflicts/strategies/<id>             remove one rule
import { z } from 'zod';
import type { Sql } from '../db.ts';
import { errorResponse, jsonResponse, methodNotAllowed } from '../http.ts';
import { entityTypes } from '../model/unified.ts';
import { conflictStrategySchema } from '../sync/conflict-policy.ts';
import { asCaller, type Caller, CallerError, callerOf } from './caller.ts';

const resolveBody = z.object({
  resolutions: z.array(z.object({
    conflict_id: z.uuid(),
    choice: z.enum(['local', 'remote', 'custom']),
    value: z.unknown().optional(),
  }).refine((r) => r.choice !== 'custom' || r.value !== undefined, { message: 'a custom resolution needs a value', path: ['value'] })
    .refine((r) => r.choice === 'custom' || r.value === undefined, { message: 'value goes with choice "custom" only', path: ['value'] }))
    .min(1).max(100),
});

const listQuery = z.object({
  entity_type: z.enum(entityTypes).optional(),
  local_id: z.uuid().optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

interface PendingRow {
  id: string;
  entity_type: string;
  local_id: string;
  remote_id: string | null;
  connection_id: string | null;
  field: string;
  base_value: unknown;
  local_value: unknown;
  remote_value: unknown;
  current_value: unknown;
  detected_at: string;
  detections: number;
}

/** Database errors that are the caller's mistake, as HTTP. */
const sqlErrors: Record<string, [number, string]> = {
  P0002: [404, 'not_found'],
  '22023': [400, 'invalid_request'],
  '55000': [409, 'already_resolved'],
  '23514': [400, 'invalid_value'],
  '23505': [409, 'duplicate'],
  '23502': [400, 'invalid_value'],
  '22P02': [400, 'invalid_value'],
  '22003': [400, 'invalid_value'],
  '22007': [400, 'invalid_value'],
  '22008': [400, 'invalid_value'],
  '42501': [403, 'forbidden'],
};

export function createConflictsHandler(sql: Sql) {
  return async (req: Request): Promise<Response> => {
    const url = new URL(req.url);
    // /functions/v1/conflicts/<route>[/<id>] or /conflicts/<route>[/<id>]
    const parts = url.pathname.split('/').filter(Boolean);
    const [route = '', id] = parts.slice(parts.indexOf('conflicts') + 1);
    try {
      const caller = callerOf(req, url);
      if (route === '' && req.method === 'GET') return await listPending(sql, caller, url);
      if (route === 'resolve' && req.method === 'POST') return await resolve(sql, caller, req);
      if (route === 'decisions' && req.method === 'GET') return await decisions(sql, caller, url);
      if (route === 'notifications' && req.method === 'GET') {
        const { limit } = queryOf(url);
        return jsonResponse(200, { notifications: await asCaller(sql, caller, (tx) => tx`
          select id, kind, subject, payload, created_at, read_at from sync.admin_notifications order by id desc limit ${limit}`) });
      }
      if (route === 'strategies' && !id && req.method === 'GET') {
        return jsonResponse(200, { strategies: await asCaller(sql, caller, (tx) => tx`
          select id, entity_type, field, strategy, source_priority, merge_rule, separator, updated_at
            from sync.conflict_strategies order by entity_type nulls first, field nulls first`) });
      }
      if (route === 'strategies' && !id && req.method === 'PUT') return await setStrategy(sql, caller, req);
      if (route === 'strategies' && id && req.method === 'DELETE') {
        if (!z.uuid().safeParse(id).success) return errorResponse(400, 'invalid_request', 'the strategy id must be a uuid');
        const removed = await asCaller(sql, caller, (tx) => tx`delete from sync.conflict_strategies where id = ${id} returning id`);
        return removed.length ? new Response(null, { status: 204 }) : errorResponse(404, 'not_found', `strategy ${id} not found`);
      }
      return methodNotAllowed(['GET /conflicts', 'POST /conflicts/resolve', 'GET /conflicts/decisions', 'GET /conflicts/notifications',
        'GET|PUT /conflicts/strategies',
        'DELETE /conflicts/strategies/<id>']);
    } catch (error) {
      if (error instanceof CallerError) return errorResponse(error.status, error.code, error.message);
      if (error instanceof BadRequest) return errorResponse(400, 'invalid_request', error.message, error.details);
      const mapped = sqlErrors[(error as { code?: string }).code ?? ''];
      if (mapped) return errorResponse(mapped[0], mapped[1], (error as Error).message);
      console.error('conflicts:', error);
      return errorResponse(500, 'internal_error', 'the request failed; see the function log');
    }
  };
}

class BadRequest extends Error {
  constructor(message: string, readonly details?: unknown) {
    super(message);
  }
}

async function bodyOf<T>(req: Request, schema: z.ZodType<T>, what: string): Promise<T> {
  let body: unknown;
  try {
    body = await req.json();
  } catch {
    throw new BadRequest('the body must be JSON');
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new BadRequest(`invalid ${what}`, parsed.error.issues);
  return parsed.data;
}

function queryOf(url: URL) {
  const parsed = listQuery.safeParse(Object.fromEntries([...url.searchParams].filter(([k]) => k !== 'tenant_id')));
  if (!parsed.success) throw new BadRequest('invalid query', parsed.error.issues);
  return parsed.data;
}

async function listPending(sql: Sql, caller: Caller, url: URL): Promise<Response> {
  const query = queryOf(url);
  // One record's conflicts: filtered before the limit applies.
  const rows = await asCaller(sql, caller, (tx) => tx<PendingRow[]>`
    select * from public.list_pending_conflicts(${query.entity_type ?? null}, ${query.local_id ? 1000 : query.limit}) p
     where ${query.local_id ?? null}::uuid is null or p.local_id = ${query.local_id ?? null}
     limit ${query.limit}`);
  const records = new Map<string, { entity_type: string; local_id: string; fields: unknown[] }>();
  for (const row of rows) {
    const key = `${row.entity_type}:${row.local_id}`;
    if (!records.has(key)) records.set(key, { entity_type: row.entity_type, local_id: row.local_id, fields: [] });
    records.get(key)!.fields.push({
      conflict_id: row.id, field: row.field, base: row.base_value, local: row.local_value, remote: row.remote_value,
      current: row.current_value, remote_id: row.remote_id, connection_id: row.connection_id, detected_at: row.detected_at,
      detections: row.detections,
    });
  }
  return jsonResponse(200, { records: [...records.values()], pending: rows.length });
}

async function resolve(sql: Sql, caller: Caller, req: Request): Promise<Response> {
  const { resolutions } = await bodyOf(req, resolveBody, 'resolutions');
  const resolved = await asCaller(sql, caller, async (tx) => {
    const out = [];
    for (const r of resolutions) {
      const value = r.choice === 'custom' ? tx.json(r.value as Parameters<Sql['json']>[0]) : null;
      const [row] = await tx`
        select id as conflict_id, entity_type, local_id, field, resolution, resolved_value, resolved_by, resolved_at
          from public.resolve_conflict(${r.conflict_id}, ${r.choice}, ${value})`;
      out.push(row);
    }
    return out;
  });
  return jsonResponse(200, { resolved });
}

async function decisions(sql: Sql, caller: Caller, url: URL): Promise<Response> {
  const query = queryOf(url);
  const rows = await asCaller(sql, caller, (tx) => tx`
    select id, connection_id, entity_type, local_id, remote_id, field, strategy, scope, winner,
           base_value, local_value, remote_value, result_value, reason, conflict_id, decided_at
      from sync.conflict_decisions
     where (${query.entity_type ?? null}::crm.entity_type is null or entity_type = ${query.entity_type ?? null})
       and (${query.local_id ?? null}::uuid is null or local_id = ${query.local_id ?? null})
     order by id desc limit ${query.limit}`);
  return jsonResponse(200, { decisions: rows });
}

async function setStrategy(sql: Sql, caller: Caller, req: Request): Promise<Response> {
  const rule = await bodyOf(req, conflictStrategySchema, 'conflict strategy');
  const [row] = await asCaller(sql, caller, (tx) => tx`
    insert into sync.conflict_strategies as s (tenant_id, entity_type, field, strategy, source_priority, merge_rule, separator)
    values (${caller.tenantId}, ${rule.entity_type}, ${rule.field}, ${rule.strategy}, ${rule.source_priority}, ${rule.merge_rule},
            ${rule.separator})
    on conflict on constraint conflict_strategies_scope_key do update
      set strategy = excluded.strategy, source_priority = excluded.source_priority, merge_rule = excluded.merge_rule,
          separator = excluded.separator
    returning s.id, s.entity_type, s.field, s.strategy, s.source_priority, s.merge_rule, s.separator, s.updated_at`);
  return jsonResponse(200, { strategy: row });
}
