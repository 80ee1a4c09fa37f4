// Probes the batch job tests share (HubSpot and Pipedrive): the sync-jobs
// function's API and the identity map's count per entity type.
import type postgres from 'postgres';
import { expect } from 'vitest';
import { functionUrl, type StackEnv } from './stack-env.ts';

export async function jobsApi(env: StackEnv, method: string, route = '', body?: unknown, key?: string) {
  const res = await fetch(`${functionUrl(env, 'sync-jobs')}${route}`, {
    method,
    headers: { authorization: `Bearer ${key ?? env.serviceRoleKey}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() as any };
}

/** Records of the type in the connection's identity map, each checked to have a local record of its own. */
export async function mappedCount(sql: postgres.Sql, connectionId: string, entityType: string) {
  const [row] = await sql<{ n: number; locals: number }[]>`
    select count(*)::int as n, count(distinct local_id)::int as locals from sync.identity_map
     where connection_id = ${connectionId} and entity_type = ${entityType}`;
  expect(row.locals, `${entityType}: one local record per remote record`).toBe(row.n);
  return row.n;
}
