// What an operator sees of a job: progress (done, total when known), the
// rate since it started and the time left when the total is known.
import { toMillis } from '../sync/values.ts';
import type { JobRow } from './job-db.ts';

export interface JobStatusView {
  id: string;
  connection_id: string;
  tenant_id: string;
  kind: string;
  entity_types: string[];
  status: string;
  done: number;
  total: number | null;
  /** Records per second since the job started (null before it started). */
  rate: number | null;
  /** Seconds left at that rate, when the total is known and the job is active. */
  eta_seconds: number | null;
  error: string | null;
  started_by: string;
  invocations: number;
  entities: Record<string, { done: number; finished: boolean; phase?: string }>;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  heartbeat_at: string | null;
  reconcile?: unknown;
}

export function jobStatusView(job: JobRow, nowMs: number, reconcile?: unknown): JobStatusView {
  const startedMs = job.started_at ? toMillis(job.started_at) : null;
  const endMs = job.finished_at ? toMillis(job.finished_at) : nowMs;
  const seconds = startedMs === null ? 0 : Math.max(0, (endMs - startedMs) / 1000);
  const rate = startedMs === null || seconds === 0 ? null : Math.round((job.done_count / seconds) * 10) / 10;
  const active = ['queued', 'running', 'paused'].includes(job.status);
  const left = job.total_count === null ? null : Math.max(0, job.total_count - job.done_count);
  const eta = !active || left === null ? null : left === 0 ? 0 : rate ? Math.round(left / rate) : null;
  const entities: JobStatusView['entities'] = {};
  for (const entityType of job.entity_types) {
    const c = job.checkpoint[entityType];
    entities[entityType] = { done: c?.done ?? 0, finished: c?.finished ?? false, ...(c?.phase ? { phase: c.phase } : {}) };
  }
  const iso = (value: unknown) => (value === null || value === undefined ? null : new Date(toMillis(value)).toISOString());
  return {
    id: job.id,
    connection_id: job.connection_id,
    tenant_id: job.tenant_id,
    kind: job.kind,
    entity_types: job.entity_types,
    status: job.status,
    done: job.done_count,
    total: job.total_count,
    rate,
    eta_seconds: eta,
    error: job.error,
    started_by: job.started_by,
    invocations: job.invocations,
    entities,
    created_at: iso(job.created_at)!,
    started_at: iso(job.started_at),
    finished_at: iso(job.finished_at),
    heartbeat_at: iso(job.heartbeat_at),
    ...(reconcile ? { reconcile } : {}),
  };
}
