// The Debian packages the local stack is built from. Installed with apt-get
// when missing (as root); otherwise the error names the command to run.
import { log, StackError } from './log.mjs';
import { isRoot, run, runLive } from './run.mjs';

export const requiredPackages = [
  'postgresql-15',
  'postgresql-contrib',
  'postgresql-15-cron',
  'postgresql-15-pgtap',
  'postgresql-15-plpgsql-check',
  'libtap-parser-sourcehandler-pgtap-perl',
];

function isInstalled(pkg) {
  const result = run('dpkg-query', ['-W', '-f=${Status}', pkg], { allowFail: true });
  return result.status === 0 && result.stdout.includes('install ok installed');
}

export async function ensureSystemPackages() {
  const missing = requiredPackages.filter((pkg) => !isInstalled(pkg));
  if (missing.length === 0) return;
  const command = `apt-get update && apt-get install -y ${missing.join(' ')}`;
  if (!isRoot) {
    throw new StackError(`missing Debian packages: ${missing.join(', ')}`, `run: sudo sh -c '${command}'`);
  }
  log.step(`installing Debian packages: ${missing.join(', ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  let code = await runLive('apt-get', ['update', '-qq'], { env });
  if (code === 0) code = await runLive('apt-get', ['install', '-y', '-qq', ...missing], { env });
  if (code !== 0) {
    throw new StackError(`apt-get could not install ${missing.join(', ')}`, `run it by hand to see why: ${command}`);
  }
}
