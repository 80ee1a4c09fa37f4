import { describe, expect, it } from 'vitest';
import type { JobRow } from './job-db.ts';
import { jobStatusView } from './job-status.ts';

const job = (extra: Partial<JobRow> = {}): JobRow => ({
  id: 'j1', tenant_id: 't1', connection_id: 'c1', kind: 'export', entity_types: ['contact', 'company'], status: 'running',
  checkpoint: { contact: { cursor: 'x', done: 300, finished: false, phase: 'create' }, company: { cursor: null, done: 100, finished: true } },
  done_count: 400, total_count: 1000, options: {}, error: null, started_by: 'cli', run_id: 'r1', lease_until: null,
  heartbeat_at: '2026-03-01T12:00:20Z', invocations: 3, created_at: '2026-03-01T11:59:59Z', started_at: '2026-03-01T12:00:00Z',
  finished_at: null, updated_at: '2026-03-01T12:00:20Z', ...extra,
});

const at = Date.parse('2026-03-01T12:00:20Z');

describe('jobStatusView', () => {
  it('gives the rate since the start and the time left at that rate', () => {
    const view = jobStatusView(job(), at);
    expect(view).toMatchObject({ done: 400, total: 1000, rate: 20, eta_seconds: 30, status: 'running' });
    expect(view.entities).toEqual({ contact: { done: 300, finished: false, phase: 'create' }, company: { done: 100, finished: true } });
  });

  it('has no ETA without a total or once the job ended, and no rate before it started', () => {
    expect(jobStatusView(job({ total_count: null }), at).eta_seconds).toBeNull();
    const done = jobStatusView(job({ status: 'done', finished_at: '2026-03-01T12:00:10Z' }), at);
    expect([done.rate, done.eta_seconds]).toEqual([40, null]);
    expect(jobStatusView(job({ status: 'queued', started_at: null, done_count: 0 }), at).rate).toBeNull();
  });
});
