// The crm-sync command line: global options, the command list, help, and
// one place where failures become messages and exit codes. Each command is a
// module in commands/ (a CommandSpec); adding one is a module plus a line in
// `commands` below.
import fs from 'node:fs';
import { commandHelp, parseCommandArgs, table } from './args.mjs';
import connect from './commands/connect.mjs';
import connections from './commands/connections.mjs';
import disconnect from './commands/disconnect.mjs';
import worker from './commands/worker.mjs';
import backfill from './commands/backfill.mjs';
import sync from './commands/sync.mjs';
import reconcile from './commands/reconcile.mjs';
import status from './commands/status.mjs';
import jobs from './commands/jobs.mjs';
import cancel from './commands/cancel.mjs';
import resume from './commands/resume.mjs';
import { errorJson, formatError, UsageError } from './errors.mjs';
import { createFunctionsClient } from './functions-client.mjs';
import { createOutput } from './output.mjs';

/** @type {import('./args.mjs').CommandSpec[]} */
export const commands = [connect, disconnect, connections, worker, backfill, sync, reconcile, status, jobs, cancel, resume];

/** The help text of the tool. */
export function toolHelp() {
  return `crm-sync: operate a crm-sync project (its CRM connections and sync runs) on the
local stack or on a hosted Supabase project.

Usage: crm-sync <command> [options]

Commands:
${table(commands.map((c) => [c.name, c.summary])).join('\n')}

Options:
  --json         print results (and errors, on stderr) as JSON
  -h, --help     show help; "crm-sync <command> --help" for a command
  --version      print the version

Environment:
  SUPABASE_URL               the project (default: the local stack, http://127.0.0.1:54321;
                             CRM_SYNC_API_PORT moves it)
  SUPABASE_SERVICE_ROLE_KEY  its service_role key (default: the local stack's)

Exit codes: 0 done, 1 failed, 2 wrong usage.
`;
}

function version() {
  const pkg = JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  return `crm-sync ${pkg.version}\n`;
}

/**
 * Runs one command line; resolves with the exit code.
 * @param {string[]} argv the arguments after `crm-sync`
 * @param {import('./output.mjs').Io} io
 * @returns {Promise<number>}
 */
export async function runCli(argv, io) {
  let json = argv.includes('--json');
  try {
    let index = 0;
    for (; index < argv.length && argv[index].startsWith('-'); index++) {
      const flag = argv[index];
      if (flag === '-h' || flag === '--help') {
        io.out(toolHelp());
        return 0;
      }
      if (flag === '--version') {
        io.out(version());
        return 0;
      }
      if (flag !== '--json') throw new UsageError(`unknown option ${flag}`, 'crm-sync --help lists the options');
    }
    const name = argv[index];
    if (name === undefined) {
      io.err(toolHelp());
      return 2;
    }
    if (name === 'help') {
      const target = argv[index + 1];
      if (target === undefined) {
        io.out(toolHelp());
        return 0;
      }
      io.out(commandHelp(findCommand(target)));
      return 0;
    }
    const spec = findCommand(name);
    const { values, positionals } = parseCommandArgs(spec, argv.slice(index + 1), io.env);
    if (values.help) {
      io.out(commandHelp(spec));
      return 0;
    }
    json ||= values.json === true;
    /** @type {Promise<import('./functions-client.mjs').FunctionsClient> | undefined} */
    let client;
    await spec.run({
      values,
      positionals,
      env: io.env,
      out: createOutput(io, json),
      functions: () => (client ??= createFunctionsClient(io.env)),
    });
    return 0;
  } catch (error) {
    io.err(json ? `${JSON.stringify(errorJson(error))}\n` : `${formatError(error)}\n`);
    return /** @type {{exitCode?: number}} */ (error)?.exitCode ?? 1;
  }
}

/** @param {string} name */
function findCommand(name) {
  const spec = commands.find((c) => c.name === name);
  if (!spec) throw new UsageError(`unknown command "${name}"`, `crm-sync --help lists the commands (${commands.map((c) => c.name).join(', ')})`);
  return spec;
}
