import { describe, expect, it } from 'vitest';
import { ProviderError } from '../providers/adapter.ts';
import { BudgetExhaustedError } from '../sync/rate-budget.ts';
import { classify } from './job-runner.ts';

describe('classify: how a failure ends a job run', () => {
  it('waits for the rate budget instead of spinning', () => {
    expect(classify(new BudgetExhaustedError(4_000))).toMatchObject({ kind: 'wait', waitMs: 4_000 });
    expect(classify(new ProviderError('429', 'rate_limited', 7_000))).toMatchObject({ kind: 'wait', waitMs: 7_000 });
  });

  it('pauses on a CRM that is down or refuses the credentials, with the message', () => {
    expect(classify(new ProviderError('HubSpot 503: down', 'unavailable'))).toEqual({ kind: 'paused', message: 'HubSpot 503: down' });
    expect(classify(new ProviderError('HubSpot refused', 'unauthorized')).kind).toBe('paused');
  });

  it('stops quietly when the job is no longer this run\'s, and fails on anything else', () => {
    expect(classify(Object.assign(new Error('job is no longer held'), { code: '40001' }))).toEqual({ kind: 'lost' });
    expect(classify(new ProviderError('HubSpot 400', 'invalid'))).toEqual({ kind: 'failed', message: 'HubSpot 400' });
    expect(classify(new TypeError('x is undefined'))).toEqual({ kind: 'failed', message: 'x is undefined' });
  });
});
