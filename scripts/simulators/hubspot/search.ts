/**
 * CRM search semantics: filter groups (OR of ANDs), typed comparisons
 * (numbers numerically, dates as epoch milliseconds, text case-insensitively),
 * one sort, offset paging and HubSpot's hard cap of 10,000 results per query.
 */

import { validationError } from './errors.ts';
import { objectTypeInfo, type ObjectTypeName } from './object-types.ts';
import type { PropertyDefinition, PropertyRegistry } from './property-registry.ts';
import { parseTimestamp } from './property-values.ts';
import type { CrmStore, SearchView } from './store.ts';

export const SEARCH_LIMITS = {
  maxLimit: 200,
  /** Results beyond this offset cannot be paged to. */
  maxResults: 10_000,
  maxFilterGroups: 5,
  maxFiltersPerGroup: 6,
  maxFilters: 18,
  maxSorts: 1,
} as const;

export const FILTER_OPERATORS = [
  'EQ',
  'NEQ',
  'LT',
  'LTE',
  'GT',
  'GTE',
  'BETWEEN',
  'IN',
  'NOT_IN',
  'HAS_PROPERTY',
  'NOT_HAS_PROPERTY',
  'CONTAINS_TOKEN',
  'NOT_CONTAINS_TOKEN',
] as const;
export type FilterOperator = (typeof FILTER_OPERATORS)[number];

export interface SearchFilter {
  propertyName: string;
  operator: FilterOperator;
  value?: string;
  highValue?: string;
  values?: string[];
}

export interface SearchSort {
  propertyName: string;
  direction: 'ASCENDING' | 'DESCENDING';
}

export interface SearchQuery {
  filterGroups: Array<{ filters: SearchFilter[] }>;
  sorts: SearchSort[];
  query?: string;
  limit: number;
  /** Offset into the sorted result set. */
  after: number;
}

export interface SearchResult {
  total: number;
  results: SearchView[];
  nextAfter?: number;
}

type Comparable = number | string;

export function runSearch(
  store: CrmStore,
  registry: PropertyRegistry,
  type: ObjectTypeName,
  query: SearchQuery,
  nowMs = Date.now(),
): SearchResult {
  const cap = store.searchMaxResults;
  checkLimits(query, cap);
  const groups = query.filterGroups.map((group) =>
    group.filters.map((filter) => compileFilter(registry, type, filter))
  );
  const matchesText = compileTextQuery(type, query.query);
  const sort = compileSort(registry, type, query.sorts[0]);

  const matches: SearchView[] = [];
  for (const record of store.all(type)) {
    const view = store.searchView(record, nowMs);
    if (!view) continue;
    if (groups.length > 0 && !groups.some((filters) => filters.every((test) => test(view.properties)))) continue;
    if (!matchesText(view.properties)) continue;
    matches.push(view);
  }
  matches.sort(sort);

  const end = Math.min(query.after + query.limit, cap, matches.length);
  const results = matches.slice(query.after, Math.max(end, query.after));
  const nextAfter = query.after + results.length < matches.length ? query.after + results.length : undefined;
  return { total: matches.length, results, nextAfter };
}

function checkLimits(query: SearchQuery, cap: number): void {
  if (query.limit < 0 || query.limit > SEARCH_LIMITS.maxLimit) {
    throw validationError(`limit must be between 0 and ${SEARCH_LIMITS.maxLimit}, got ${query.limit}`);
  }
  if (query.after >= cap) {
    throw validationError(
      `Search results are capped at ${cap} per query; paging to offset ${query.after} is not allowed. Narrow the filters instead.`,
    );
  }
  if (query.filterGroups.length > SEARCH_LIMITS.maxFilterGroups) {
    throw validationError(`At most ${SEARCH_LIMITS.maxFilterGroups} filterGroups are allowed.`);
  }
  let total = 0;
  for (const group of query.filterGroups) {
    if (group.filters.length > SEARCH_LIMITS.maxFiltersPerGroup) {
      throw validationError(`At most ${SEARCH_LIMITS.maxFiltersPerGroup} filters are allowed per filterGroup.`);
    }
    total += group.filters.length;
  }
  if (total > SEARCH_LIMITS.maxFilters) {
    throw validationError(`At most ${SEARCH_LIMITS.maxFilters} filters are allowed in total.`);
  }
  if (query.sorts.length > SEARCH_LIMITS.maxSorts) {
    throw validationError(`Search supports sorting by one property only.`);
  }
}

function requireProperty(registry: PropertyRegistry, type: ObjectTypeName, name: string): PropertyDefinition {
  const definition = registry.get(type, name);
  if (!definition) throw validationError(`Property "${name}" does not exist on ${type}`);
  return definition;
}

function converter(definition: PropertyDefinition): (raw: string, isFilterValue: boolean) => Comparable {
  if (definition.type === 'number') {
    return (raw, isFilterValue) => {
      const value = Number(raw);
      if (Number.isNaN(value) && isFilterValue) {
        throw validationError(`${JSON.stringify(raw)} is not a valid number for ${definition.name}`);
      }
      return value;
    };
  }
  if (definition.type === 'datetime' || definition.type === 'date') {
    return (raw, isFilterValue) => {
      const value = parseTimestamp(raw);
      if (value === undefined) {
        if (isFilterValue) {
          throw validationError(
            `${JSON.stringify(raw)} is not a valid date for ${definition.name}; use epoch milliseconds`,
          );
        }
        return Number.NaN;
      }
      return value;
    };
  }
  return (raw) => raw.toLowerCase();
}

const tokens = (text: string) => text.toLowerCase().split(/[^\p{L}\p{N}@._+-]+/u).filter(Boolean);

function tokenMatcher(pattern: string): (text: string) => boolean {
  const lower = pattern.toLowerCase();
  if (!lower.includes('*')) return (text) => tokens(text).includes(lower) || text.toLowerCase() === lower;
  const regex = new RegExp(
    `^${lower.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`,
  );
  return (text) => regex.test(text.toLowerCase()) || tokens(text).some((token) => regex.test(token));
}

function compileFilter(
  registry: PropertyRegistry,
  type: ObjectTypeName,
  filter: SearchFilter,
): (properties: Record<string, string>) => boolean {
  const definition = requireProperty(registry, type, filter.propertyName);
  const name = filter.propertyName;
  const convert = converter(definition);
  const multi = definition.fieldType === 'checkbox';
  const needValue = () => {
    if (filter.value === undefined) throw validationError(`Operator ${filter.operator} needs a value for ${name}`);
    return convert(filter.value, true);
  };
  const equalsAny = (stored: string, targets: Comparable[]) => {
    const parts = multi ? stored.split(';') : [stored];
    return parts.some((part) => targets.includes(convert(part, false)));
  };

  switch (filter.operator) {
    case 'EQ':
    case 'NEQ': {
      const target = needValue();
      const negate = filter.operator === 'NEQ';
      return (properties) => {
        const stored = properties[name];
        const equal = stored !== undefined && equalsAny(stored, [target]);
        return negate ? !equal : equal;
      };
    }
    case 'IN':
    case 'NOT_IN': {
      if (!filter.values) throw validationError(`Operator ${filter.operator} needs values for ${name}`);
      const targets = filter.values.map((value) => convert(value, true));
      const negate = filter.operator === 'NOT_IN';
      return (properties) => {
        const stored = properties[name];
        const found = stored !== undefined && equalsAny(stored, targets);
        return negate ? !found : found;
      };
    }
    case 'GT':
    case 'GTE':
    case 'LT':
    case 'LTE': {
      const target = needValue();
      const test = {
        GT: (a: Comparable) => a > target,
        GTE: (a: Comparable) => a >= target,
        LT: (a: Comparable) => a < target,
        LTE: (a: Comparable) => a <= target,
      }[filter.operator];
      return (properties) => {
        const stored = properties[name];
        return stored !== undefined && test(convert(stored, false));
      };
    }
    case 'BETWEEN': {
      const low = needValue();
      if (filter.highValue === undefined) throw validationError(`Operator BETWEEN needs a highValue for ${name}`);
      const high = convert(filter.highValue, true);
      return (properties) => {
        const stored = properties[name];
        if (stored === undefined) return false;
        const value = convert(stored, false);
        return value >= low && value <= high;
      };
    }
    case 'HAS_PROPERTY':
      return (properties) => properties[name] !== undefined && properties[name] !== '';
    case 'NOT_HAS_PROPERTY':
      return (properties) => properties[name] === undefined || properties[name] === '';
    case 'CONTAINS_TOKEN':
    case 'NOT_CONTAINS_TOKEN': {
      if (filter.value === undefined) throw validationError(`Operator ${filter.operator} needs a value for ${name}`);
      const match = tokenMatcher(filter.value);
      const negate = filter.operator === 'NOT_CONTAINS_TOKEN';
      return (properties) => {
        const stored = properties[name];
        const found = stored !== undefined && match(stored);
        return negate ? !found : found;
      };
    }
  }
}

function compileTextQuery(
  type: ObjectTypeName,
  query: string | undefined,
): (properties: Record<string, string>) => boolean {
  const needle = query?.trim().toLowerCase();
  if (!needle) return () => true;
  const fields = objectTypeInfo(type).queryProperties;
  return (properties) => fields.some((field) => properties[field]?.toLowerCase().includes(needle));
}

function compileSort(
  registry: PropertyRegistry,
  type: ObjectTypeName,
  sort: SearchSort | undefined,
): (a: SearchView, b: SearchView) => number {
  const byId = (a: SearchView, b: SearchView) => Number(a.record.id) - Number(b.record.id);
  if (!sort) return byId;
  const definition = requireProperty(registry, type, sort.propertyName);
  const convert = converter(definition);
  const sign = sort.direction === 'DESCENDING' ? -1 : 1;
  return (a, b) => {
    const left = a.properties[sort.propertyName];
    const right = b.properties[sort.propertyName];
    // Records without a value sort last in either direction.
    if (left === undefined || right === undefined) {
      if (left === right) return byId(a, b);
      return left === undefined ? 1 : -1;
    }
    const x = convert(left, false);
    const y = convert(right, false);
    if (x < y) return -sign;
    if (x > y) return sign;
    return byId(a, b);
  };
}
