// What a command prints: its result as text for people or as JSON for
// scripts (--json), and progress notes on stderr so stdout stays parseable.

/**
 * @typedef {object} Io
 * @property {(text: string) => void} out stdout
 * @property {(text: string) => void} err stderr
 * @property {NodeJS.ProcessEnv} env
 */

/**
 * @typedef {object} Output
 * @property {boolean} json
 * @property {(data: unknown, text: string | string[]) => void} result the command's answer: `data` with --json, else `text`
 * @property {(line: string) => void} note progress for people (stderr; silent with --json)
 */

/**
 * @param {Io} io
 * @param {boolean} json
 * @returns {Output}
 */
export function createOutput(io, json) {
  return {
    json,
    result(data, text) {
      if (json) io.out(`${JSON.stringify(data, null, 2)}\n`);
      else io.out(`${Array.isArray(text) ? text.join('\n') : text}\n`);
    },
    note(line) {
      if (!json) io.err(`${line}\n`);
    },
  };
}

/** Seconds with one decimal, for durations in ms. */
export const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;

/**
 * Rows as aligned columns (the last column is not padded).
 * @param {string[][]} rows
 * @returns {string[]}
 */
export function columns(rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => String(row[i] ?? '').length)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? String(cell) : String(cell).padEnd(widths[i]))).join('  ').trimEnd());
}
