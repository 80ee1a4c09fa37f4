// The per-run rates of a job, read from the services log the bench writes.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runRates } from './backfill.mjs';

const run = (job: string, records: number, elapsedMs: number) =>
  `2026-11-26T03:41:26.353Z [sync-jobs] sync-jobs run: ${JSON.stringify({ job_id: job, claimed: true, status: 'running', records, pages: records / 100, elapsed_ms: elapsedMs })}`;

describe('runRates', () => {
  it('gives the median and range of records/s over the runs of one job that moved records', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bench-')), 'services.log');
    fs.writeFileSync(file, [
      run('job-a', 1000, 1000),
      '2026-11-26T03:41:26.400Z [gateway] POST /functions/v1/sync-jobs/job-a/run 200 1000ms cpu≈400ms',
      run('job-b', 9000, 1000), // another job
      run('job-a', 3000, 1000),
      run('job-a', 0, 50), // a run that only handed over
      run('job-a', 4000, 2000),
    ].join('\n'));
    expect(runRates(file, 'job-a')).toEqual({ median: 2000, min: 1000, max: 3000, runs: 3 });
    expect(runRates(file, 'job-c')).toBeNull();
  });
});
