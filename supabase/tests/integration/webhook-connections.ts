// Webhook integration tests' fixtures: a tenant with one connection whose
// credentials are in Vault (inserted directly, as the connect flow would
// leave them), and what the database holds from its deliveries.
import type postgres from 'postgres';

export interface TestConnection {
  tenantId: string;
  connectionId: string;
}

export async function createTestConnection(
  sql: postgres.Sql,
  provider: 'hubspot' | 'pipedrive',
  accountId: string,
  credentials: Record<string, string>,
): Promise<TestConnection> {
  const [{ id: tenantId }] = await sql<{ id: string }[]>`
    insert into crm.tenants (name, slug)
    values (${`${provider} webhook test ${accountId}`}, ${`${provider}-webhook-${accountId}`}) returning id`;
  const [{ id: connectionId }] = await sql<{ id: string }[]>`
    insert into sync.connections (tenant_id, provider, account_id, display_name)
    values (${tenantId}, ${provider}, ${accountId}, 'webhook test account') returning id`;
  await sql`select sync.set_connection_credentials(${connectionId}, ${sql.json(credentials)})`;
  return { tenantId, connectionId };
}

/**
 * What the connections' deliveries left: receipts, and messages queued on
 * crm_inbound (dead letters included, in case the worker gave up on one).
 */
export async function storedFor(
  sql: postgres.Sql,
  connectionIds: string[],
): Promise<{ queued: number; receipts: number }> {
  const [row] = await sql<{ queued: number; receipts: number }[]>`
    select (select count(*) from pgmq.q_crm_inbound where (message ->> 'connection_id')::uuid = any (${connectionIds}::uuid[]))
         + (select count(*) from sync.dead_letters where connection_id = any (${connectionIds}::uuid[])) as queued,
           (select count(*) from sync.webhook_receipts where connection_id = any (${connectionIds}::uuid[])) as receipts`;
  return { queued: Number(row.queued), receipts: Number(row.receipts) };
}

/**
 * The events queued for a connection, oldest first: by the event's own time
 * where it has one (Pipedrive's meta.timestamp), as the sync worker may have
 * taken a message and put it back (a retry is queued anew, after later ones).
 */
export async function queuedEvents<T>(sql: postgres.Sql, connectionId: string): Promise<T[]> {
  const rows = await sql<{ event: T }[]>`
    select message -> 'event' as event from pgmq.q_crm_inbound
     where message ->> 'connection_id' = ${connectionId}
     order by (message -> 'event' -> 'meta' ->> 'timestamp')::timestamptz nulls last, msg_id`;
  return rows.map((row) => row.event);
}

/** The accounts and secrets of a HubSpot portal and a Pipedrive company, both connected. */
export interface EndpointAccounts {
  hubspot: { portalId: number; clientSecret: string };
  pipedrive: { companyId: number; user: string; password: string };
}

/** Connects a HubSpot portal and a Pipedrive company (each with its own tenant). */
export async function connectBothProviders(sql: postgres.Sql, accounts: EndpointAccounts): Promise<TestConnection[]> {
  const { hubspot, pipedrive } = accounts;
  return [
    await createTestConnection(sql, 'hubspot', String(hubspot.portalId), { webhook_secret: hubspot.clientSecret }),
    await createTestConnection(sql, 'pipedrive', String(pipedrive.companyId), {
      api_token: 'not-used-by-intake',
      webhook_secret: `${pipedrive.user}:${pipedrive.password}`,
    }),
  ];
}

export async function dropTestConnection(sql: postgres.Sql, connection: TestConnection | undefined): Promise<void> {
  if (!connection) return;
  const { tenantId, connectionId } = connection;
  await sql`delete from pgmq.q_crm_inbound where message ->> 'connection_id' = ${connectionId}`;
  await sql`delete from vault.secrets where id = (select secret_id from sync.connections where id = ${connectionId})`;
  await sql`delete from crm.tenants where id = ${tenantId}`;
}
