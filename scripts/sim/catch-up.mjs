// The catch-up passes of the convergence simulation, run once the workload
// has stopped and the engine has settled: what dropped webhooks (and
// webhooks lost to a ban) left behind is repaired here.
import { settle } from './convergence.mjs';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Every record of the run that a connection maps, and every one the CRM
 * holds (a creation whose webhook was dropped is mapped nowhere yet), is
 * read again through the adapter: queued as an inbound event, so the worker
 * fetches and resolves it like a webhook.
 * @param {import('./convergence.mjs').SimContext} ctx
 */
export async function refetchRunRecords({ sql, crms, tenantId }, domain) {
  for (const crm of crms) {
    const rows = await sql`
      select m.remote_id from sync.identity_map m join crm.contacts c on c.id = m.local_id
       where m.connection_id = ${crm.connectionId} and m.entity_type = 'contact' and c.email like ${`%@${domain}`}`;
    const remoteIds = new Set([...rows.map((r) => r.remote_id), ...(await crm.records(domain)).map((r) => r.remoteId)]);
    const messages = crm.refetchMessages([...remoteIds], tenantId);
    if (messages.length) {
      await sql`select pgmq.send_batch('crm_inbound', array(select jsonb_array_elements(${sql.json(messages)}::jsonb)))`;
    }
  }
}

/**
 * Batch reconciliation of contacts, one connection after the other (each
 * settled before the next compares, so what one applies locally has reached
 * the other CRM): the daily safety net, run through the sync-jobs function
 * as an operator's `crm-sync reconcile` would.
 * @param {(method: string, route: string, body?: unknown) => Promise<{ status: number, body: any }>} jobsApi
 *   calls the sync-jobs function
 * @returns {(ctx: import('./convergence.mjs').SimContext) => Promise<void>}
 */
export function reconcileConnections(jobsApi, timeoutMs = 60_000) {
  return async (ctx) => {
    for (const crm of ctx.crms) {
      const started = await jobsApi('POST', '', { connection_id: crm.connectionId, kind: 'reconcile', entity_types: ['contact'] });
      if (started.status !== 201) throw new Error(`reconcile of ${crm.name} did not start (${started.status}): ${JSON.stringify(started.body)}`);
      const id = started.body.job.id;
      const since = Date.now();
      for (;;) {
        const { body } = await jobsApi('GET', `/${id}`);
        if (body.job?.status === 'done') break;
        if (['failed', 'paused', 'cancelled'].includes(body.job?.status)) {
          throw new Error(`reconcile of ${crm.name} ${body.job.status}: ${body.job.error ?? JSON.stringify(body.job)}`);
        }
        if (Date.now() - since > timeoutMs) throw new Error(`reconcile of ${crm.name} did not finish within ${timeoutMs / 1000} s`);
        await sleep(100);
      }
      await settle(ctx);
    }
  };
}
