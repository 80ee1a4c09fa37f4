// /functions/v1/connections (service role only):
//   POST   {tenant_id, provider: 'hubspot', access_token, client_secret, ...}  → 201 connect
//   POST   {tenant_id, provider: 'pipedrive', api_token, ...}                 → 201 connect
//   GET    ?tenant_id=<uuid>                                               → the tenant's connections
//   DELETE /connections/<id>                                               → disconnect (data kept)
import { z } from 'zod';
import type { Sql } from '../db.ts';
import { errorResponse, jsonResponse, methodNotAllowed } from '../http.ts';
import { roleOf } from '../auth.ts';
import { connectHubSpot, connectHubSpotSchema, describeConnectError } from './hubspot-connect.ts';
import { connectPipedrive, connectPipedriveSchema } from './pipedrive-connect.ts';

export function createConnectionsHandler(sql: Sql, publicFunctionsUrl: string) {
  return async (req: Request): Promise<Response> => {
    if (roleOf(req.headers.get('authorization')) !== 'service_role') {
      return errorResponse(403, 'forbidden', 'connections are managed with the service role key');
    }
    const url = new URL(req.url);
    const id = url.pathname.split('/').filter(Boolean)[1];
    let provider: unknown;
    try {
      if (req.method === 'POST' && !id) {
        let body: unknown;
        try {
          body = await req.json();
        } catch {
          return errorResponse(400, 'invalid_json', 'the body must be JSON');
        }
        provider = (body as { provider?: unknown })?.provider;
        if (provider === 'pipedrive') {
          const parsed = connectPipedriveSchema.safeParse(body);
          if (!parsed.success) return errorResponse(400, 'invalid_request', 'invalid connect request', parsed.error.issues);
          return jsonResponse(201, await connectPipedrive(sql, parsed.data, `${publicFunctionsUrl}/pipedrive-webhook`));
        }
        if (provider !== 'hubspot') {
          return errorResponse(400, 'unsupported_provider', `provider must be "hubspot" or "pipedrive" (got ${JSON.stringify(provider)})`);
        }
        const parsed = connectHubSpotSchema.safeParse(body);
        if (!parsed.success) return errorResponse(400, 'invalid_request', 'invalid connect request', parsed.error.issues);
        const result = await connectHubSpot(sql, parsed.data, `${publicFunctionsUrl}/hubspot-webhook`);
        return jsonResponse(201, result);
      }
      if (req.method === 'GET' && !id) {
        const tenant = z.uuid().safeParse(url.searchParams.get('tenant_id'));
        if (!tenant.success) return errorResponse(400, 'invalid_request', 'tenant_id (a uuid) is required');
        const rows = await sql`select id, provider, account_id, display_name, enabled, auth_status, settings, created_at
                                 from sync.connections where tenant_id = ${tenant.data} order by created_at`;
        return jsonResponse(200, { connections: rows });
      }
      if (req.method === 'DELETE' && id) {
        if (!z.uuid().safeParse(id).success) return errorResponse(400, 'invalid_request', 'connection id must be a uuid');
        await sql`select sync.disconnect_account(${id})`;
        return jsonResponse(200, { connection_id: id, enabled: false, data: 'kept' });
      }
      return methodNotAllowed(['POST', 'GET', 'DELETE /<id>']);
    } catch (error) {
      const described = describeConnectError(error, provider === 'pipedrive' ? 'Pipedrive' : 'HubSpot');
      return errorResponse(described.status, described.code, described.message);
    }
  };
}
