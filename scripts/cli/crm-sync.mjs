#!/usr/bin/env node
// crm-sync: the operator's command line (see program.mjs; `crm-sync --help`).
import { runCli } from './program.mjs';

process.exitCode = await runCli(process.argv.slice(2), {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  env: process.env,
  tty: process.stderr.isTTY === true,
});
