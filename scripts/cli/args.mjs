// Command specs and their argument parsing (node:util parseArgs, strict),
// plus the help text generated from the same spec, so the two never drift.
import { parseArgs } from 'node:util';
import { UsageError } from './errors.mjs';

/**
 * @typedef {object} OptionSpec
 * @property {'string' | 'boolean'} type
 * @property {string} description
 * @property {string} [value] placeholder in help, e.g. `<uuid>`
 * @property {string} [short] one-letter alias
 * @property {boolean} [required]
 * @property {string} [env] environment variable used when the option is not given
 */

/**
 * @typedef {object} PositionalSpec
 * @property {string} name
 * @property {string} description
 * @property {boolean} [required]
 * @property {string[]} [choices]
 */

/**
 * @typedef {object} CommandContext
 * @property {Record<string, string | boolean | undefined>} values parsed options
 * @property {string[]} positionals
 * @property {NodeJS.ProcessEnv} env
 * @property {import('./output.mjs').Output} out
 * @property {() => Promise<import('./functions-client.mjs').FunctionsClient>} functions the project's Edge Functions
 */

/**
 * @typedef {object} CommandSpec
 * @property {string} name
 * @property {string} summary one line for the command list
 * @property {string} usage the synopsis after `crm-sync `
 * @property {string} [description] paragraphs shown in the command's help
 * @property {PositionalSpec[]} [positionals]
 * @property {Record<string, OptionSpec>} options
 * @property {string[]} [examples]
 * @property {(context: CommandContext) => Promise<void>} run
 */

/** Options every command takes. */
export const commonOptions = /** @type {Record<string, OptionSpec>} */ ({
  json: { type: 'boolean', description: 'print the result as JSON (errors too, on stderr)' },
  help: { type: 'boolean', short: 'h', description: 'show this help' },
});

/**
 * Parses a command's arguments. Options may come from the environment
 * (`env` in the spec); missing required ones and stray positionals are
 * usage errors that name the fix.
 * @param {CommandSpec} spec
 * @param {string[]} argv the arguments after the command name
 * @param {NodeJS.ProcessEnv} [env]
 * @returns {{ values: Record<string, string | boolean | undefined>, positionals: string[] }}
 */
export function parseCommandArgs(spec, argv, env = {}) {
  const all = { ...spec.options, ...commonOptions };
  /** @type {import('node:util').ParseArgsConfig['options']} */
  const options = {};
  for (const [name, option] of Object.entries(all)) {
    options[name] = { type: option.type, ...(option.short ? { short: option.short } : {}) };
  }
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, strict: true, allowPositionals: true });
  } catch (error) {
    throw usageFromParseError(spec, /** @type {Error & {code?: string}} */ (error));
  }
  const values = /** @type {Record<string, string | boolean | undefined>} */ ({ ...parsed.values });
  if (values.help) return { values, positionals: parsed.positionals };

  const positionals = parsed.positionals;
  const expected = spec.positionals ?? [];
  if (positionals.length > expected.length) {
    const extra = positionals.slice(expected.length).map((p) => `"${p}"`).join(', ');
    throw new UsageError(`unexpected argument${positionals.length - expected.length > 1 ? 's' : ''} ${extra}`, `usage: crm-sync ${spec.usage}`);
  }
  expected.forEach((positional, index) => {
    const given = positionals[index];
    if (given === undefined) {
      if (positional.required) throw new UsageError(`missing <${positional.name}>`, `usage: crm-sync ${spec.usage}`);
      return;
    }
    if (positional.choices && !positional.choices.includes(given)) {
      throw new UsageError(`<${positional.name}> must be ${positional.choices.map((c) => `"${c}"`).join(' or ')}, not "${given}"`,
        `usage: crm-sync ${spec.usage}`);
    }
  });
  for (const [name, option] of Object.entries(spec.options)) {
    if (values[name] === undefined && option.env && env[option.env]) values[name] = env[option.env];
    if (option.required && (values[name] === undefined || values[name] === '')) {
      throw new UsageError(`missing --${name}${option.value ? ` ${option.value}` : ''}${option.env ? ` (or set ${option.env})` : ''}`,
        `crm-sync ${spec.name} --help`);
    }
  }

  return { values, positionals };
}

/** parseArgs errors, reworded to name the command and the option. */
function usageFromParseError(spec, error) {
  const hint = `crm-sync ${spec.name} --help`;
  const option = /'(-[^' ]+)/.exec(error.message)?.[1];
  switch (error.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return new UsageError(`unknown option ${option} for "crm-sync ${spec.name}"`, hint);
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      if (/does not take an argument/.test(error.message)) return new UsageError(`${option} does not take a value`, hint);
      if (/ambiguous/.test(error.message)) {
        return new UsageError(`${option} needs a value (a value starting with a dash is written ${option}=-value)`, hint);
      }
      return new UsageError(`${option} needs a value`, hint);
    default:
      return new UsageError(error.message, hint);
  }
}

/**
 * The help text of one command.
 * @param {CommandSpec} spec
 */
export function commandHelp(spec) {
  const lines = [`Usage: crm-sync ${spec.usage}`, '', spec.summary.charAt(0).toUpperCase() + spec.summary.slice(1) + '.'];
  if (spec.description) lines.push('', spec.description);
  if (spec.positionals?.length) {
    lines.push('', 'Arguments:');
    lines.push(...table(spec.positionals.map((p) => [`<${p.name}>`, p.description])));
  }
  lines.push('', 'Options:');
  const rows = Object.entries({ ...spec.options, ...commonOptions }).map(([name, option]) => {
    const flag = `${option.short ? `-${option.short}, ` : ''}--${name}${option.value ? ` ${option.value}` : ''}`;
    const note = option.required ? (option.env ? ` (required, or set ${option.env})` : ' (required)') : option.env ? ` (default: $${option.env})` : '';
    return [flag, `${option.description}${note}`];
  });
  lines.push(...table(rows));
  if (spec.examples?.length) lines.push('', 'Examples:', ...spec.examples.map((e) => `  ${e}`));
  return `${lines.join('\n')}\n`;
}

/**
 * Two aligned columns.
 * @param {string[][]} rows
 */
export function table(rows) {
  const width = Math.max(...rows.map(([left]) => left.length));
  return rows.map(([left, right]) => `  ${left.padEnd(width)}  ${right}`.trimEnd());
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A uuid argument, lower-cased; a usage error naming the argument otherwise.
 * @param {string} value @param {string} what e.g. `--tenant` @param {string} [hint]
 */
export function uuidArgument(value, what, hint) {
  if (!uuidPattern.test(value)) throw new UsageError(`${what} must be a uuid, got "${value}"`, hint);
  return value.toLowerCase();
}

/**
 * An integer option within bounds, or undefined when not given.
 * @param {string | boolean | undefined} value @param {string} what @param {number} min @param {number} max
 */
export function integerOption(value, what, min, max) {
  if (value === undefined) return undefined;
  const text = String(value);
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) {
    throw new UsageError(`${what} must be a whole number from ${min} to ${max}, got "${text}"`);
  }
  return Number(text);
}

/** The hint for a tenant given as something other than its id. */
export const tenantHint = 'pass the tenant\'s id (crm.tenants.id); on the local stack the demo tenants are '
  + 'Acme 00000000-0000-4000-8000-00000000a001 and Globex 00000000-0000-4000-8000-00000000b001';
