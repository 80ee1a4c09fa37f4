// Proves the tenant-isolation pgTAP test guards every policy: with any one
// policy of the crm, sync, audit and privacy schemas dropped, the test must report a failure.
// Each run drops the policy inside a transaction that the test file's own
// ROLLBACK undoes, so the database is unchanged afterwards.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { stackEnv } from './stack-env.ts';

const env = stackEnv();
const sql = postgres(env.dbUrl, { max: 1, onnotice: () => {} });
const isolationTest = path.resolve(import.meta.dirname, '../database/11-tenant-isolation.test.sql');

interface Policy {
  schemaname: string;
  tablename: string;
  policyname: string;
}

const policies: Policy[] = await sql<Policy[]>`
  select schemaname, tablename, policyname from pg_policies
   where schemaname in ('crm', 'sync', 'audit', 'privacy') order by 1, 2, 3`;

/** Runs the isolation test, optionally with one policy dropped; the failures it reports, as pg_prove would see them. */
function isolationTestFailures(without?: Policy): string[] {
  const drop = without
    ? `drop policy "${without.policyname.replaceAll('"', '""')}" on ${without.schemaname}.${without.tablename};`
    : '';
  const result = spawnSync('psql', [env.dbUrl, '-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=0', '-f', '-'], {
    input: `begin;\n${drop}\n\\i ${isolationTest}\n`,
    encoding: 'utf8',
  });
  const planned = Number(result.stdout.match(/^1\.\.(\d+)$/m)?.[1] ?? 0);
  const ran = result.stdout.match(/^(not )?ok \d+/gm)?.length ?? 0;
  return [
    ...(result.stdout.match(/^not ok.*$/gm) ?? []),
    ...(result.stderr.match(/ERROR:.*$/gm) ?? []),
    ...(planned === 0 || ran !== planned ? [`planned ${planned} tests, ran ${ran}`] : []),
  ];
}

afterAll(() => sql.end());

describe('the tenant-isolation test guards every policy', () => {
  it('finds the policies of every crm, sync, audit and privacy table', () => {
    const tables = new Set(policies.map((p) => `${p.schemaname}.${p.tablename}`));
    expect([...tables].sort()).toEqual([
      'audit.entries', 'crm.activities', 'crm.companies', 'crm.contacts', 'crm.deals', 'crm.tasks', 'crm.tenants',
      'privacy.erasure_targets', 'privacy.erasures',
      'sync.admin_notifications', 'sync.alerts', 'sync.conflict_decisions', 'sync.conflict_strategies', 'sync.conflicts',
      'sync.connections', 'sync.dead_letters', 'sync.field_maps', 'sync.identity_map', 'sync.jobs', 'sync.rate_budgets',
      'sync.reconcile_drift', 'sync.reconcile_runs', 'sync.unmapped_values', 'sync.value_maps',
    ]);
  });

  it('passes with every policy in place', () => {
    expect(isolationTestFailures()).toEqual([]);
  });

  it.each(policies.map((p) => [`${p.schemaname}.${p.tablename}: ${p.policyname}`, p] as const))(
    'fails without %s',
    (_label, policy) => {
      expect(isolationTestFailures(policy)).not.toEqual([]);
    },
  );
});
