import { describe, expect, it, test } from 'vitest';
import {
  hubSpotAssociationBatchReadSchema,
  hubSpotBatchResponseSchema,
  hubSpotBatchUpsertResponseSchema,
  hubSpotObjectPageSchema,
  hubSpotObjectSchema,
  hubSpotSearchPageSchema,
} from './schemas.ts';
import callsPage from './fixtures/calls.page.json' with { type: 'json' };
import companiesPage from './fixtures/companies.page.json' with { type: 'json' };
import contactsBatchCreate207 from './fixtures/contacts.batch-create-207.json' with { type: 'json' };
import contactsPage from './fixtures/contacts.page.json' with { type: 'json' };
import dealsCompaniesRead from './fixtures/deals-companies.associations-batch-read.json' with { type: 'json' };
import dealsPage from './fixtures/deals.page.json' with { type: 'json' };
import emailsPage from './fixtures/emails.page.json' with { type: 'json' };
import meetingsPage from './fixtures/meetings.page.json' with { type: 'json' };
import notesPage from './fixtures/notes.page.json' with { type: 'json' };

describe('recorded responses parse', () => {
  test.each([
    ['contacts.page', contactsPage],
    ['companies.page', companiesPage],
    ['deals.page', dealsPage],
    ['notes.page', notesPage],
    ['calls.page', callsPage],
    ['meetings.page', meetingsPage],
    ['emails.page', emailsPage],
  ])('%s', (_name, fixture) => {
    const page = hubSpotObjectPageSchema.parse(fixture);
    expect(page.results.length).toBeGreaterThan(0);
    for (const object of page.results) {
      expect(object.id).toMatch(/^\d+$/);
      for (const value of Object.values(object.properties)) {
        expect(value === null || typeof value === 'string').toBe(true);
      }
    }
  });

  it('keeps the next-page cursor', () => {
    expect(hubSpotObjectPageSchema.parse(contactsPage).paging?.next?.after).toBe('152');
  });

  it('reads a 207 batch create with its per-input errors', () => {
    const response = hubSpotBatchResponseSchema.parse(contactsBatchCreate207);
    expect(response.results.map((result) => result.id)).toEqual(['201']);
    expect(response.numErrors).toBe(1);
    expect(response.errors?.[0]).toMatchObject({
      category: 'VALIDATION_ERROR',
      context: { objectWriteTraceId: ['local-8a0d'] },
    });
  });

  it('reads a v4 association batch read, with numeric ids made strings', () => {
    const response = hubSpotAssociationBatchReadSchema.parse(dealsCompaniesRead);
    expect(response.results[0].from.id).toBe('7001');
    expect(response.results[0].to[1]).toEqual({
      toObjectId: '9845651234',
      associationTypes: [
        { category: 'HUBSPOT_DEFINED', typeId: 341, label: null },
        { category: 'HUBSPOT_DEFINED', typeId: 5, label: 'Primary' },
      ],
    });
  });
});

describe('hubSpotObjectSchema', () => {
  const base = { createdAt: '2024-05-01T00:00:00Z', updatedAt: '2024-05-01T00:00:00Z' };

  it('is tolerant: numeric ids and values become strings, unknown fields are dropped', () => {
    expect(hubSpotObjectSchema.parse({
      ...base,
      id: 42,
      properties: { amount: 100, hs_is_closed: false, dealname: null },
      url: 'https://app.hubspot.com/contacts/1/deal/42',
    })).toEqual({ ...base, id: '42', properties: { amount: '100', hs_is_closed: 'false', dealname: null } });
  });

  it('still needs an id, properties and the two timestamps', () => {
    expect(hubSpotObjectSchema.safeParse({ ...base, properties: {} }).success).toBe(false);
    expect(hubSpotObjectSchema.safeParse({ id: '1', properties: {} }).success).toBe(false);
    expect(hubSpotObjectSchema.safeParse({ ...base, id: '1' }).success).toBe(false);
  });

  it('reads upsert results and search pages', () => {
    const object = { ...base, id: '1', properties: {}, archived: false };
    expect(
      hubSpotBatchUpsertResponseSchema.parse({
        status: 'COMPLETE',
        results: [{ ...object, new: true }],
        startedAt: base.createdAt,
        completedAt: base.updatedAt,
      }).results[0].new,
    ).toBe(true);
    expect(hubSpotSearchPageSchema.parse({ total: 1, results: [object] }).total).toBe(1);
  });
});
