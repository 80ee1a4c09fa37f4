// Two workers applying the same remote record at once, each in its own
// transaction, as happens when a webhook is delivered twice or a backfill
// page overlaps a webhook: the record is created locally exactly once.
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stackEnv } from './stack-env.ts';

const sql = postgres(stackEnv().dbUrl, { max: 4, onnotice: () => {} });
let connectionId: string;
let tenantId: string;

beforeAll(async () => {
  const suffix = crypto.randomUUID().slice(0, 8);
  [{ id: tenantId }] = await sql`insert into crm.tenants (name, slug) values ('Concurrent apply', ${`concurrent-${suffix}`}) returning id`;
  [{ id: connectionId }] = await sql`insert into sync.connections (tenant_id, provider, account_id)
                                     values (${tenantId}, 'hubspot', ${`concurrent-${suffix}`}) returning id`;
});

afterAll(async () => {
  await sql.end();
});

function contactChange(remoteId: string, version: string, firstName: string) {
  const set = { email: `${remoteId}@concurrent.example`, first_name: firstName };
  return [{ remote_id: remoteId, remote_updated_at: version, expected_unmapped: true, set, base: set }];
}

/** Runs `changes` in a transaction that stays open until `release` resolves; returns the apply's outcomes. */
async function applyHeldOpen(changes: unknown, release: Promise<void>) {
  return await sql.begin(async (tx) => {
    const rows = await tx`select remote_id, outcome from sync.apply_inbound_changes(${connectionId}, 'contact', ${tx.json(changes as never)})`;
    await release;
    return rows.map((r) => r.outcome as string);
  });
}

async function contactsWithEmail(email: string) {
  return await sql`select c.id, c.first_name, m.remote_id from crm.contacts c
                     left join sync.identity_map m on m.local_id = c.id and m.connection_id = ${connectionId}
                    where c.tenant_id = ${tenantId} and c.email = ${email}`;
}

const settleTime = () => new Promise((r) => setTimeout(r, 300));

describe('the same new remote record applied by two workers at once', () => {
  it('is created once; the duplicate apply waits and finds it already applied', async () => {
    let releaseFirst!: () => void;
    const first = applyHeldOpen(contactChange('c-dup', '2026-03-01T10:00:00Z', 'Ann'), new Promise((r) => (releaseFirst = r)));
    await settleTime();
    let secondDone = false;
    const second = applyHeldOpen(contactChange('c-dup', '2026-03-01T10:00:00Z', 'Ann'), Promise.resolve())
      .finally(() => (secondDone = true));
    await settleTime();
    expect(secondDone).toBe(false);
    releaseFirst();
    expect(await first).toEqual(['created']);
    expect(await second).toEqual(['stale']);
    const rows = await contactsWithEmail('c-dup@concurrent.example');
    expect(rows).toHaveLength(1);
    expect(rows[0].remote_id).toBe('c-dup');
  });

  it('answers retry to a newer version decided as new, so the worker resolves it against the mapped record', async () => {
    let releaseFirst!: () => void;
    const first = applyHeldOpen(contactChange('c-new', '2026-03-01T10:00:00Z', 'Bea'), new Promise((r) => (releaseFirst = r)));
    await settleTime();
    const second = applyHeldOpen(contactChange('c-new', '2026-03-01T10:05:00Z', 'Beatrice'), Promise.resolve());
    await settleTime();
    releaseFirst();
    expect(await first).toEqual(['created']);
    expect(await second).toEqual(['retry']);
    const rows = await contactsWithEmail('c-new@concurrent.example');
    expect(rows.map((r) => [r.first_name, r.remote_id])).toEqual([['Bea', 'c-new']]);
  });

  it('does not deadlock when two batches hold the same records in opposite orders', async () => {
    const a = [...contactChange('c-x', '2026-03-02T10:00:00Z', 'X'), ...contactChange('c-y', '2026-03-02T10:00:00Z', 'Y')];
    const b = [...a].reverse();
    const [ra, rb] = await Promise.all([applyHeldOpen(a, settleTime()), applyHeldOpen(b, settleTime())]);
    expect([...ra, ...rb].sort()).toEqual(['created', 'created', 'stale', 'stale']);
    expect(await contactsWithEmail('c-x@concurrent.example')).toHaveLength(1);
    expect(await contactsWithEmail('c-y@concurrent.example')).toHaveLength(1);
  });
});
