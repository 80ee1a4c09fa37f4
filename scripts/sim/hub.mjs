// The tenant a seed of `npm run sim` runs in: a fresh one per seed,
// connected to each simulated CRM (the database as the hub between HubSpot
// and Pipedrive), so every seed starts from the same empty state and a
// failing seed replays alone as it ran. The simulators are reset first; a
// CRM account takes one connection at a time, so the previous seed's
// connections are removed when the seed is done.
import { createHubSpotDriver } from './hubspot-driver.mjs';
import { createPipedriveDriver } from './pipedrive-driver.mjs';

export const crmNames = ['hubspot', 'pipedrive'];

/**
 * @param {object} options
 * @param {import('postgres').Sql} options.sql
 * @param {(body: object) => Promise<{ status: number, body: any }>} options.connect calls the connections function
 * @param {{ hubspot?: { sim: any, token: string, clientSecret: string, portalId: number, rateLimit?: number, intervalMs?: number },
 *           pipedrive?: { sim: any, token: string, companyId: number, rateLimit: number, intervalMs?: number, dailyBudget: number } }} options.crms
 *   the simulators the seed's tenant connects to, with their rate limits (requests per window), which the connections take
 * @param {string} options.name the tenant's name
 * @returns {Promise<{ tenantId: string, crms: any[], close(): Promise<void> }>}
 */
export async function openHub({ sql, connect, crms, name }) {
  const [{ id: tenantId }] = await sql`
    insert into crm.tenants (name, slug) values (${name}, ${`sim-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`})
    returning id`;
  const drivers = [];
  const close = async () => {
    const ids = drivers.map((d) => d.connectionId);
    await sql`delete from pgmq.q_crm_inbound where message ->> 'connection_id' = any (${ids})`;
    await sql`delete from pgmq.q_crm_outbound where message ->> 'connection_id' = any (${ids})`;
    await sql`delete from vault.secrets where id in (select secret_id from sync.connections where id = any (${ids}::uuid[]))`;
    await sql`delete from sync.connections where id = any (${ids}::uuid[])`;
  };
  try {
    if (crms.hubspot) {
      const { sim, token, clientSecret, portalId, rateLimit, intervalMs = 10_000 } = crms.hubspot;
      await sim.control('POST', '/reset', {});
      const connectionId = await connected('HubSpot', await connect({
        tenant_id: tenantId, provider: 'hubspot', access_token: token, client_secret: clientSecret, api_base_url: sim.url,
        scheduled_jobs: false, // the catch-up pass starts the seed's jobs; none from the hourly schedule
        ...(rateLimit ? { rate_limit: { max_requests: rateLimit, interval_ms: intervalMs } } : {}),
      }));
      await sim.control('PUT', '/webhooks', { subscriptions: 'default', batchWindowMs: 20 });
      drivers.push(createHubSpotDriver({ control: sim.control, connectionId, portalId }));
    }
    if (crms.pipedrive) {
      const { sim, token, companyId, rateLimit, intervalMs = 2_000, dailyBudget } = crms.pipedrive;
      await sim.control('POST', '/reset', { keepWebhookSettings: true });
      const connectionId = await connected('Pipedrive', await connect({
        tenant_id: tenantId, provider: 'pipedrive', api_token: token, api_base_url: sim.url, scheduled_jobs: false,
        rate_limit: { max_requests: rateLimit, interval_ms: intervalMs }, daily_limit: dailyBudget,
      }));
      drivers.push(createPipedriveDriver({ control: sim.control, connectionId, companyId }));
    }
  } catch (error) {
    await close();
    throw error;
  }
  return { tenantId, crms: drivers, close };
}

async function connected(crm, { status, body }) {
  if (status !== 201) throw new Error(`connecting the ${crm} simulator failed (${status}): ${JSON.stringify(body)}`);
  return body.connection_id;
}
