// Makes a bare Postgres cluster look like a hosted Supabase database before
// the migrations run: stand-in extensions where the real ones are missing,
// then roles, auth and the other platform pieces (platform.sql).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect } from './cluster.mjs';
import { log, StackError } from './log.mjs';
import { pgBin, run } from './run.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const standInDir = path.join(here, 'extensions');
const standInMarker = '# crm-sync stand-in';

function extensionDir() {
  return path.join(run(`${pgBin}/pg_config`, ['--sharedir']).stdout.trim(), 'extension');
}

/** Names of the stand-in extensions shipped in scripts/stack/extensions. */
export function standInNames() {
  return fs.readdirSync(standInDir).filter((f) => f.endsWith('.control')).map((f) => f.replace(/\.control$/, ''));
}

/**
 * Copies a stand-in's control and script files into Postgres's extension
 * folder when the real extension is absent. A previously installed stand-in
 * (recognised by its marker line) is refreshed; a real one is never touched.
 */
function installStandIns() {
  const target = extensionDir();
  const installed = [];
  for (const name of standInNames()) {
    const existing = path.join(target, `${name}.control`);
    if (fs.existsSync(existing) && !fs.readFileSync(existing, 'utf8').startsWith(standInMarker)) continue;
    const files = fs.readdirSync(standInDir).filter((f) => f === `${name}.control` || f.startsWith(`${name}--`));
    try {
      for (const file of files) fs.copyFileSync(path.join(standInDir, file), path.join(target, file));
    } catch (error) {
      throw new StackError(
        `cannot install the ${name} stand-in into ${target}: ${error.message}`,
        `run the stack as root once (sudo npm start), or copy scripts/stack/extensions/${name}* into ${target}`,
      );
    }
    installed.push(name);
  }
  return installed;
}

export async function bootstrapPlatform(profile) {
  const standIns = installStandIns();
  const sql = connect(profile);
  try {
    await sql.unsafe(fs.readFileSync(path.join(here, 'platform.sql'), 'utf8'));
    const available = await sql`select name, default_version from pg_available_extensions where name in ${sql(standIns.length ? standIns : [''])}`;
    if (standIns.length) log.info(`stand-ins: ${available.map((e) => `${e.name} ${e.default_version}`).join(', ')}`);
  } catch (error) {
    throw new StackError(`the platform bootstrap failed: ${error.message}`, 'see scripts/stack/platform.sql');
  } finally {
    await sql.end();
  }
}
