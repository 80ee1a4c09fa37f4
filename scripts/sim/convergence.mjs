// One seed of the convergence simulation against a running stack: a tenant
// connected to one or more CRMs (drivers: hubspot-driver.mjs,
// pipedrive-driver.mjs) under one conflict strategy. The app and the CRMs
// edit overlapping contacts and fields concurrently, create and delete some,
// while webhooks are duplicated, reordered, delayed and dropped and the CRM
// APIs answer 429 and 5xx. Then faults stop, the engine settles, a catch-up
// pass (catch-up.mjs) repairs what lost webhooks left behind, and the
// properties are checked (properties.mjs).
import { refetchRunRecords } from './catch-up.mjs';
import { checkProperties } from './properties.mjs';
import { traceRecords } from './trace.mjs';
import { createPrng, editedFields, Oracle, pickOperation, strategyRules, valueFor } from './workload.mjs';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const comparedFields = ['email', ...editedFields];

/**
 * @typedef {object} SimContext
 * @property {import('postgres').Sql} sql
 * @property {string} tenantId
 * @property {ReturnType<import('./hubspot-driver.mjs').createHubSpotDriver>[]} crms
 * @property {(reason: string) => Promise<unknown>} runWorker one sync-worker run
 * @property {(ctx: SimContext, domain: string) => Promise<void>} [catchUp]
 *   the pass after the workload; defaults to re-reading every record of the run through the adapter
 *   (catch-up.mjs has it and batch reconciliation)
 */

/**
 * @param {SimContext} ctx
 * @param {{ seed: number, records: number, ops: number, strategy: string, runTag?: string }} options
 */
export async function runSeed(ctx, { seed, records, ops, strategy, runTag = Date.now().toString(36) }) {
  const { sql, tenantId, crms } = ctx;
  const prng = createPrng(seed);
  const domain = `s${seed}-${runTag}.sim.example`;
  const oracle = new Oracle();
  const stats = { operations: 0, skipped: 0, faults: 0 };
  /** Every operation as it ran, for the trace of a failing record. */
  const operations = [];
  await setStrategy(sql, tenantId, strategy);

  // Starting point: records every side holds and agrees on.
  const seeded = Array.from({ length: records }, (_, i) => ({
    // Names without spaces: Pipedrive splits a person's name at the first one.
    email: `c${i}@${domain}`, first_name: `First-${i}`, last_name: `Last-${i}`, phone: `+1 555 ${String(i).padStart(4, '0')}`, lead_source: 'seed',
  }));
  if (seeded.length) await sql`insert into crm.contacts ${sql(seeded.map((r) => ({ tenant_id: tenantId, ...r })))}`;
  for (const r of seeded) oracle.add(r.email, 'seed', -1, r);
  await settle(ctx);

  for (const crm of crms) await crm.setFaults(seed);
  let op = 0;
  for (let burst = 0; op < ops; burst++) {
    const planned = [];
    for (let n = prng.int(1, 4); n > 0 && op < ops; n--, op++) planned.push(planOperation(prng, oracle, seed, op, burst, domain, crms));
    if (prng.chance(0.15)) {
      await prng.pick(crms).injectApiFault(prng);
      stats.faults++;
    }
    // Sides run concurrently; one side's operations on one record run in plan order, so the oracle knows which came last.
    const chains = new Map();
    for (const p of planned) {
      const key = `${p.side}:${p.email ?? p.fields.email}`;
      chains.set(key, [...(chains.get(key) ?? []), p]);
    }
    const done = (await Promise.all([...chains.values()].map(async (chain) => {
      const out = [];
      for (const p of chain) {
        const at = Date.now();
        const applied = await runOperation(ctx, oracle, p);
        operations.push({ at, side: p.side, kind: p.kind, email: p.email ?? p.fields.email, fields: p.fields, applied });
        out.push(applied);
      }
      return out;
    }))).flat();
    stats.operations += done.filter(Boolean).length;
    stats.skipped += done.filter((d) => !d).length;
    await sleep(prng.int(0, 120));
  }

  for (const crm of crms) await crm.clearFaults();
  await settle(ctx);
  await (ctx.catchUp ?? refetchRunRecords)(ctx, domain);
  await settle(ctx);

  const local = (await sql`
    select id, email, deleted_at is not null as deleted, to_jsonb(c) as fields
      from crm.contacts c where tenant_id = ${tenantId} and email like ${`%@${domain}`}`)
    .map((r) => ({ id: r.id, email: r.email, deleted: r.deleted, fields: r.fields }));
  const crmRecords = [];
  for (const crm of crms) crmRecords.push({ crm: crm.name, records: await crm.records(domain) });
  const localIds = local.map((r) => r.id);
  const pending = localIds.length ? [...await sql`
    select local_id, field from sync.conflicts where tenant_id = ${tenantId} and status = 'pending_review' and local_id = any (${localIds}::uuid[])`] : [];
  const [{ decisions }] = localIds.length ? await sql`
    select count(*)::int as decisions from sync.conflict_decisions where tenant_id = ${tenantId} and local_id = any (${localIds}::uuid[])`
    : [{ decisions: 0 }];
  const [{ dead }] = await sql`
    select count(*)::int as dead from sync.dead_letters where connection_id = any (${crms.map((c) => c.connectionId)}::uuid[])`;

  const findings = checkProperties({ strategy, oracle, fields: comparedFields, local, crms: crmRecords, pending });
  const ok = Object.values(findings).every((f) => f.length === 0);
  const failing = [...oracle.records.keys()].filter((email) =>
    Object.values(findings).flat().some((finding) => finding.startsWith(`${email}:`) || finding.startsWith(`${email}.`)));
  return {
    seed, strategy, domain, ...stats, records: oracle.records.size, conflicts: decisions, pending: pending.length, deadLetters: dead,
    findings, ok, ...(ok ? {} : { trace: await traceRecords(ctx, { emails: failing, operations }) }),
  };
}

async function setStrategy(sql, tenantId, strategy) {
  const rules = strategyRules[strategy];
  if (!rules) throw new Error(`unknown strategy "${strategy}" (one of ${Object.keys(strategyRules).join(', ')})`);
  await sql.begin(async (tx) => {
    await tx`delete from sync.conflict_strategies where tenant_id = ${tenantId}`;
    for (const r of rules) {
      await tx`insert into sync.conflict_strategies (tenant_id, entity_type, field, strategy, source_priority, merge_rule)
               values (${tenantId}, ${r.entity_type ?? null}, ${r.field ?? null}, ${r.strategy}, ${r.source_priority ?? null}, ${r.merge_rule ?? null})`;
    }
  });
}

/** Decides the next operation from the seed and what the oracle knows (never from timing). */
function planOperation(prng, oracle, seed, op, burst, domain, crms) {
  const kind = pickOperation(prng);
  const existing = [...oracle.records.values()];
  const crm = prng.pick(crms);
  // Who acts: the app, or a user of the CRM picked.
  const side = kind.startsWith('local') ? 'local' : crm.name;
  const fieldsToEdit = () => {
    const fields = {};
    for (let n = prng.int(1, 2); n > 0; n--) {
      const field = prng.pick(editedFields);
      fields[field] = valueFor(field, side, seed, op);
    }
    return fields;
  };
  const newRecord = () => ({
    email: `n${op}@${domain}`, first_name: `New-${op}`, last_name: side === 'local' ? 'App' : crm.name,
    phone: `+1 555 9${String(op).padStart(3, '0')}`, lead_source: `new-${op}`,
  });
  switch (kind) {
    case 'local_create':
    case 'remote_create':
      return { kind, side, burst, crm, fields: newRecord() };
    default: {
      if (existing.length === 0) return { kind: 'local_create', side: 'local', burst, crm, fields: newRecord() };
      const target = prng.pick(existing);
      return { kind, side, burst, crm, email: target.email, fields: kind.endsWith('edit') ? fieldsToEdit() : {} };
    }
  }
}

/** Runs one planned operation; false when it could not apply (its record is not on that side yet, or gone). */
async function runOperation(ctx, oracle, p) {
  const { sql, tenantId } = ctx;
  const { side } = p;
  switch (p.kind) {
    case 'local_create':
      oracle.add(p.fields.email, 'local', p.burst, p.fields);
      await sql`insert into crm.contacts ${sql({ tenant_id: tenantId, ...p.fields })}`;
      return true;
    case 'remote_create':
      oracle.add(p.fields.email, side, p.burst, p.fields);
      await p.crm.create(p.fields);
      return true;
    case 'local_edit': {
      const [row] = await sql`select id from crm.contacts where tenant_id = ${tenantId} and email = ${p.email} and deleted_at is null`;
      if (!row) return false;
      await sql`update crm.contacts set ${sql(p.fields)} where id = ${row.id}`;
      for (const [field, value] of Object.entries(p.fields)) oracle.edit(p.email, side, field, value, p.burst);
      return true;
    }
    case 'local_delete': {
      const [row] = await sql`select id from crm.contacts where tenant_id = ${tenantId} and email = ${p.email} and deleted_at is null`;
      if (!row) return false;
      oracle.remove(p.email, side, p.burst);
      await sql`update crm.contacts set deleted_at = now() where id = ${row.id}`;
      return true;
    }
    default: {
      // remote_edit / remote_delete: the record as this CRM knows it (mapped), if it reached the CRM.
      const [row] = await sql`
        select m.remote_id from sync.identity_map m join crm.contacts c on c.id = m.local_id
         where m.connection_id = ${p.crm.connectionId} and m.entity_type = 'contact' and c.email = ${p.email} and m.remote_deleted_at is null`;
      if (!row) return false;
      if (p.kind === 'remote_edit') {
        const written = await p.crm.edit(row.remote_id, p.fields);
        if (!written) return false;
        for (const [field, value] of Object.entries(written)) oracle.edit(p.email, side, field, value, p.burst);
        return true;
      }
      if (!await p.crm.remove(row.remote_id)) return false;
      oracle.remove(p.email, side, p.burst);
      return true;
    }
  }
}

/**
 * Waits until every CRM has delivered its webhooks and no message of these
 * connections is left on either queue (messages in retry backoff included),
 * running the worker meanwhile: its kicks are not all there is to rely on.
 */
export async function settle(ctx, timeoutMs = 120_000) {
  const started = Date.now();
  const ids = ctx.crms.map((c) => c.connectionId);
  for (;;) {
    const idle = (await Promise.all(ctx.crms.map((c) => c.flush()))).every(Boolean);
    await ctx.runWorker('sim');
    const [row] = await ctx.sql`
      select (select count(*) from pgmq.q_crm_inbound where message ->> 'connection_id' = any (${ids}))::int
           + (select count(*) from pgmq.q_crm_outbound where message ->> 'connection_id' = any (${ids}))::int as queued`;
    if (idle && row.queued === 0) return;
    if (Date.now() - started > timeoutMs) throw new Error(`the engine did not settle within ${timeoutMs / 1000} s (${row.queued} messages left)`);
    await sleep(250);
  }
}
