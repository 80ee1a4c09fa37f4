// The Pipedrive simulator as one CRM of the convergence simulation: the
// driver interface of hubspot-driver.mjs over the simulator's control API
// (/_sim/...), where a user edits persons and the webhook and API faults
// are switched.
//
// A person's name is one field in Pipedrive's API (`name`, split into
// first_name/last_name by Pipedrive), so a user who edits one part writes
// the whole name: the other part as the user saw it a moment before. That
// part is a write too (it can undo an edit the engine made in between), and
// edit() says so in what it returns.
import { unlessGone } from './driver-calls.mjs';

/** Unified contact fields as a person shows them (`data` and `customFieldsByName` of /_sim/objects/persons). */
function unifiedFields(person) {
  const primary = (items) => (items ?? []).find((i) => i.primary)?.value ?? null;
  return {
    email: primary(person.data.emails)?.toLowerCase() ?? null,
    first_name: person.data.first_name ?? null,
    last_name: person.data.last_name ?? null,
    phone: primary(person.data.phones),
    lead_source: person.customFieldsByName?.source ?? null,
  };
}

/** The v2 write that sets unified fields (`name` whole, from `current` where only one part is given). */
function toValues(fields, current = {}) {
  const values = {};
  if ('first_name' in fields || 'last_name' in fields) {
    const first = 'first_name' in fields ? fields.first_name : current.first_name;
    const last = 'last_name' in fields ? fields.last_name : current.last_name;
    values.name = [first, last].filter(Boolean).join(' ');
  }
  if ('email' in fields) values.emails = fields.email ? [{ value: fields.email, primary: true, label: 'work' }] : [];
  if ('phone' in fields) values.phones = fields.phone ? [{ value: fields.phone, primary: true, label: 'work' }] : [];
  return values;
}

/**
 * @param {{ control: (method: string, path: string, body?: unknown) => Promise<any>, connectionId: string, companyId: number }} options
 *   control calls the simulator's control API (/_sim<path>) and throws on a non-2xx answer.
 */
export function createPipedriveDriver({ control, connectionId, companyId }) {
  let sourceKey;
  let endOutage = Promise.resolve();
  /** The key of the person custom field "source" (lead_source), which differs per company. */
  const leadSourceKey = async () => (sourceKey ??= (await control('GET', '/fields')).person.source);
  const write = async (fields, current) => {
    const values = toValues(fields, current);
    if ('lead_source' in fields) values.custom_fields = { [await leadSourceKey()]: fields.lead_source ?? null };
    return values;
  };

  return {
    name: 'pipedrive',
    connectionId,
    async create(fields) {
      const person = await control('POST', '/objects/persons', { values: await write(fields) });
      return String(person.id);
    },
    async edit(remoteId, fields) {
      return await unlessGone(async () => {
        const person = await control('GET', `/objects/persons/${remoteId}`);
        if (person.deleted) return null;
        const current = unifiedFields(person);
        await control('PATCH', `/objects/persons/${remoteId}`, { values: await write(fields, current) });
        const written = { ...fields };
        if ('first_name' in fields && !('last_name' in fields)) written.last_name = current.last_name;
        if ('last_name' in fields && !('first_name' in fields)) written.first_name = current.first_name;
        return written;
      }, null);
    },
    async remove(remoteId) {
      return await unlessGone(async () => {
        await control('DELETE', `/objects/persons/${remoteId}`);
        return true;
      }, false);
    },
    async records(domain) {
      const { results } = await control('GET', '/objects/persons?includeDeleted=true');
      return results
        .map((person) => ({ remoteId: String(person.id), archived: person.deleted, fields: unifiedFields(person) }))
        .filter((r) => String(r.fields.email ?? '').endsWith(`@${domain}`))
        .map((r) => ({ ...r, email: r.fields.email }));
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
        // A slow receiver for a moment: deliveries time out (received or not), Pipedrive retries, and two
        // failed first attempts ban the webhook, losing what it sends meanwhile (the catch-up pass recovers it).
        { mode: 'webhook-ban', outageMs: prng.int(100, 400) },
      ]);
      if (fault.mode === 'webhook-ban') {
        await endOutage;
        await control('PUT', '/webhooks', { requestTimeoutMs: 1, banAfterFailures: 2 });
        endOutage = new Promise((resolve) => setTimeout(resolve, fault.outageMs))
          .then(() => control('PUT', '/webhooks', { requestTimeoutMs: 10_000 }));
        return 'ban';
      }
      await control('POST', '/faults', fault);
      return fault.mode === 'rate-limit' ? '429' : String(fault.status);
    },
    async clearFaults() {
      await endOutage;
      await control('DELETE', '/faults');
      await control('PUT', '/webhooks', {
        requestTimeoutMs: 10_000, banAfterFailures: 10,
        faults: { duplicateProbability: 0, dropProbability: 0, reorder: false, delayMs: 0 },
      });
    },
    async flush() {
      return (await control('POST', '/webhooks/flush', { timeoutMs: 5_000 })).idle;
    },
    refetchMessages(remoteIds, tenantId) {
      const now = new Date().toISOString();
      return remoteIds.map((id) => ({
        connection_id: connectionId, tenant_id: tenantId, provider: 'pipedrive', received_at: now,
        event: {
          meta: { action: 'change', entity: 'person', entity_id: String(id), company_id: String(companyId), timestamp: now,
                  version: '2.0', change_source: 'catch_up' },
          data: null, previous: null,
        },
      }));
    },
  };
}
