import { beforeEach, describe, expect, it } from 'vitest';
import { HubSpotApiError } from './errors.ts';
import { runSearch, type SearchFilter, type SearchQuery } from './search.ts';
import { createSimulatorState, resolveOptions, type SimulatorState } from './state.ts';

let state: SimulatorState;
const user = { changeSource: 'CRM_UI' as const, sourceId: 'userId:1' };

beforeEach(() => {
  state = createSimulatorState(resolveOptions());
  const rows: Array<Record<string, string>> = [
    { name: 'Alpha', numberofemployees: '5', annualrevenue: '1000.5', createdate: '2024-01-01T00:00:00Z' },
    { name: 'Beta', numberofemployees: '40', createdate: '2024-02-01T00:00:00Z' },
    { name: 'Gamma', numberofemployees: '300', annualrevenue: '99', createdate: '2024-03-01T00:00:00Z' },
  ];
  for (const row of rows) state.store.create('companies', row, user);
});

function names(filters: SearchFilter[], extra: Partial<SearchQuery> = {}): string[] {
  const result = runSearch(state.store, state.registry, 'companies', {
    filterGroups: filters.length ? [{ filters }] : [],
    sorts: [],
    limit: 100,
    after: 0,
    ...extra,
  });
  return result.results.map((view) => view.properties.name);
}

describe('runSearch', () => {
  it('compares numbers numerically, not as text', () => {
    expect(names([{ propertyName: 'numberofemployees', operator: 'GT', value: '9' }])).toEqual(['Beta', 'Gamma']);
    expect(names([{ propertyName: 'annualrevenue', operator: 'LT', value: '1000' }])).toEqual(['Gamma']);
  });

  it('compares dates as instants, accepting epoch milliseconds and ISO dates', () => {
    const february = String(Date.parse('2024-02-01T00:00:00Z'));
    expect(names([{ propertyName: 'createdate', operator: 'GTE', value: february }])).toEqual(['Beta', 'Gamma']);
    expect(names([{ propertyName: 'createdate', operator: 'LT', value: '2024-02-01' }])).toEqual(['Alpha']);
  });

  it('sorts missing values last in both directions', () => {
    const sorted = (direction: 'ASCENDING' | 'DESCENDING') =>
      names([], { sorts: [{ propertyName: 'annualrevenue', direction }] });
    expect(sorted('ASCENDING')).toEqual(['Gamma', 'Alpha', 'Beta']);
    expect(sorted('DESCENDING')).toEqual(['Alpha', 'Gamma', 'Beta']);
  });

  it('matches a free-text query against the searchable properties', () => {
    expect(names([], { query: 'amm' })).toEqual(['Gamma']);
  });

  it('NOT_IN keeps records without the property', () => {
    expect(names([{ propertyName: 'annualrevenue', operator: 'NOT_IN', values: ['99'] }])).toEqual(['Alpha', 'Beta']);
  });

  it('throws 400s for a bad number, a missing highValue and too many filter groups', () => {
    const expect400 = (run: () => unknown) => {
      try {
        run();
      } catch (error) {
        expect(error).toBeInstanceOf(HubSpotApiError);
        expect((error as HubSpotApiError).status).toBe(400);
        return;
      }
      throw new Error('expected a 400');
    };
    expect400(() => names([{ propertyName: 'numberofemployees', operator: 'EQ', value: 'ten' }]));
    expect400(() => names([{ propertyName: 'numberofemployees', operator: 'BETWEEN', value: '1' }]));
    expect400(() =>
      runSearch(state.store, state.registry, 'companies', {
        filterGroups: Array.from({ length: 6 }, () => ({ filters: [] })),
        sorts: [],
        limit: 10,
        after: 0,
      })
    );
  });
});
