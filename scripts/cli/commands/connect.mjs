// crm-sync connect hubspot|pipedrive: connects a tenant to a CRM account
// through the connections function and prints what was set up (and, for a
// HubSpot private app, what to configure there).
import { table, tenantHint, uuidArgument } from '../args.mjs';
import { UsageError } from '../errors.mjs';

const usage = 'connect hubspot --tenant <uuid> (--token <token> | --refresh-token <token> --client-id <id>) --client-secret <secret> [--app-id <id> --developer-api-key <key>] [--base-url <url>] [--name <name>] [--json]\n' +
  '       connect pipedrive --tenant <uuid> --api-token <token> [--base-url <url>] [--name <name>] [--json]';

/** @type {import('../args.mjs').CommandSpec} */
export default {
  name: 'connect',
  summary: 'connect a tenant to a CRM account (HubSpot or Pipedrive)',
  usage,
  description: [
    'Checks the access token against the account (which also tells its portal id), creates',
    'the properties the sync needs there, stores the connection with its credentials in',
    'Vault. For a public app (--app-id and --developer-api-key) it also sets the webhook',
    'target URL and subscriptions through HubSpot\'s webhooks API; for a private app it',
    'prints the webhook URL and subscriptions to set in the app\'s settings.',
    'A public app connects with the install\'s refresh token and the app\'s client id instead of',
    'a token: access tokens are then refreshed before they expire. Connecting the same account',
    'again updates the connection in place (and resumes one that needed re-authorization).',
    'Pipedrive: checks the API token (GET /v1/users/me, whose company id names the account),',
    'creates the custom fields the sync needs where missing, stores field map, stage and owner',
    'maps, and subscribes the pipedrive-webhook function to the company\'s events.',
  ].join('\n'),
  positionals: [{ name: 'provider', description: 'the CRM: hubspot or pipedrive', required: true, choices: ['hubspot', 'pipedrive'] }],
  options: {
    tenant: { type: 'string', value: '<uuid>', description: 'the tenant to connect', required: true },
    token: { type: 'string', value: '<token>', description: 'HubSpot: private app access token', env: 'HUBSPOT_ACCESS_TOKEN' },
    'refresh-token': { type: 'string', value: '<token>', description: 'HubSpot public (OAuth) app: the install\'s refresh token (with --client-id)', env: 'HUBSPOT_REFRESH_TOKEN' },
    'client-id': { type: 'string', value: '<id>', description: 'HubSpot public (OAuth) app: the app\'s client id', env: 'HUBSPOT_CLIENT_ID' },
    'client-secret': { type: 'string', value: '<secret>', description: 'HubSpot: the app\'s client secret, which signs webhooks', env: 'HUBSPOT_CLIENT_SECRET' },
    'api-token': { type: 'string', value: '<token>', description: 'Pipedrive: the API token', env: 'PIPEDRIVE_API_TOKEN' },
    'base-url': { type: 'string', value: '<url>', description: 'API base URL (default https://api.hubapi.com; a simulator\'s URL)' },
    name: { type: 'string', value: '<name>', description: 'display name (default "HubSpot <portal id>")' },
    'app-id': { type: 'string', value: '<id>', description: 'public app id: set up webhooks through the API (with --developer-api-key)' },
    'developer-api-key': { type: 'string', value: '<key>', description: 'the public app\'s developer API key', env: 'HUBSPOT_DEVELOPER_API_KEY' },
  },
  examples: [
    'crm-sync connect hubspot --tenant 00000000-0000-4000-8000-00000000a001 --token "$HUBSPOT_ACCESS_TOKEN" --client-secret "$HUBSPOT_CLIENT_SECRET"',
    'crm-sync connect hubspot --tenant <uuid> --token pat-demo-simulator-token --client-secret demo-simulator-secret --base-url http://127.0.0.1:54340',
  ],
  async run({ values, positionals, out, functions }) {
    const tenantId = uuidArgument(String(values.tenant), '--tenant', tenantHint);
    const baseUrl = values['base-url'] === undefined ? undefined : String(values['base-url']);
    if (baseUrl !== undefined && !/^https?:\/\/[^\s/]+(\/\S*)?$/.test(baseUrl)) {
      throw new UsageError(`--base-url must be an http(s) URL, got "${baseUrl}"`);
    }
    const appId = values['app-id'] === undefined ? undefined : Number(values['app-id']);
    if (appId !== undefined && !(Number.isInteger(appId) && appId > 0)) throw new UsageError(`--app-id must be a positive number, got "${values['app-id']}"`);
    if ((appId === undefined) !== (values['developer-api-key'] === undefined)) {
      throw new UsageError('--app-id and --developer-api-key go together (a public app\'s webhooks are set up with both)');
    }
    if (positionals[0] === 'pipedrive') return connectPipedrive({ values, out, functions }, tenantId, baseUrl);
    const oauth = values['refresh-token'] !== undefined && values['refresh-token'] !== '';
    if (oauth === (values.token !== undefined && values.token !== '')) {
      throw new UsageError('give --token (a private app) or --refresh-token with --client-id (a public OAuth app)', `usage: crm-sync ${usage}`);
    }
    if (oauth && !values['client-id']) throw new UsageError('--refresh-token needs --client-id (the app\'s client id)');
    if (values['client-secret'] === undefined || values['client-secret'] === '') {
      throw new UsageError('missing --client-secret (or set HUBSPOT_CLIENT_SECRET)');
    }
    const client = await functions();
    out.note(`connecting HubSpot${baseUrl ? ` at ${baseUrl}` : ''} to tenant ${tenantId} (${client.url}) ...`);
    const result = await client.invoke('connections', {
      method: 'POST',
      body: {
        tenant_id: tenantId,
        provider: 'hubspot',
        ...(oauth ? { refresh_token: values['refresh-token'], client_id: values['client-id'] } : { access_token: values.token }),
        client_secret: values['client-secret'],
        ...(baseUrl ? { api_base_url: baseUrl } : {}),
        ...(values.name ? { display_name: values.name } : {}),
        ...(appId !== undefined ? { app_id: appId, developer_api_key: values['developer-api-key'] } : {}),
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
    ...(result.webhook?.configured ? [] : [
      '  webhook subscriptions to create:',
      ...(result.webhook?.subscriptions ?? []).map((s) => `    ${s}`),
    ]),
    ...(result.webhook?.how ? [`  ${result.webhook.how}`] : []),
  ];
}

/**
 * crm-sync connect pipedrive.
 * @param {{ values: Record<string, unknown>, out: any, functions: () => Promise<any> }} context
 * @param {string} tenantId
 * @param {string | undefined} baseUrl
 */
async function connectPipedrive({ values, out, functions }, tenantId, baseUrl) {
  if (values['api-token'] === undefined || values['api-token'] === '') throw new UsageError('missing --api-token (or set PIPEDRIVE_API_TOKEN)');
  const client = await functions();
  out.note(`connecting Pipedrive${baseUrl ? ` at ${baseUrl}` : ''} to tenant ${tenantId} (${client.url}) ...`);
  const result = await client.invoke('connections', {
    method: 'POST',
    body: {
      tenant_id: tenantId,
      provider: 'pipedrive',
      api_token: values['api-token'],
      ...(baseUrl ? { api_base_url: baseUrl } : {}),
      ...(values.name ? { display_name: values.name } : {}),
    },
    timeoutMs: 150_000,
  });
  out.result(result, describePipedriveConnection(result, tenantId));
}

/**
 * The text report of a Pipedrive connect result.
 * @param {any} result the connections function's answer
 * @param {string} tenantId
 * @returns {string[]}
 */
export function describePipedriveConnection(result, tenantId) {
  return [
    `connected Pipedrive company ${result.account_id} to tenant ${tenantId}`,
    ...table([
      ['connection id:', result.connection_id],
      ['company id:', String(result.account_id)],
      ['fields created:', result.fields_created?.length ? result.fields_created.join(', ') : 'none (all there already)'],
      ['value maps:', String(result.value_maps ?? 0)],
      ['webhook target URL:', result.webhook?.target_url ?? '?'],
      ['subscriptions:', `${(result.webhook?.subscriptions ?? []).join(', ')} (${result.webhook?.created ?? 0} created)`],
    ]),
  ];
}
