// What a command prints: its result as text for people or as JSON for
// scripts (--json), and progress notes on stderr so stdout stays parseable.

/**
 * @typedef {object} Io
 * @property {(text: string) => void} out stdout
 * @property {(text: string) => void} err stderr
 * @property {NodeJS.ProcessEnv} env
 * @property {boolean} [tty] stderr is a terminal (progress is redrawn in place)
 */

/**
 * @typedef {object} Output
 * @property {boolean} json
 * @property {(data: unknown, text: string | string[]) => void} result the command's answer: `data` with --json, else `text`
 * @property {(line: string) => void} note progress for people (stderr; silent with --json)
 * @property {boolean} tty progress is drawn on a terminal
 * @property {(line: string) => void} progress live progress (stderr): redrawn in place on a terminal, else a line when it changes
 * @property {() => void} progressEnd ends a live progress line
 */

/**
 * @param {Io} io
 * @param {boolean} json
 * @returns {Output}
 */
export function createOutput(io, json) {
  const tty = io.tty === true;
  /** @type {string | null} */
  let lastProgress = null;
  return {
    json,
    result(data, text) {
      if (json) io.out(`${JSON.stringify(data, null, 2)}\n`);
      else io.out(`${Array.isArray(text) ? text.join('\n') : text}\n`);
    },
    note(line) {
      if (!json) io.err(`${line}\n`);
    },
    tty,
    progress(line) {
      if (json || line === lastProgress) return;
      lastProgress = line;
      io.err(tty ? `\r\x1b[2K${line}` : `${line}\n`);
    },
    progressEnd() {
      if (!json && tty && lastProgress !== null) io.err('\n');
      lastProgress = null;
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
