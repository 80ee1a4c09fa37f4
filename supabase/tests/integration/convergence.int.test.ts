// The convergence simulation, small and fast (npm run sim runs large ones):
// 20 seeds of concurrent app and HubSpot edits to overlapping contacts and
// fields, creates and deletes, under faulty webhooks and a faulty API, five
// per conflict strategy. After each seed's catch-up every property holds.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSeed } from '../../../scripts/sim/convergence.mjs';
import { createHubSpotDriver } from '../../../scripts/sim/hubspot-driver.mjs';
import { strategies } from '../../../scripts/sim/workload.mjs';
import { type HubSpotSyncHarness, startHubSpotSync } from './hubspot-sync-harness.ts';

let hs: HubSpotSyncHarness;
let ctx: Parameters<typeof runSeed>[0];

beforeAll(async () => {
  hs = await startHubSpotSync('convergence', { rateLimit: { maxPerInterval: 1_000, intervalMs: 10_000 } });
  ctx = {
    sql: hs.sql,
    tenantId: hs.tenantId,
    crms: [createHubSpotDriver({ control: hs.control, connectionId: hs.connectionId, portalId: hs.portalId })],
    runWorker: () => hs.drain(),
  };
}, 120_000);

afterAll(async () => {
  await hs?.close();
});

describe('convergence under concurrent edits and faults', () => {
  const seeds = Array.from({ length: 20 }, (_, i) => [i + 1, strategies[i % strategies.length]] as const);
  it.each(seeds)('seed %i (%s): every property holds', async (seed, strategy) => {
    const result = await runSeed(ctx, { seed, strategy, records: 4, ops: 12 });
    expect(result.findings, `replay: npm run sim -- --seed ${seed} --strategy ${strategy} --records 4 --ops 12`).toEqual({
      divergent: [], duplicates: [], resurrected: [], lostEdits: [], conflictErrors: [],
    });
    expect(result.operations).toBeGreaterThan(0);
  }, 120_000);
});
