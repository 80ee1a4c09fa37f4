// The story of each record a failing seed got wrong, written beside the
// stack's logs: what the workload did to it, and what the engine recorded
// (audit trail, identity map, conflict decisions, reconciliation drift, dead
// letters), in time order. Timing decides these failures, so a replay may
// pass: this is what is left to read.

/**
 * @param {import('./convergence.mjs').SimContext} ctx
 * @param {{ emails: string[], operations: { at: number, side: string, kind: string, email: string, fields: object, applied: boolean }[] }} input
 * @returns {Promise<string>}
 */
export async function traceRecords({ sql, tenantId, crms }, { emails, operations }) {
  const names = new Map(crms.map((c) => [c.connectionId, c.name]));
  const side = (connectionId) => names.get(connectionId) ?? connectionId ?? '-';
  const time = (at) => new Date(at).toISOString().slice(11, 23);
  const out = [];
  for (const email of emails) {
    out.push(`== ${email}`);
    const locals = await sql`select id from crm.contacts where tenant_id = ${tenantId} and email = ${email}`;
    const ids = locals.map((r) => r.id);
    const events = [
      ...operations.filter((o) => o.email === email)
        .map((o) => [new Date(o.at), `workload  ${o.side} ${o.kind}${o.applied ? '' : ' (skipped)'} ${JSON.stringify(o.fields)}`]),
      ...(await sql`
        select occurred_at as at, action, source, actor_connection_id, changes from audit.entries
         where tenant_id = ${tenantId} and entity_type = 'contact' and entity_id = any (${ids}::uuid[])`)
        .map((r) => [r.at, `audit     ${r.action} by ${r.source === 'hubspot' || r.source === 'pipedrive' ? side(r.actor_connection_id) : r.source} ${JSON.stringify(r.changes)}`]),
      ...(await sql`
        select decided_at as at, connection_id, field, strategy, winner, local_value, remote_value, result_value, reason
          from sync.conflict_decisions where tenant_id = ${tenantId} and local_id = any (${ids}::uuid[])`)
        .map((r) => [r.at, `decision  ${side(r.connection_id)} ${r.field} ${r.strategy}: ${r.winner} wins (local ${JSON.stringify(r.local_value)}, ` +
          `remote ${JSON.stringify(r.remote_value)} → ${JSON.stringify(r.result_value)}) ${r.reason}`]),
      ...(await sql`
        select detected_at as at, connection_id, field, kind, winner, resolution, detail from sync.reconcile_drift
         where tenant_id = ${tenantId} and local_id = any (${ids}::uuid[])`)
        .map((r) => [r.at, `drift     ${side(r.connection_id)} ${r.kind} ${r.field}: ${r.winner ?? '-'} wins, ${r.resolution} ${r.detail ?? ''}`]),
      ...(await sql`
        select failed_at as at, connection_id, error from sync.dead_letters
         where connection_id = any (${crms.map((c) => c.connectionId)}::uuid[]) and message::text like any (${ids.map((id) => `%${id}%`)}::text[])`)
        .map((r) => [r.at, `dead      ${side(r.connection_id)} ${r.error}`]),
    ].sort((a, b) => a[0] - b[0]);
    for (const [at, line] of events) out.push(`${time(at)}  ${line}`);
    for (const m of await sql`
      select connection_id, remote_id, remote_deleted_at, remote_updated_at from sync.identity_map
       where tenant_id = ${tenantId} and entity_type = 'contact' and local_id = any (${ids}::uuid[])`) {
      out.push(`identity  ${side(m.connection_id)} ${m.remote_id} updated ${m.remote_updated_at?.toISOString() ?? '-'}` +
        `${m.remote_deleted_at ? ` deleted ${m.remote_deleted_at.toISOString()}` : ''}`);
    }
  }
  return out.join('\n') + '\n';
}
