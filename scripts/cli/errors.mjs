// Errors the CLI reports to its user: what went wrong, how to fix it, and
// the exit code (2 for a usage mistake, 1 for anything else).

/** A failure the user can act on; `hint` says how to fix it. */
export class CliError extends Error {
  /**
   * @param {string} message
   * @param {{ hint?: string, code?: string, status?: number, details?: unknown, exitCode?: number }} [options]
   */
  constructor(message, options = {}) {
    super(message);
    this.name = 'CliError';
    this.hint = options.hint;
    this.code = options.code;
    this.status = options.status;
    this.details = options.details;
    this.exitCode = options.exitCode ?? 1;
  }
}

/** A mistake in the command line itself (exit code 2). */
export class UsageError extends CliError {
  /** @param {string} message @param {string} [hint] */
  constructor(message, hint) {
    super(message, { hint, code: 'usage', exitCode: 2 });
    this.name = 'UsageError';
  }
}

/**
 * The lines printed for a failure: `error: ...`, details (one per line),
 * `how to fix: ...`.
 * @param {unknown} error
 * @returns {string}
 */
export function formatError(error) {
  if (!(error instanceof CliError)) {
    const message = error instanceof Error ? error.stack ?? error.message : String(error);
    return `error: ${message}`;
  }
  const lines = [`error: ${error.message}`];
  for (const detail of detailLines(error.details)) lines.push(`  - ${detail}`);
  if (error.hint) lines.push(`  how to fix: ${error.hint}`);
  return lines.join('\n');
}

/**
 * The same failure as JSON, for `--json`.
 * @param {unknown} error
 */
export function errorJson(error) {
  if (!(error instanceof CliError)) {
    return { error: { code: 'internal', message: error instanceof Error ? error.message : String(error) } };
  }
  const body = { code: error.code ?? 'error', message: error.message };
  if (error.status !== undefined) body.status = error.status;
  if (error.details !== undefined) body.details = error.details;
  if (error.hint) body.hint = error.hint;
  return { error: body };
}

/**
 * Validation issues (zod's `{path, message}`) as readable lines; anything
 * else as its JSON.
 * @param {unknown} details
 * @returns {string[]}
 */
function detailLines(details) {
  if (details === undefined || details === null) return [];
  if (Array.isArray(details)) {
    return details.map((issue) => {
      if (issue && typeof issue === 'object' && 'message' in issue) {
        const path = Array.isArray(issue.path) && issue.path.length ? `${issue.path.join('.')}: ` : '';
        return `${path}${issue.message}`;
      }
      return typeof issue === 'string' ? issue : JSON.stringify(issue);
    });
  }
  return [typeof details === 'string' ? details : JSON.stringify(details)];
}
