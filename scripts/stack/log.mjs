// Console output of the stack scripts: short step lines, and errors that say
// how to fix the problem.
const useColor = process.stdout.isTTY && !process.env.NO_COLOR;
const paint = (code, text) => (useColor ? `\x1b[${code}m${text}\x1b[0m` : text);

export const log = {
  step: (text) => console.log(`${paint('36', '›')} ${text}`),
  ok: (text) => console.log(`${paint('32', '✓')} ${text}`),
  warn: (text) => console.warn(`${paint('33', '!')} ${text}`),
  info: (text) => console.log(`  ${text}`),
  error: (text) => console.error(`${paint('31', '✗')} ${text}`),
};

/** An error the user can act on: `hint` says how to fix it. */
export class StackError extends Error {
  /** @param {string} message @param {string} [hint] */
  constructor(message, hint) {
    super(message);
    this.name = 'StackError';
    this.hint = hint;
  }
}

/** Prints a StackError (or any error) and exits non-zero. */
export function exitWithError(error) {
  log.error(error.message);
  if (error.hint) console.error(`  how to fix: ${error.hint}`);
  if (!(error instanceof StackError) && error.stack) console.error(error.stack);
  process.exit(1);
}
