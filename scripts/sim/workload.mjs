// The seeded workload of the convergence simulation and what it did (the
// oracle the properties are checked against). Pure: no I/O, so the same seed
// always plans the same operations, and the unit tests run without a stack.

/** mulberry32: a small, fast, seedable generator (same sequence on every platform). */
export function createPrng(seed) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    pick: (items) => items[Math.floor(next() * items.length)],
    chance: (p) => next() < p,
  };
}

/** The contact fields the workload edits (all synced; email stays the record's key). */
export const editedFields = ['first_name', 'last_name', 'phone', 'lead_source'];

export const strategies = ['timestamp', 'source_priority', 'field_merge', 'manual_review'];

/** The tenant rules each strategy is run with (sync.conflict_strategies rows). */
export const strategyRules = {
  timestamp: [],
  source_priority: [{ strategy: 'source_priority', source_priority: ['hubspot', 'pipedrive', 'supabase'] }],
  field_merge: [
    { entity_type: 'contact', strategy: 'field_merge', merge_rule: 'remote_if_present' },
    { entity_type: 'contact', field: 'lead_source', strategy: 'field_merge', merge_rule: 'append' },
  ],
  manual_review: [{ strategy: 'manual_review' }],
};

/** How often each operation is picked: mostly edits to overlapping records and fields, some creates and deletes. */
const operationWeights = [
  ['local_edit', 36], ['remote_edit', 36], ['local_create', 7], ['remote_create', 7], ['local_delete', 7], ['remote_delete', 7],
];

export function pickOperation(prng) {
  let roll = prng.next() * operationWeights.reduce((sum, [, w]) => sum + w, 0);
  for (const [name, weight] of operationWeights) {
    roll -= weight;
    if (roll < 0) return name;
  }
  return operationWeights[0][0];
}

/** How a side is named in values and reports: the app, or the CRM by name. */
export const sideLabel = (side) => (side === 'local' ? 'app' : side);

/** Values that say who wrote them and when: a lost write is easy to spot in a report. */
export function valueFor(field, side, seed, op) {
  const tag = `${side === 'local' ? 'app' : side.slice(0, 2)}${seed}-${op}`;
  if (field === 'phone') return `+1 555 ${String(op).padStart(4, '0')} ${tag}`;
  if (field === 'lead_source') return `src-${tag}`;
  return `${field === 'first_name' ? 'F' : 'L'}-${tag}`;
}

/**
 * What happened to each record during a run, by the workload's own key
 * (the record's email). Edits are kept per side ('local' for the app, a
 * CRM's name for that CRM) and field in order, with the burst they belong
 * to (operations of one burst run concurrently).
 */
export class Oracle {
  constructor() {
    this.records = new Map();
  }

  add(email, origin, burst, fields) {
    const record = { email, origin, createdInBurst: burst, edits: new Map(), deletes: [] };
    this.records.set(email, record);
    // A record created during the run: its fields are that side's writes.
    if (origin !== 'seed') for (const [field, value] of Object.entries(fields)) this.edit(email, origin, field, value, burst);
    return record;
  }

  edit(email, side, field, value, burst) {
    const { edits } = this.records.get(email);
    if (!edits.has(side)) edits.set(side, new Map());
    const fields = edits.get(side);
    fields.set(field, [...(fields.get(field) ?? []), { value, burst }]);
  }

  remove(email, side, burst) {
    this.records.get(email).deletes.push({ side, burst });
  }

  /** Fields one side only wrote, with the last value it wrote. */
  oneSideEdits(email) {
    const { edits } = this.records.get(email);
    const out = [];
    for (const [side, fields] of edits) {
      for (const [field, writes] of fields) {
        if (![...edits].some(([other, o]) => other !== side && o.has(field))) out.push({ field, side, value: writes.at(-1).value });
      }
    }
    return out;
  }

  /** Fields two or more sides wrote: where a true conflict can arise. */
  twoSideFields(email) {
    const writers = new Map();
    for (const fields of this.records.get(email).edits.values()) {
      for (const field of fields.keys()) writers.set(field, (writers.get(field) ?? 0) + 1);
    }
    return [...writers].filter(([, n]) => n > 1).map(([field]) => field);
  }

  /**
   * A deletion "won" when nothing touched the record in its burst or after
   * (an edit made concurrently with or after a delete may legitimately
   * bring the record back).
   */
  deletionWon(email) {
    const record = this.records.get(email);
    if (record.deletes.length === 0) return false;
    const firstDelete = Math.min(...record.deletes.map((d) => d.burst));
    return ![...record.edits.values()].some((fields) =>
      [...fields.values()].some((writes) => writes.some((w) => w.burst >= firstDelete)));
  }
}
