// The HubSpot simulator as one CRM of the convergence simulation. Every CRM
// plugs in through the same small driver:
//   name, connectionId
//   create(fields) → remote id          a user creates a contact in the CRM
//   edit(remoteId, fields) → fields | null   a user edits one: the fields written (null: it is gone)
//   remove(remoteId) → boolean          a user deletes one
//   records(domain) → [{ remoteId, email, archived, fields }]   every contact of the run, in unified field names
//   setFaults(seed) / injectApiFault(prng) / clearFaults()       webhook and API faults
//   flush() → boolean                   deliver what is queued; true when nothing is left to send
//   refetchMessages(remoteIds, tenantId) → crm_inbound messages that make the worker re-read those records
// pipedrive-driver.mjs implements the same against the Pipedrive simulator.
import { unlessGone } from './driver-calls.mjs';

/** Unified contact field → HubSpot property (the connection's default field map). */
const properties = { email: 'email', first_name: 'firstname', last_name: 'lastname', phone: 'phone', lead_source: 'forge_lead_source' };

const toProperties = (fields) => Object.fromEntries(Object.entries(fields).map(([f, v]) => [properties[f], v ?? '']));

/**
 * @param {{ control: (method: string, path: string, body?: unknown) => Promise<any>, connectionId: string, portalId: number }} options
 *   control calls the simulator's control API (/_sim<path>) and throws on a non-2xx answer.
 */
export function createHubSpotDriver({ control, connectionId, portalId }) {
  let eventId = 9_000_000_000;
  return {
    name: 'hubspot',
    connectionId,
    async create(fields) {
      const record = await control('POST', '/objects/contacts', { properties: toProperties(fields) });
      return record.id;
    },
    async edit(remoteId, fields) {
      return await unlessGone(async () => {
        await control('PATCH', `/objects/contacts/${remoteId}`, { properties: toProperties(fields) });
        return fields;
      }, null);
    },
    async remove(remoteId) {
      return await unlessGone(async () => {
        await control('DELETE', `/objects/contacts/${remoteId}`);
        return true;
      }, false);
    },
    async records(domain) {
      const { results } = await control('GET', '/objects/contacts?includeArchived=true');
      return results
        .filter((r) => String(r.properties.email ?? '').endsWith(`@${domain}`))
        .map((r) => ({
          remoteId: r.id,
          email: r.properties.email,
          archived: r.archived,
          fields: Object.fromEntries(Object.entries(properties).map(([field, property]) => [field, r.properties[property] ?? null])),
        }));
    },
    async setFaults(seed) {
      await control('PUT', '/webhooks', {
        faults: { seed, duplicateProbability: 0.2, dropProbability: 0.1, reorder: true, delayMs: 250 },
      });
    },
    async injectApiFault(prng) {
      const fault = prng.pick([
        { mode: 'rate-limit', count: prng.int(1, 2) },
        { mode: 'error', status: prng.pick([500, 502, 503]), count: prng.int(1, 2) },
      ]);
      await control('POST', '/faults', fault);
      return fault.mode === 'rate-limit' ? '429' : String(fault.status);
    },
    async clearFaults() {
      await control('DELETE', '/faults');
      await control('PUT', '/webhooks', { faults: { duplicateProbability: 0, dropProbability: 0, reorder: false, delayMs: 0 } });
    },
    async flush() {
      return (await control('POST', '/webhooks/flush', { timeoutMs: 5_000 })).idle;
    },
    refetchMessages(remoteIds, tenantId) {
      const now = Date.now();
      return remoteIds.map((id) => ({
        connection_id: connectionId, tenant_id: tenantId, provider: 'hubspot', received_at: new Date(now).toISOString(),
        event: { eventId: eventId++, portalId, occurredAt: now, subscriptionType: 'contact.propertyChange', objectId: Number(id),
                 propertyName: 'catch_up', changeSource: 'CATCH_UP' },
      }));
    },
  };
}
