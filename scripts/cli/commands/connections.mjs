// crm-sync connections --tenant <uuid>: a tenant's CRM connections.
import { tenantHint, uuidArgument } from '../args.mjs';
import { columns } from '../output.mjs';

/** @type {import('../args.mjs').CommandSpec} */
export default {
  name: 'connections',
  summary: 'list a tenant\'s connections',
  usage: 'connections --tenant <uuid> [--json]',
  options: {
    tenant: { type: 'string', value: '<uuid>', description: 'the tenant', required: true },
  },
  examples: ['crm-sync connections --tenant 00000000-0000-4000-8000-00000000a001'],
  async run({ values, out, functions }) {
    const tenantId = uuidArgument(String(values.tenant), '--tenant', tenantHint);
    const result = await (await functions()).invoke('connections', { method: 'GET', query: { tenant_id: tenantId } });
    out.result(result, describeConnections(result.connections ?? [], tenantId));
  },
};

/**
 * @param {Array<{id: string, provider: string, account_id: string, display_name: string | null, enabled: boolean, auth_status?: string, created_at: string}>} rows
 * @param {string} tenantId
 * @returns {string[]}
 */
export function describeConnections(rows, tenantId) {
  if (rows.length === 0) return [`no connections for tenant ${tenantId} (crm-sync connect hubspot --help)`];
  return columns([
    ['ID', 'PROVIDER', 'ACCOUNT', 'NAME', 'STATUS', 'CREATED'],
    ...rows.map((r) => [r.id, r.provider, r.account_id, r.display_name ?? '', !r.enabled ? 'disconnected' : r.auth_status === 'needs_reauth' ? 'needs re-auth' : 'enabled',
      String(r.created_at).slice(0, 19).replace('T', ' ')]),
  ]);
}
