// Brings a profile's database to the current schema: cluster, platform
// pieces, migrations, and (on a new cluster) the seed.
import { initCluster, startCluster } from './cluster.mjs';
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
  if (created && seed) await applySeed(profile);
  return { created };
}
