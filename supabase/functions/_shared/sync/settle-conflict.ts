// Settles one true conflict (a field changed differently in the app and in a
// CRM since the shadow) under the rule that applies to it. Pure and
// deterministic: the same inputs give the same winner on every worker and in
// every order, so all sides converge. Provider-neutral: the CRM side is a
// source name and an id (its connection).
import type { ConflictSource, FieldRule } from './conflict-policy.ts';
import { canonical, sameValue, toMillis } from './values.ts';

export interface ConflictSide {
  source: ConflictSource;
  /** Tie-break of last resort: the local side is "supabase", a CRM side its connection id. */
  id: string;
  value: unknown;
  /** When that side last changed the record (ISO time); fields carry no time of their own. */
  changedAt: string | null;
}

export interface Settlement {
  /** local/remote: that side's value; merged: a value built from both; pending: held for manual review (local kept). */
  winner: 'local' | 'remote' | 'merged' | 'pending';
  value: unknown;
  reason: string;
}

export function settleConflict(rule: FieldRule, local: ConflictSide, remote: ConflictSide): Settlement {
  switch (rule.strategy) {
    case 'timestamp':
      return byTime(rule, local, remote);
    case 'source_priority':
      return byPriority(rule, local, remote, 'source priority');
    case 'manual_review':
      return { winner: 'pending', value: local.value, reason: 'held for manual review; the local value stays until resolved' };
    case 'field_merge':
      return byMergeRule(rule, local, remote);
  }
}

function pick(side: 'local' | 'remote', local: ConflictSide, remote: ConflictSide, reason: string): Settlement {
  return { winner: side, value: (side === 'local' ? local : remote).value, reason };
}

/** Later change wins; equal times fall to source priority, then id. */
function byTime(rule: FieldRule, local: ConflictSide, remote: ConflictSide): Settlement {
  const l = local.changedAt ? toMillis(local.changedAt) : -Infinity;
  const r = remote.changedAt ? toMillis(remote.changedAt) : -Infinity;
  if (l !== r) return pick(r > l ? 'remote' : 'local', local, remote, `${r > l ? remote.source : local.source} changed it last`);
  return byPriority(rule, local, remote, 'same change time; source priority');
}

/** Earlier in the list wins; a source not listed ranks last; equal ranks fall to the smaller id. */
function byPriority(rule: FieldRule, local: ConflictSide, remote: ConflictSide, why: string): Settlement {
  const rank = (s: ConflictSide) => {
    const i = rule.sourcePriority.indexOf(s.source);
    return i < 0 ? rule.sourcePriority.length : i;
  };
  if (rank(local) !== rank(remote)) {
    const side = rank(remote) < rank(local) ? 'remote' : 'local';
    return pick(side, local, remote, `${why}: ${(side === 'local' ? local : remote).source} ranks first`);
  }
  const side = remote.id < local.id ? 'remote' : 'local';
  return pick(side, local, remote, `${why} tied; smaller id (${(side === 'local' ? local : remote).id})`);
}

const present = (value: unknown) => canonical(value) !== 'null';

function byMergeRule(rule: FieldRule, local: ConflictSide, remote: ConflictSide): Settlement {
  switch (rule.mergeRule) {
    case 'remote_if_present':
      return present(remote.value) ? pick('remote', local, remote, 'remote_if_present: the CRM has a value')
        : pick('local', local, remote, 'remote_if_present: the CRM value is empty');
    case 'local_if_present':
      return present(local.value) ? pick('local', local, remote, 'local_if_present: the app has a value')
        : pick('remote', local, remote, 'local_if_present: the app value is empty');
    case 'max':
    case 'min':
      return byNumber(rule.mergeRule, local, remote);
    case 'append':
      return byAppending(rule, local, remote);
    default: // 'newest'
      return byTime(rule, local, remote);
  }
}

function byNumber(rule: 'max' | 'min', local: ConflictSide, remote: ConflictSide): Settlement {
  const l = present(local.value) ? Number(local.value) : Number.NaN;
  const r = present(remote.value) ? Number(remote.value) : Number.NaN;
  if (Number.isNaN(r)) return pick('local', local, remote, `${rule}: only the app has a number`);
  if (Number.isNaN(l)) return pick('remote', local, remote, `${rule}: only the CRM has a number`);
  const remoteWins = rule === 'max' ? r > l : r < l;
  return pick(remoteWins ? 'remote' : 'local', local, remote, `${rule} of ${l} and ${r}`);
}

/**
 * Both texts, split on the separator, each part once: the local parts in
 * order, then the CRM's parts the app does not have. Merging an already
 * merged value again adds nothing, so a re-sync never duplicates a part.
 * Non-text values cannot be appended: the later change wins.
 */
function byAppending(rule: FieldRule, local: ConflictSide, remote: ConflictSide): Settlement {
  const isText = (v: unknown) => v === null || v === undefined || typeof v === 'string';
  if (!isText(local.value) || !isText(remote.value)) return byTime(rule, local, remote);
  const parts = (v: unknown) => (typeof v === 'string' ? v.split(rule.separator.trim() || rule.separator) : [])
    .map((p) => p.trim()).filter(Boolean);
  const merged: string[] = [];
  for (const part of [...parts(local.value), ...parts(remote.value)]) if (!merged.includes(part)) merged.push(part);
  const value = merged.length ? merged.join(rule.separator) : null;
  if (sameValue(value, local.value)) return { winner: 'local', value: local.value, reason: 'append: the app value has every part' };
  if (sameValue(value, remote.value)) return { winner: 'remote', value: remote.value, reason: 'append: the CRM value has every part' };
  return { winner: 'merged', value, reason: `append: parts of both joined with "${rule.separator}"` };
}
