// The convergence simulation, small and fast (npm run sim runs large ones):
// 20 seeds of concurrent edits in the app, HubSpot and Pipedrive to
// overlapping contacts and fields, creates and deletes, under faulty
// webhooks and faulty APIs, five per conflict strategy. Each seed runs in a
// fresh tenant connected to both CRMs, and its catch-up pass reconciles
// both connections. Afterwards every property holds.
import { afterEach, describe, expect, it } from 'vitest';
import { reconcileConnections } from '../../../scripts/sim/catch-up.mjs';
import { runSeed } from '../../../scripts/sim/convergence.mjs';
import { createHubSpotDriver } from '../../../scripts/sim/hubspot-driver.mjs';
import { createPipedriveDriver } from '../../../scripts/sim/pipedrive-driver.mjs';
import { strategies } from '../../../scripts/sim/workload.mjs';
import { type HubSpotSyncHarness, startHubSpotSync } from './hubspot-sync-harness.ts';
import { jobsApi } from './job-probes.ts';
import { type PipedriveSyncHarness, startPipedriveSync } from './pipedrive-sync-harness.ts';

let hs: HubSpotSyncHarness | undefined;
let pd: PipedriveSyncHarness | undefined;

afterEach(async () => {
  await pd?.close();
  await hs?.close();
  pd = hs = undefined;
});

/**
 * A tenant connected to a HubSpot and a Pipedrive simulator of its own, as the simulation drives it: one-second
 * rate-limit windows, so an injected 429 pauses a connection for a second (as its headers say).
 */
async function openHub(seed: number): Promise<Parameters<typeof runSeed>[0]> {
  hs = await startHubSpotSync(`convergence-${seed}`, { rateLimit: { maxPerInterval: 100, intervalMs: 1_000 } });
  pd = await startPipedriveSync(`convergence-${seed}`, { rateLimit: { burstLimit: 100, burstWindowMs: 1_000 } },
                                { sql: hs.sql, tenantId: hs.tenantId });
  const { env } = pd;
  return {
    sql: hs.sql,
    tenantId: hs.tenantId,
    crms: [
      createHubSpotDriver({ control: hs.control, connectionId: hs.connectionId, portalId: hs.portalId }),
      createPipedriveDriver({ control: pd.control, connectionId: pd.connectionId, companyId: pd.companyId }),
    ],
    runWorker: () => hs!.drain(),
    catchUp: reconcileConnections((method: string, route: string, body?: unknown) => jobsApi(env, method, route, body)),
  };
}

describe('convergence of the app, HubSpot and Pipedrive under concurrent edits and faults', () => {
  const seeds = Array.from({ length: 20 }, (_, i) => [i + 1, strategies[i % strategies.length]] as const);
  it.each(seeds)('seed %i (%s): every property holds', async (seed, strategy) => {
    const result = await runSeed(await openHub(seed), { seed, strategy, records: 3, ops: 10 });
    expect(result.findings, `replay: npm run sim -- --seed ${seed} --seeds 1 --strategy ${strategy} --records 3 --ops 10`).toEqual({
      divergent: [], duplicates: [], resurrected: [], lostEdits: [], conflictErrors: [],
    });
    expect(result.operations).toBeGreaterThan(0);
  }, 120_000);
});
