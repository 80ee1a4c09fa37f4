// Brings a profile's database to the current schema: cluster, platform
// pieces, migrations, and (on a new cluster) the seed.
import { connect, initCluster, startCluster } from './cluster.mjs';
import { localKeys } from './keys.mjs';
import { localJwtSecret } from './profiles.mjs';
import { applyMigrations, applySeed } from './migrations.mjs';
import { bootstrapPlatform } from './platform.mjs';
import { ensureSystemPackages } from './system-packages.mjs';

/** @param {import('./profiles.mjs').Profile} profile */
export async function prepareDatabase(profile, { seed = true } = {}) {
  await ensureSystemPackages();
  const created = initCluster(profile);
  await startCluster(profile);
  await bootstrapPlatform(profile);
  await applyMigrations(profile);
  await configureWorkerEndpoint(profile);
  if (created && seed) await applySeed(profile);
  return { created };
}

/** Tells pg_net where the sync-worker function is (an operator does this once on hosted). */
async function configureWorkerEndpoint(profile) {
  const sql = connect(profile);
  try {
    await sql`select sync.configure_worker_endpoint(${`${profile.apiUrl}/functions/v1`}, ${localKeys(localJwtSecret).serviceRoleKey})`;
  } finally {
    await sql.end();
  }
}
