import { describe, expect, it } from 'vitest';
import { createOutput } from './output.mjs';
import { finishFollowed, followJob, progressLine } from './job-progress.mjs';

const job = (extra = {}) => ({
  id: '7c9e6679-7425-40de-944b-e07fc1f90ae7', kind: 'backfill', status: 'running', done: 1500, total: 6000, rate: 500,
  eta_seconds: 9, error: null, connection_id: 'c', started_by: 'cli', invocations: 2, entities: {}, created_at: 'now', ...extra,
});

describe('progressLine', () => {
  it('draws a bar with counts, rate and ETA when the total is known', () => {
    expect(progressLine(job(), { bar: true }))
      .toBe('backfill 7c9e6679  running    [######..................]  25%  1,500/6,000 records  500/s  ETA 9s');
  });

  it('prints counts only without a total, and the error of a paused job', () => {
    expect(progressLine(job({ total: null, eta_seconds: null, status: 'paused', error: 'HubSpot 503' }), { bar: true }))
      .toBe('backfill 7c9e6679  paused     1,500 records  500/s  (HubSpot 503)');
  });
});

describe('followJob', () => {
  const capture = (tty: boolean) => {
    const err: string[] = [];
    const out: string[] = [];
    return { err, out, output: createOutput({ out: (t) => out.push(t), err: (t) => err.push(t), env: {}, tty }, false) };
  };
  const client = (states: object[]) => {
    let i = 0;
    return { url: '', local: true, invoke: async () => ({ job: states[Math.min(i++, states.length - 1)] }) };
  };

  it('redraws one line on a terminal', async () => {
    const { err, output } = capture(true);
    const end = await followJob(client([job({ done: 10 }), job({ done: 20 }), job({ status: 'done', done: 6000 })]) as never, 'id', output,
      { sleep: async () => {} });
    expect(end.status).toBe('done');
    expect(err.every((t) => t.startsWith('\r\x1b[2K') || t === '\n')).toBe(true);
    expect(err.at(-1)).toBe('\n');
  });

  it('writes plain lines, one per change, when not a terminal', async () => {
    const { err, output } = capture(false);
    await followJob(client([job({ done: 10 }), job({ done: 10 }), job({ status: 'done', done: 6000 })]) as never, 'id', output,
      { sleep: async () => {} });
    expect(err).toHaveLength(2);
    expect(err.every((t) => t.endsWith('\n') && !t.includes('\r'))).toBe(true);
  });

  it('turns a paused job into an error that says how to resume', () => {
    const { output } = capture(false);
    expect(() => finishFollowed(job({ status: 'paused', error: 'HubSpot 503' }), output)).toThrow(/paused: HubSpot 503/);
  });
});
