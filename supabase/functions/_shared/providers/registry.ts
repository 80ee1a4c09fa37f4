// Builds the adapter of a connection: its credentials from Vault, its value
// maps and field map, and its share of the rate budget. The one place that
// knows which adapter serves which provider.
import type { ConnectionInfo, SyncDb } from '../sync/sync-db.ts';
import { createRateBudget } from '../sync/rate-budget.ts';
import type { CrmAdapter } from './adapter.ts';
import { ProviderError } from './adapter.ts';
import { createHubSpotAdapter } from './hubspot/adapter.ts';
import { createHubSpotCaller } from './hubspot/client.ts';
import { isOAuthCredentials, oauthAccessToken } from './hubspot/oauth.ts';
import { buildFieldMap } from './hubspot/field-map.ts';
import { buildValueMaps } from './hubspot/value-maps.ts';
import { createPipedriveAdapter } from './pipedrive/adapter.ts';
import { createPipedriveCaller } from './pipedrive/client.ts';
import { buildPipedriveFieldMap } from './pipedrive/field-map.ts';

export async function adapterFor(db: SyncDb, connection: ConnectionInfo, deadline: () => number): Promise<CrmAdapter> {
  const budget = createRateBudget(db, connection.id, deadline);
  const credentials = await db.credentials(connection.id);
  const basePath = typeof connection.settings.api_base_url === 'string' ? connection.settings.api_base_url : undefined;
  switch (connection.provider) {
    case 'hubspot': {
      // A public app's token is refreshed before it expires; a private app's token does not expire.
      const accessToken = isOAuthCredentials(credentials)
        ? await oauthAccessToken(db, connection.id, credentials, basePath)
        : credentials.access_token;
      if (typeof accessToken !== 'string' || !accessToken) {
        throw new ProviderError(`connection ${connection.id} has no HubSpot access_token in Vault`, 'unauthorized');
      }
      const [valueMaps, fieldMaps] = await Promise.all([db.valueMaps(connection.id), db.fieldMaps(connection.id)]);
      return createHubSpotAdapter(
        createHubSpotCaller({ accessToken, basePath, budget }),
        buildValueMaps(valueMaps),
        buildFieldMap(fieldMaps),
      );
    }
    case 'pipedrive': {
      const apiToken = credentials.api_token;
      if (typeof apiToken !== 'string' || !apiToken) {
        throw new ProviderError(`connection ${connection.id} has no Pipedrive api_token in Vault`, 'unauthorized');
      }
      const [valueMaps, fieldMaps] = await Promise.all([db.valueMaps(connection.id), db.fieldMaps(connection.id)]);
      return createPipedriveAdapter(
        createPipedriveCaller({ apiToken, basePath, budget }),
        buildValueMaps(valueMaps),
        buildPipedriveFieldMap(fieldMaps),
        {
          note: (entityType, localIds) => db.noteCreateAttempts(connection.id, entityType, localIds),
          forget: (entityType, localIds) => db.forgetCreateAttempts(connection.id, entityType, localIds),
        },
      );
    }
    default:
      throw new ProviderError(`no adapter for provider ${connection.provider}`, 'invalid');
  }
}
