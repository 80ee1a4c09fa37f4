// Who calls the review API and how the database sees them. Every query runs
// in a transaction as the `authenticated` role with the caller's claims, so
// row-level security scopes it to one tenant exactly as it would a
// PostgREST request. A member's tenant comes from their JWT
// (app_metadata.tenant_id); the service role names the tenant it acts for.
import { z } from 'zod';
import { claimsOf } from '../auth.ts';
import type { Sql } from '../db.ts';

export interface Caller {
  tenantId: string;
  /** The claims the database sees (request.jwt.claims). */
  claims: Record<string, unknown>;
}

export class CallerError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

export function callerOf(req: Request, url: URL): Caller {
  const claims = claimsOf(req.headers.get('authorization'));
  if (claims?.role === 'service_role') {
    const tenant = z.uuid().safeParse(url.searchParams.get('tenant_id'));
    if (!tenant.success) throw new CallerError(400, 'invalid_request', 'with the service role key, tenant_id (a uuid) is a required query parameter');
    return { tenantId: tenant.data, claims: { role: 'service_role', app_metadata: { tenant_id: tenant.data } } };
  }
  if (claims?.role === 'authenticated') {
    const tenant = z.uuid().safeParse((claims.app_metadata as Record<string, unknown> | undefined)?.tenant_id);
    if (!tenant.success) throw new CallerError(403, 'forbidden', 'the token carries no tenant (app_metadata.tenant_id)');
    return { tenantId: tenant.data, claims };
  }
  throw new CallerError(403, 'forbidden', 'sign in as a tenant member, or use the service role key');
}

/** Runs `work` in one transaction as the caller (RLS applies). */
export async function asCaller<T>(sql: Sql, caller: Caller, work: (tx: Sql) => Promise<T>): Promise<T> {
  return await sql.begin(async (tx) => {
    await tx`select set_config('request.jwt.claims', ${JSON.stringify(caller.claims)}, true)`;
    await tx.unsafe('set local role authenticated');
    return await work(tx as unknown as Sql);
  }) as T;
}
