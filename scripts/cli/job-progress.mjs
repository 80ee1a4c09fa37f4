// Following a sync job: its status polled from the sync-jobs function until
// it ends or pauses, shown as a live progress bar on a terminal and as plain
// lines otherwise (one per change), and what its end means for the exit code.
import { CliError } from './errors.mjs';

const active = new Set(['queued', 'running']);

/** @param {number} n */
const count = (n) => Math.round(n).toLocaleString('en-US');

/** @param {number | null} seconds */
function duration(seconds) {
  if (seconds === null || seconds === undefined) return '?';
  if (seconds < 60) return `${Math.round(seconds)}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${String(Math.round(seconds % 60)).padStart(2, '0')}s`;
  return `${Math.floor(seconds / 3600)}h${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')}m`;
}

/**
 * One line of progress: kind, short id, status, a bar when the total is known, counts, rate, ETA.
 * @param {any} job a sync-jobs status view
 * @param {{ bar?: boolean }} [options]
 */
export function progressLine(job, options = {}) {
  const parts = [`${job.kind} ${String(job.id).slice(0, 8)}`, job.status.padEnd(9)];
  if (options.bar && job.total !== null && job.total !== undefined) {
    const width = 24;
    const ratio = job.total === 0 ? 1 : Math.min(1, job.done / job.total);
    const filled = Math.round(ratio * width);
    parts.push(`[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(Math.floor(ratio * 100)).padStart(3)}%`);
  }
  parts.push(job.total !== null && job.total !== undefined ? `${count(job.done)}/${count(job.total)} records` : `${count(job.done)} records`);
  if (job.rate !== null && job.rate !== undefined) parts.push(`${count(job.rate)}/s`);
  if (job.eta_seconds !== null && job.eta_seconds !== undefined && active.has(job.status)) parts.push(`ETA ${duration(job.eta_seconds)}`);
  if (job.error) parts.push(`(${job.error})`);
  return parts.join('  ');
}

/** The lines describing a job in full (status command, end of a followed job). */
export function describeJob(job) {
  const lines = [
    progressLine(job),
    `  id ${job.id}, connection ${job.connection_id}, started by ${job.started_by}, ${job.invocations} run${job.invocations === 1 ? '' : 's'}`,
    `  entity types: ${Object.entries(job.entities ?? {}).map(([type, e]) =>
      `${type} ${count(e.done)}${e.finished ? ' ✓' : e.phase ? ` (${e.phase})` : ''}`).join(', ')}`,
    `  created ${job.created_at}${job.started_at ? `, started ${job.started_at}` : ''}${job.finished_at ? `, finished ${job.finished_at}` : ''}`,
  ];
  if (job.reconcile) {
    const r = job.reconcile;
    lines.push(`  reconciliation: ${count(r.records_compared)} compared, ${count(r.records_drifted)} drifted (${count(r.fields_drifted)} fields), `
      + `${count(r.resolved)} resolved, ${count(r.alerted)} alerted`);
  }
  return lines;
}

/**
 * Polls the job until it is no longer queued or running, reporting progress.
 * @param {import('./functions-client.mjs').FunctionsClient} client
 * @param {string} jobId
 * @param {import('./output.mjs').Output} out
 * @param {{ pollMs?: number, sleep?: (ms: number) => Promise<void> }} [options]
 */
export async function followJob(client, jobId, out, options = {}) {
  const pollMs = options.pollMs ?? 1000;
  const sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  for (;;) {
    const { job } = await client.invoke(`sync-jobs/${jobId}`, { method: 'GET' });
    out.progress(progressLine(job, { bar: out.tty }));
    if (!active.has(job.status)) {
      out.progressEnd();
      return job;
    }
    await sleep(pollMs);
  }
}

/**
 * The result of a followed job: printed when it is done (or cancelled), an error naming the fix when it paused or failed.
 * @param {any} job @param {import('./output.mjs').Output} out
 */
export function finishFollowed(job, out) {
  if (job.status === 'paused' || job.status === 'failed') {
    throw new CliError(`${job.kind} job ${job.id} ${job.status}: ${job.error ?? 'no error recorded'}`, {
      code: `job_${job.status}`,
      details: job,
      hint: `fix the cause, then continue from its checkpoint: crm-sync resume ${job.id}`,
    });
  }
  out.result({ job }, describeJob(job));
}
