// crm-sync connect hubspot: connects a tenant to a HubSpot account through
// the connections function and prints what to configure in HubSpot.
import { table, tenantHint, uuidArgument } from '../args.mjs';
import { UsageError } from '../errors.mjs';

/** @type {import('../args.mjs').CommandSpec} */
export default {
  name: 'connect',
  summary: 'connect a tenant to a CRM account (HubSpot)',
  usage: 'connect hubspot --tenant <uuid> --token <token> --client-secret <secret> [--base-url <url>] [--name <name>] [--json]',
  description: [
    'Checks the access token against the account (which also tells its portal id), creates',
    'the properties the sync needs there, stores the connection with its credentials in',
    'Vault, and prints the webhook URL and subscriptions to set in the HubSpot app.',
    'Connecting the same account again updates the connection in place.',
  ].join('\n'),
  positionals: [{ name: 'provider', description: 'the CRM: hubspot', required: true, choices: ['hubspot'] }],
  options: {
    tenant: { type: 'string', value: '<uuid>', description: 'the tenant to connect', required: true },
    token: { type: 'string', value: '<token>', description: 'private app or OAuth access token', required: true, env: 'HUBSPOT_ACCESS_TOKEN' },
    'client-secret': { type: 'string', value: '<secret>', description: 'the app\'s client secret, which signs webhooks', required: true, env: 'HUBSPOT_CLIENT_SECRET' },
    'base-url': { type: 'string', value: '<url>', description: 'API base URL (default https://api.hubapi.com; a simulator\'s URL)' },
    name: { type: 'string', value: '<name>', description: 'display name (default "HubSpot <portal id>")' },
  },
  examples: [
    'crm-sync connect hubspot --tenant 00000000-0000-4000-8000-00000000a001 --token "$HUBSPOT_ACCESS_TOKEN" --client-secret "$HUBSPOT_CLIENT_SECRET"',
    'crm-sync connect hubspot --tenant <uuid> --token pat-demo-simulator-token --client-secret demo-simulator-secret --base-url http://127.0.0.1:54340',
  ],
  async run({ values, out, functions }) {
    const tenantId = uuidArgument(String(values.tenant), '--tenant', tenantHint);
    const baseUrl = values['base-url'] === undefined ? undefined : String(values['base-url']);
    if (baseUrl !== undefined && !/^https?:\/\/[^\s/]+(\/\S*)?$/.test(baseUrl)) {
      throw new UsageError(`--base-url must be an http(s) URL, got "${baseUrl}"`);
    }
    const client = await functions();
    out.note(`connecting HubSpot${baseUrl ? ` at ${baseUrl}` : ''} to tenant ${tenantId} (${client.url}) ...`);
    const result = await client.invoke('connections', {
      method: 'POST',
      body: {
        tenant_id: tenantId,
        provider: 'hubspot',
        access_token: values.token,
        client_secret: values['client-secret'],
        ...(baseUrl ? { api_base_url: baseUrl } : {}),
        ...(values.name ? { display_name: values.name } : {}),
      },
      timeoutMs: 150_000,
    });
    out.result(result, describeConnection(result, tenantId));
  },
};

/**
 * The text report of a connect result.
 * @param {any} result the connections function's answer
 * @param {string} tenantId
 * @returns {string[]}
 */
export function describeConnection(result, tenantId) {
  const created = [...(result.properties?.propertiesCreated ?? []), ...(result.properties?.groupsCreated ?? []).map((g) => `group ${g}`)];
  return [
    `connected HubSpot portal ${result.account_id} to tenant ${tenantId}`,
    ...table([
      ['connection id:', result.connection_id],
      ['portal id:', String(result.account_id)],
      ['properties created:', created.length ? created.join(', ') : 'none (all there already)'],
      ['webhook target URL:', result.webhook?.target_url ?? '?'],
    ]),
    '  webhook subscriptions to create:',
    ...(result.webhook?.subscriptions ?? []).map((s) => `    ${s}`),
    ...(result.webhook?.how ? [`  ${result.webhook.how}`] : []),
  ];
}
