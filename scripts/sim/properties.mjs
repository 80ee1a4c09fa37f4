// The properties the convergence simulation checks once the workload has
// stopped and the catch-up pass has run. Pure: snapshots in, findings out.
import { sideLabel } from './workload.mjs';

const norm = (value) => (value === undefined || value === null || value === '' ? null : String(value));

/**
 * @param {object} input
 * @param {string} input.strategy
 * @param {import('./workload.mjs').Oracle} input.oracle
 * @param {string[]} input.fields the synced fields compared on every side
 * @param {{ id: string, email: string, deleted: boolean, fields: Record<string, unknown> }[]} input.local
 * @param {{ crm: string, records: { remoteId: string, email: string, archived: boolean, fields: Record<string, unknown> }[] }[]} input.crms
 * @param {{ local_id: string, field: string }[]} input.pending pending conflicts of these records
 * @returns {{ divergent: string[], duplicates: string[], resurrected: string[], lostEdits: string[], conflictErrors: string[] }}
 */
export function checkProperties({ strategy, oracle, fields, local, crms, pending }) {
  const findings = { divergent: [], duplicates: [], resurrected: [], lostEdits: [], conflictErrors: [] };
  const pendingByLocal = new Map();
  const seenPending = new Set();
  for (const p of pending) {
    const key = `${p.local_id}:${p.field}`;
    if (seenPending.has(key)) findings.conflictErrors.push(`${key}: more than one pending conflict`);
    seenPending.add(key);
    pendingByLocal.set(p.local_id, [...(pendingByLocal.get(p.local_id) ?? []), p.field]);
  }
  if (strategy !== 'manual_review' && pending.length > 0) {
    findings.conflictErrors.push(`${pending.length} pending conflict(s) under ${strategy} (only manual review holds fields)`);
  }

  for (const [email, record] of oracle.records) {
    const localRows = local.filter((r) => r.email === email);
    const liveLocal = localRows.filter((r) => !r.deleted);
    const sides = [{ name: 'app', live: liveLocal.length > 0, row: liveLocal[0] }];
    if (liveLocal.length > 1) findings.duplicates.push(`${email}: ${liveLocal.length} live records in the app`);
    for (const crm of crms) {
      const live = crm.records.filter((r) => r.email === email && !r.archived);
      if (live.length > 1) findings.duplicates.push(`${email}: ${live.length} live records in ${crm.crm}`);
      sides.push({ name: crm.crm, live: live.length > 0, row: live[0] });
    }

    if (sides.some((s) => s.live !== sides[0].live)) {
      findings.divergent.push(`${email}: live in ${sides.filter((s) => s.live).map((s) => s.name).join(', ')} only`);
      continue;
    }
    if (!sides[0].live) continue;
    if (oracle.deletionWon(email)) findings.resurrected.push(`${email}: deleted (${record.deletes.map((d) => d.side).join(', ')}) with no later edit, but live`);

    const held = new Set(pendingByLocal.get(sides[0].row.id) ?? []);
    for (const field of fields) {
      if (held.has(field)) continue;
      const values = sides.map((s) => norm(s.row.fields[field]));
      if (values.some((v) => v !== values[0])) {
        findings.divergent.push(`${email}.${field}: ${sides.map((s, i) => `${s.name}=${JSON.stringify(values[i])}`).join(' ')}`);
      }
    }
    for (const edit of oracle.oneSideEdits(email)) {
      if (held.has(edit.field)) continue;
      const values = sides.map((s) => norm(s.row.fields[edit.field]));
      if (values.some((v) => v !== norm(edit.value))) {
        findings.lostEdits.push(`${email}.${edit.field}: only ${sideLabel(edit.side)} wrote ${JSON.stringify(edit.value)}, ` +
          `now ${sides.map((s, i) => `${s.name}=${JSON.stringify(values[i])}`).join(' ')}`);
      }
    }
    // A field held for review must be one both sides wrote: a conflict the workload really made.
    const twoSided = new Set(oracle.twoSideFields(email));
    for (const field of held) {
      if (!twoSided.has(field)) findings.conflictErrors.push(`${email}.${field}: pending conflict on a field only one side wrote`);
    }
  }
  return findings;
}

export const propertyNames = {
  divergent: 'every record equal on all sides (except fields awaiting review)',
  duplicates: 'no record duplicated',
  resurrected: 'no record resurrected after a delete that won',
  lostEdits: 'no edit to a field only one side touched is lost',
  conflictErrors: 'each true conflict pending exactly once, none without cause',
};
