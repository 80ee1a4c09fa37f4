// The naive way, for comparison: one API call per record
// (@hubspot/api-client crm.contacts.basicApi.update, run from Node), kept
// under the same 100 requests / 10 s with a simple client-side sliding
// window (the same 250 ms margin the engine's budget uses), against the same
// simulator with the same limit. A sample of records is sent and the time
// for the full workload is extrapolated from the measured steady rate.
import { Client } from '@hubspot/api-client';
import { summarize } from '../stats.mjs';
import { sleep } from '../engine-state.mjs';

function slidingWindowLimiter(maxRequests, windowMs) {
  const grants = [];
  return async function take() {
    for (;;) {
      const now = Date.now();
      while (grants.length && grants[0] <= now - windowMs) grants.shift();
      if (grants.length < maxRequests) {
        grants.push(now);
        return;
      }
      await sleep(grants[0] + windowMs - now + 1);
    }
  };
}

export async function naiveBaseline(ctx, { sampleRecords, extrapolateTo, maxRequests = 100, intervalMs = 10_000 }) {
  if (sampleRecords <= maxRequests) {
    throw new Error(`the naive sample (${sampleRecords}) must be larger than the limit's burst (${maxRequests}): only the calls after it show the steady rate`);
  }
  const sim = ctx.naiveSim;
  const seeded = await sim.control('POST', '/seed', { objectType: 'contacts', count: sampleRecords, emitWebhooks: false });
  await sim.control('DELETE', '/requests');
  const client = new Client({ accessToken: ctx.naive.token, basePath: sim.url, numberOfApiCallRetries: 0 });
  const take = slidingWindowLimiter(maxRequests, intervalMs + 250);

  const started = Date.now();
  const doneAt = [];
  const latencies = [];
  let rateLimited = 0;
  let calls = 0;
  for (const [i, id] of seeded.ids.entries()) {
    for (;;) {
      await take();
      const sentAt = performance.now();
      calls++;
      try {
        await client.crm.contacts.basicApi.update(id, { properties: { lastname: `Naive ${i}` } });
        latencies.push(performance.now() - sentAt);
        doneAt.push(Date.now() - started);
        break;
      } catch (error) {
        if (error?.code !== 429) throw error;
        rateLimited++;
        await sleep(1_000);
      }
    }
  }
  const elapsedMs = Date.now() - started;
  const counters = await sim.control('GET', '/counters');

  // A sliding window lets the first `maxRequests` calls through at once; after
  // that the rate is the limit's. Extrapolate from the measured steady part.
  const burst = Math.min(maxRequests, sampleRecords);
  const steadyRecords = sampleRecords - burst;
  const steadyMs = steadyRecords > 0 ? doneAt[sampleRecords - 1] - doneAt[burst - 1] : Number.NaN;
  const steadyRecordsPerSecond = steadyRecords / (steadyMs / 1000);
  const extrapolatedMs = doneAt[burst - 1] + ((extrapolateTo - burst) / steadyRecordsPerSecond) * 1000;
  return {
    sampleRecords,
    apiCalls: calls,
    apiCallsSeenBySimulator: counters.requests,
    rateLimited429: rateLimited,
    elapsedMs,
    recordsPerSecond: sampleRecords / (elapsedMs / 1000),
    steadyRecordsPerSecond,
    callLatencyMs: summarize(latencies),
    extrapolatedTo: extrapolateTo,
    extrapolatedCalls: extrapolateTo,
    extrapolatedMs,
  };
}
