import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hubSpotStatusLines, simulatorPort, stopLeftoverSimulator } from './demo.mjs';

let dir: string;
let profile: { dir: string };
const writeState = (state: unknown) => fs.writeFileSync(path.join(dir, 'hubspot-demo.json'), JSON.stringify(state));

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crm-sync-demo-'));
  profile = { dir };
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('simulatorPort', () => {
  it('is 54340 unless CRM_SYNC_HUBSPOT_SIM_PORT says otherwise', () => {
    expect(simulatorPort({})).toBe(54340);
    expect(simulatorPort({ CRM_SYNC_HUBSPOT_SIM_PORT: '54363' })).toBe(54363);
    expect(() => simulatorPort({ CRM_SYNC_HUBSPOT_SIM_PORT: 'sim' })).toThrow(/CRM_SYNC_HUBSPOT_SIM_PORT must be a port number/);
  });
});

describe('status of the HubSpot demo', () => {
  it('says not connected or stopped when there is no demo state', () => {
    expect(hubSpotStatusLines(profile as never, true)).toEqual(['  HubSpot:   not connected']);
    expect(hubSpotStatusLines(profile as never, false)).toEqual(['  HubSpot:   stopped']);
  });

  it('names the portal of a real HubSpot connection while the stack runs', () => {
    writeState({ mode: 'hubspot', connectionId: 'c1', accountId: '123' });
    expect(hubSpotStatusLines(profile as never, true)).toEqual(['  HubSpot:   portal 123, Acme connected (connection c1)']);
    expect(hubSpotStatusLines(profile as never, false)).toEqual(['  HubSpot:   stopped']);
  });

  it('treats a recorded pid that is not the simulator as stopped, and never signals it', () => {
    // This test's own process: alive, but not the simulator.
    writeState({ mode: 'simulator', pid: process.pid, url: 'http://127.0.0.1:54340', accountId: '62515001' });
    expect(hubSpotStatusLines(profile as never, true)).toEqual(['  HubSpot:   simulator stopped']);
    expect(stopLeftoverSimulator(profile as never)).toBe(false);
    expect(fs.existsSync(path.join(dir, 'hubspot-demo.json'))).toBe(false);
  });
});
