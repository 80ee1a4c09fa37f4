// Conflict resolution end to end with the HubSpot simulator: edits made in
// the app and in HubSpot to the same contact, settled under each strategy;
// the manual review flow through the `conflicts` function as a tenant member;
// the resolution reaching HubSpot.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signJwt } from '../../../scripts/stack/keys.mjs';
import { localJwtSecret } from '../../../scripts/stack/profiles.mjs';
import { type HubSpotSyncHarness, startHubSpotSync } from './hubspot-sync-harness.ts';
import { functionUrl } from './stack-env.ts';

let hs: HubSpotSyncHarness;
let memberToken: string;
let outsiderToken: string;
const memberId = 'dddddddd-0000-4000-8000-000000000001';

const tokenFor = (tenantId: string, sub: string) => signJwt({
  sub, role: 'authenticated', aud: 'authenticated', exp: Math.floor(Date.now() / 1000) + 3600, app_metadata: { tenant_id: tenantId },
}, localJwtSecret);

async function api(method: string, path: string, body?: unknown, token = memberToken) {
  const res = await fetch(`${functionUrl(hs.env, 'conflicts')}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/** A contact made in the app and synced to HubSpot; returns its local and HubSpot ids. */
async function syncedContact(tag: string, fields: Record<string, string> = {}) {
  const [{ id }] = await hs.sql<{ id: string }[]>`
    insert into crm.contacts (tenant_id, email, first_name, last_name, phone, lead_source)
    values (${hs.tenantId}, ${`${tag}@conflicts.example`}, ${fields.first_name ?? 'First'}, ${fields.last_name ?? 'Last'},
            ${fields.phone ?? '+1 555 0100'}, ${fields.lead_source ?? 'web'})
    returning id`;
  const remote = await hs.until(`${tag} in HubSpot`, () => hs.simByLocalId('contacts', id));
  await hs.settle();
  return { localId: id, remoteId: remote.id };
}

const localContact = async (id: string) => (await hs.sql`select * from crm.contacts where id = ${id}`)[0];
const remoteContact = async (id: string) => (await hs.control('GET', `/objects/contacts/${id}`)).properties as Record<string, string>;
const decisionsOf = (localId: string) => hs.sql`
  select field, strategy, winner, result_value #>> '{}' as value from sync.conflict_decisions where local_id = ${localId} order by id`;

/**
 * The same record edited in the app and in HubSpot before either side hears
 * of the other: the next two writes to HubSpot contacts fail (503), so the
 * app's edit is still waiting to go out (in retry backoff) when HubSpot's
 * webhook arrives.
 */
async function concurrentEdits(c: { localId: string; remoteId: string }, local: Record<string, string>, remote: Record<string, string>) {
  await hs.control('POST', '/faults', { mode: 'error', status: 503, count: 2, pathPrefix: '/crm/v3/objects/contacts/batch/update' });
  await hs.sql`update crm.contacts set ${hs.sql(local)} where id = ${c.localId}`;
  await new Promise((r) => setTimeout(r, 20)); // HubSpot's edit is the later one
  await hs.control('PATCH', `/objects/contacts/${c.remoteId}`, { properties: remote });
}

/**
 * Waits until the app and HubSpot hold these values, then settles. A write in
 * retry backoff is invisible to settle() and nothing kicks the worker when its
 * backoff ends (the cron safety net would, within a minute): drain meanwhile.
 */
async function converged(c: { localId: string; remoteId: string }, local: Record<string, string>, remote: Record<string, string>) {
  await hs.until('both sides to converge', async () => {
    await hs.drain();
    const [l, r] = [await localContact(c.localId), await remoteContact(c.remoteId)];
    return Object.entries(local).every(([k, v]) => l[k] === v) && Object.entries(remote).every(([k, v]) => r[k] === v);
  }, 30_000);
  await hs.settle(30_000);
  await hs.control('DELETE', '/faults');
}

beforeAll(async () => {
  hs = await startHubSpotSync('conflicts');
  memberToken = tokenFor(hs.tenantId, memberId);
  const [{ id: other }] = await hs.sql<{ id: string }[]>`
    insert into crm.tenants (name, slug) values ('Conflicts outsider', ${`conflicts-outsider-${hs.portalId}`}) returning id`;
  outsiderToken = tokenFor(other, 'dddddddd-0000-4000-8000-000000000002');
}, 120_000);

afterAll(async () => {
  if (!hs) return;
  await hs.sql`delete from crm.tenants where slug = ${`conflicts-outsider-${hs.portalId}`}`;
  await hs.close();
});

describe('three-way detection', () => {
  it('keeps both edits when the app and HubSpot change different fields of one record', async () => {
    const c = await syncedContact('different-fields');
    await hs.sql`update crm.contacts set phone = '+1 555 0199' where id = ${c.localId}`;
    await hs.control('PATCH', `/objects/contacts/${c.remoteId}`, { properties: { firstname: 'Remote Ann' } });
    await converged(c, { phone: '+1 555 0199', first_name: 'Remote Ann' }, { phone: '+1 555 0199', firstname: 'Remote Ann' });
    expect(await decisionsOf(c.localId)).toEqual([]);
  });

  it('timestamp (the default): the later change of the same field wins on both sides, and the decision is logged', async () => {
    const c = await syncedContact('timestamp');
    await concurrentEdits(c, { first_name: 'App earlier' }, { firstname: 'HubSpot later' });
    await converged(c, { first_name: 'HubSpot later' }, { firstname: 'HubSpot later' });
    expect(await decisionsOf(c.localId)).toEqual([{ field: 'first_name', strategy: 'timestamp', winner: 'remote', value: 'HubSpot later' }]);
  });
});

describe('strategies set through the conflicts function', () => {
  it('validates a strategy (zod at the API) and stores it for the member\'s tenant', async () => {
    const bad = await api('PUT', '/strategies', { entity_type: 'deal', field: 'name', strategy: 'field_merge', merge_rule: 'max' });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body.error.details)).toContain('numeric');
    const unknown = await api('PUT', '/strategies', { strategy: 'coin_flip' });
    expect(unknown.status).toBe(400);
    const ok = await api('PUT', '/strategies', { entity_type: 'contact', field: 'last_name', strategy: 'source_priority', source_priority: ['supabase', 'hubspot'] });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect(ok.body.strategy).toMatchObject({ entity_type: 'contact', field: 'last_name', strategy: 'source_priority' });
    const again = await api('PUT', '/strategies', { entity_type: 'contact', field: 'last_name', strategy: 'source_priority', source_priority: ['supabase'] });
    expect(again.body.strategy.id).toBe(ok.body.strategy.id);
    expect((await api('GET', '/strategies', undefined, outsiderToken)).body.strategies).toEqual([]);
    expect((await api('GET', '/strategies')).body.strategies).toHaveLength(1);
  });

  it('source priority: the app wins its field although HubSpot changed it later', async () => {
    const c = await syncedContact('priority');
    await concurrentEdits(c, { last_name: 'App value' }, { lastname: 'HubSpot value' });
    await converged(c, { last_name: 'App value' }, { lastname: 'App value' });
    expect(await decisionsOf(c.localId)).toEqual([{ field: 'last_name', strategy: 'source_priority', winner: 'local', value: 'App value' }]);
  });

  it('field-level merge (append): both sides end with every part once', async () => {
    expect((await api('PUT', '/strategies', { entity_type: 'contact', field: 'lead_source', strategy: 'field_merge', merge_rule: 'append' })).status).toBe(200);
    const c = await syncedContact('append', { lead_source: 'web' });
    await concurrentEdits(c, { lead_source: 'web; fair' }, { forge_lead_source: 'web; call' });
    await converged(c, { lead_source: 'web; fair; call' }, { forge_lead_source: 'web; fair; call' });
    expect(await decisionsOf(c.localId)).toEqual([{ field: 'lead_source', strategy: 'field_merge', winner: 'merged', value: 'web; fair; call' }]);
  });
});

describe('manual review', () => {
  let c: { localId: string; remoteId: string };

  beforeAll(async () => {
    expect((await api('PUT', '/strategies', { entity_type: 'contact', field: 'phone', strategy: 'manual_review' })).status).toBe(200);
    c = await syncedContact('review');
    await concurrentEdits(c, { phone: '+1 555 0111', first_name: 'Also local' }, { phone: '+1 555 0222' });
    await converged(c, { phone: '+1 555 0111', first_name: 'Also local' }, { phone: '+1 555 0222', firstname: 'Also local' });
  }, 60_000);

  it('holds the field: the app keeps its value, HubSpot keeps its own, the rest of the record syncs', async () => {
    expect(await localContact(c.localId)).toMatchObject({ phone: '+1 555 0111', first_name: 'Also local' });
    expect(await remoteContact(c.remoteId)).toMatchObject({ phone: '+1 555 0222', firstname: 'Also local' });
    const { notifications } = (await api('GET', '/notifications')).body;
    expect(notifications).toEqual([expect.objectContaining({ kind: 'conflict_pending_review',
      payload: expect.objectContaining({ local_id: c.localId, field: 'phone' }) })]);
    expect((await api('GET', '/notifications', undefined, outsiderToken)).body.notifications).toEqual([]);
  });

  it('lists the pending conflict once, field by field, to the tenant\'s members only', async () => {
    const { status, body } = await api('GET', '/');
    expect(status).toBe(200);
    expect(body.pending).toBe(1);
    expect(body.records).toEqual([{
      entity_type: 'contact', local_id: c.localId,
      fields: [expect.objectContaining({ field: 'phone', base: '+1 555 0100', local: '+1 555 0111', remote: '+1 555 0222', current: '+1 555 0111' })],
    }]);
    expect((await api('GET', `/?local_id=${c.localId}`)).body.pending).toBe(1);
    expect((await api('GET', '/?local_id=00000000-0000-4000-8000-000000000000')).body.pending).toBe(0);
    expect((await api('GET', '/?limit=0')).status).toBe(400);
    expect((await api('GET', '/', undefined, outsiderToken)).body).toEqual({ records: [], pending: 0 });
    expect((await api('GET', '/', undefined, hs.env.anonKey)).status).toBe(403);
    const service = await fetch(`${functionUrl(hs.env, 'conflicts')}?tenant_id=${hs.tenantId}`, {
      headers: { authorization: `Bearer ${hs.env.serviceRoleKey}` },
    });
    expect((await service.json()).pending).toBe(1);
  });

  it('refuses bad resolutions with a clear error', async () => {
    const conflictId = (await api('GET', '/')).body.records[0].fields[0].conflict_id;
    expect((await api('POST', '/resolve', { resolutions: [{ conflict_id: conflictId, choice: 'custom' }] })).status).toBe(400);
    expect((await api('POST', '/resolve', { resolutions: [{ conflict_id: conflictId, choice: 'remote' }] }, outsiderToken)).status).toBe(404);
    expect((await api('POST', '/resolve', { resolutions: [{ conflict_id: conflictId, choice: 'custom', value: { not: 'text' } }] })).status)
      .toBe(400);
  });

  it('resolves with a custom value: the app and HubSpot take it, and who resolved it and when is kept', async () => {
    const conflictId = (await api('GET', '/')).body.records[0].fields[0].conflict_id;
    const { status, body } = await api('POST', '/resolve', { resolutions: [{ conflict_id: conflictId, choice: 'custom', value: '+1 555 0333' }] });
    expect(status, JSON.stringify(body)).toBe(200);
    expect(body.resolved).toEqual([expect.objectContaining({ conflict_id: conflictId, resolution: 'custom', resolved_value: '+1 555 0333', resolved_by: memberId })]);
    await converged(c, { phone: '+1 555 0333' }, { phone: '+1 555 0333' });
    expect((await api('GET', '/')).body.pending).toBe(0);
    expect((await api('POST', '/resolve', { resolutions: [{ conflict_id: conflictId, choice: 'local' }] })).status).toBe(409);
    const log = (await api('GET', `/decisions?local_id=${c.localId}`)).body.decisions.map((d: { winner: string; strategy: string }) => [d.strategy, d.winner]);
    expect(log).toEqual([['manual_review', 'custom'], ['manual_review', 'pending']]);
  });
});
