// deno-lint-ignore-file no-explicit-any -- tests assert on raw JSON bodies
/**
 * Holds the simulator to HubSpot's published OpenAPI specs: every route it
 * serves must exist in the specs with that method, its rate-limit class must
 * match the specs' exemptions, and sampled responses must validate against
 * the declared response schemas.
 *
 * The specs live outside the repository, beside the clone: `../shared/specs/hubspot`.
 */

import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Router } from '../common/router.ts';
import { resolveRef, validateSchema } from '../common/spec-validator.ts';
import { OBJECT_TYPE_NAMES, resolveObjectType } from './object-types.ts';
import { API_ROUTES } from './routes/index.ts';
import type { HubSpotSimulator } from './server.ts';
import { startSimulator, TEST_TOKEN } from './test-support.ts';

const SPEC_DIR = new URL('../../../../shared/specs/hubspot/', import.meta.url);

interface SpecOperation {
  file: string;
  document: Record<string, any>;
  method: string;
  path: string;
  segments: string[];
  operation: Record<string, any>;
}

/** Path segments with parameters as `{}` and object types by plural name (`0-3` → `deals`). */
function canonical(path: string): string[] {
  return path.split('/').filter(Boolean).map((segment) =>
    segment.startsWith('{') ? '{}' : resolveObjectType(segment) ?? segment
  );
}

const specOperations: SpecOperation[] = readdirSync(fileURLToPath(SPEC_DIR))
  .filter((file) => file.endsWith('.json'))
  .flatMap((file) => {
    const document = JSON.parse(readFileSync(new URL(file, SPEC_DIR), 'utf8'));
    return Object.entries(document.paths as Record<string, Record<string, any>>).flatMap(([path, item]) =>
      Object.entries(item)
        .filter(([method]) => ['get', 'post', 'put', 'patch', 'delete'].includes(method))
        .map(([method, operation]) => ({
          file,
          document,
          method: method.toUpperCase(),
          path,
          segments: canonical(path),
          operation,
        }))
    );
  });

function findOperation(method: string, concretePath: string): SpecOperation | undefined {
  const segments = canonical(concretePath);
  return specOperations.find((candidate) =>
    candidate.method === method &&
    candidate.segments.length === segments.length &&
    candidate.segments.every((segment, index) => segment === '{}' || segment === segments[index])
  );
}

/** Concrete paths for a route pattern: every served object type for object routes, samples elsewhere. */
function expand(pattern: string, objectTypes?: readonly string[]): string[] {
  const types = pattern.startsWith('/crm/v3/objects/{objectType}') ? objectTypes ?? OBJECT_TYPE_NAMES : ['contacts'];
  return types.map((type) =>
    pattern
      .replace('{objectType}', type)
      .replace('{fromObjectType}', 'contacts')
      .replace('{toObjectType}', 'companies')
      .replace(/\{[^}]+\}/g, '123')
  );
}

/**
 * Routes the simulator serves that the spec collection does not describe.
 * Each entry must match at least one served route and no path in the specs.
 */
const OUTSIDE_SPEC_COLLECTION = [
  { prefix: '/crm/v3/objects/emails', reason: 'no emails spec in the collection; same objects API as notes' },
  { prefix: '/crm/v3/owners', reason: 'owners spec not in the collection' },
  { prefix: '/crm/v3/pipelines', reason: 'pipelines spec not in the collection' },
  { prefix: '/account-info/v3', reason: 'account-info spec not in the collection' },
  { prefix: '/oauth/v1', reason: 'OAuth spec not in the collection' },
];

describe('routes against the specs', () => {
  it('loads the spec collection', () => {
    expect(specOperations.length).toBeGreaterThan(50);
  });

  it('serves only operations the specs define (or knowingly outside the collection)', () => {
    const unexplained: string[] = [];
    for (const route of API_ROUTES) {
      for (const path of expand(route.pattern, route.objectTypes)) {
        if (findOperation(route.method, path)) continue;
        if (OUTSIDE_SPEC_COLLECTION.some(({ prefix }) => path.startsWith(prefix))) continue;
        unexplained.push(`${route.method} ${path}`);
      }
    }
    expect(unexplained).toEqual([]);
  });

  it('lists as outside the collection only paths the specs really lack', () => {
    for (const { prefix } of OUTSIDE_SPEC_COLLECTION) {
      const prefixSegments = canonical(prefix);
      const inSpecs = specOperations.filter((operation) =>
        prefixSegments.every((segment, index) => operation.segments[index] === segment)
      );
      expect(inSpecs.map((operation) => operation.path), prefix).toEqual([]);
      const served = API_ROUTES.some((route) =>
        expand(route.pattern, route.objectTypes).some((path) => path.startsWith(prefix))
      );
      expect(served, prefix).toBe(true);
    }
  });

  it('exempts exactly the operations the specs exempt from the ten-secondly limit', () => {
    const mismatches: string[] = [];
    for (const route of API_ROUTES) {
      for (const path of expand(route.pattern, route.objectTypes)) {
        const operation = findOperation(route.method, path);
        if (!operation) continue;
        const exempt = (operation.operation['x-hubspot-rate-limit-exemptions'] ?? []).includes('ten-secondly');
        if (exempt !== (route.rateLimit !== 'standard')) {
          mismatches.push(`${route.method} ${path} (${route.rateLimit})`);
        }
      }
    }
    expect(mismatches).toEqual([]);
  });
});

describe('the validator', () => {
  it('catches responses that break a schema', () => {
    const operation = findOperation('GET', '/crm/v3/objects/contacts/1')!;
    const schema = operation.operation.responses['200'].content['application/json'].schema;
    const errors = validateSchema(operation.document, schema, {
      id: 5,
      properties: { email: 7 },
      createdAt: 'yesterday',
      archived: false,
    });
    expect(errors).toEqual(expect.arrayContaining([
      '$.id: expected string, got 5',
      '$.properties.email: expected string, got 7',
      '$.createdAt: not a date-time: yesterday',
      '$: missing required "updatedAt"',
    ]));
  });
});

describe('responses against the specs', () => {
  let sim: HubSpotSimulator;
  const samples: Array<{ method: string; path: string; status: number; body: unknown }> = [];

  async function call(method: string, path: string, body?: unknown, token = TEST_TOKEN): Promise<any> {
    const response = await fetch(`${sim.url}${path}`, {
      method,
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    const parsed = text ? JSON.parse(text) : undefined;
    samples.push({ method, path: path.split('?')[0], status: response.status, body: parsed });
    return parsed;
  }

  beforeAll(async () => {
    sim = await startSimulator();
    const type = (category: string, id: number) => [{ associationCategory: category, associationTypeId: id }];

    const company = await call('POST', '/crm/v3/objects/companies', {
      properties: { name: 'Acme', domain: 'acme.test' },
    });
    const contact = await call('POST', '/crm/v3/objects/contacts', {
      properties: { email: 'ann@acme.test', firstname: 'Ann' },
      associations: [{ to: { id: company.id }, types: type('HUBSPOT_DEFINED', 279) }],
    });
    const batch = await call('POST', '/crm/v3/objects/contacts/batch/create', {
      inputs: [
        { properties: { email: 'b1@acme.test' }, objectWriteTraceId: 't1' },
        { properties: { email: 'b2@acme.test' } },
        { properties: { email: 'b3@acme.test', nope: 'x' }, objectWriteTraceId: 't3' },
      ],
    });
    const [b1, b2] = batch.results.map((result: { id: string }) => result.id);
    await call('POST', '/crm/v3/objects/contacts/batch/create', {
      inputs: [{ properties: { email: 'b4@acme.test' } }],
    });
    await call('GET', `/crm/v3/objects/contacts?limit=2&properties=email,phone&associations=companies`);
    await call('GET', `/crm/v3/objects/contacts/${contact.id}?associations=companies&propertiesWithHistory=firstname`);
    await call('PATCH', `/crm/v3/objects/contacts/${contact.id}`, { properties: { lastname: 'Archer' } });
    await call('POST', '/crm/v3/objects/contacts/batch/read', {
      inputs: [{ id: b1 }],
      properties: ['email'],
      propertiesWithHistory: [],
    });
    await call('POST', '/crm/v3/objects/contacts/batch/read', {
      inputs: [{ id: b1 }, { id: '55555' }],
      properties: [],
      propertiesWithHistory: [],
    });
    await call('POST', '/crm/v3/objects/contacts/batch/update', {
      inputs: [{ id: b1, properties: { firstname: 'B' } }],
    });
    await call('POST', '/crm/v3/objects/contacts/batch/update', {
      inputs: [{ id: '55555', properties: { firstname: 'B' } }],
    });
    await call('POST', '/crm/v3/objects/contacts/batch/upsert', {
      inputs: [{ id: 'b2@acme.test', idProperty: 'email', properties: { lastname: 'Two' } }, {
        id: 'new@acme.test',
        idProperty: 'email',
        properties: {},
      }],
    });
    await call('POST', '/crm/v3/objects/contacts/batch/upsert', {
      inputs: [{ id: 'x@acme.test', idProperty: 'email', properties: { lifecyclestage: 'nope' } }],
    });
    await call('POST', '/crm/v3/objects/contacts/search', {
      filterGroups: [{ filters: [{ propertyName: 'email', operator: 'CONTAINS_TOKEN', value: '*@acme.test' }] }],
      sorts: [{ propertyName: 'createdate', direction: 'DESCENDING' }],
      properties: ['email', 'phone'],
      limit: 2,
      after: '0',
    });
    await call('POST', '/crm/v3/objects/contacts/merge', { primaryObjectId: b1, objectIdToMerge: b2 });
    await call('POST', '/crm/v3/objects/contacts/batch/archive', { inputs: [{ id: b1 }] });
    await call('DELETE', `/crm/v3/objects/contacts/${b1}`);
    await call('POST', '/crm/v3/objects/contacts/gdpr-delete', { objectId: 'new@acme.test', idProperty: 'email' });
    await call('GET', '/crm/v3/objects/contacts/99999999');
    await call('POST', '/crm/v3/objects/contacts', { properties: { email: 'ann@acme.test' } });
    await call('GET', '/crm/v3/objects/contacts', undefined, 'wrong-token');

    const deal = await call('POST', '/crm/v3/objects/deals', {
      properties: { dealname: 'Renewal', amount: '900', dealstage: 'qualifiedtobuy', pipeline: 'default' },
      associations: [{ to: { id: company.id }, types: type('HUBSPOT_DEFINED', 341) }],
    });
    await call('GET', `/crm/v3/objects/deals/${deal.id}?associations=companies`);
    await call('POST', '/crm/v3/objects/deals/search', { filterGroups: [], limit: 5 });
    const note = await call('POST', '/crm/v3/objects/notes', {
      properties: { hs_timestamp: '1700000000000', hs_note_body: 'hello' },
      associations: [{ to: { id: contact.id }, types: type('HUBSPOT_DEFINED', 202) }],
    });
    await call('GET', `/crm/v3/objects/notes/${note.id}`);
    await call('POST', '/crm/v3/objects/calls/batch/create', {
      inputs: [{ properties: { hs_timestamp: '2024-01-01T10:00:00Z', hs_call_title: 'Intro' } }],
    });
    await call('GET', '/crm/v3/objects/meetings');

    await call('POST', '/crm/v4/associations/contacts/companies/batch/create', {
      inputs: [{ from: { id: contact.id }, to: { id: company.id }, types: type('HUBSPOT_DEFINED', 1) }],
    });
    await call('POST', '/crm/v4/associations/contacts/companies/batch/create', {
      inputs: [{ from: { id: '42' }, to: { id: company.id }, types: type('HUBSPOT_DEFINED', 279) }],
    });
    await call('POST', '/crm/v4/associations/contacts/companies/batch/read', { inputs: [{ id: contact.id }] });
    await call('POST', '/crm/v4/associations/contacts/companies/batch/read', {
      inputs: [{ id: contact.id }, { id: '42' }],
    });
    await call('POST', '/crm/v4/associations/deals/contacts/batch/associate/default', {
      inputs: [{ from: { id: deal.id }, to: { id: contact.id } }],
    });
    await call('GET', `/crm/v4/objects/contacts/${contact.id}/associations/companies`);
    await call(
      'PUT',
      `/crm/v4/objects/deals/${deal.id}/associations/companies/${company.id}`,
      type('HUBSPOT_DEFINED', 5),
    );
    await call('PUT', `/crm/v4/objects/notes/${note.id}/associations/default/deals/${deal.id}`);
    await call('POST', '/crm/v4/associations/contacts/companies/batch/labels/archive', {
      inputs: [{ from: { id: contact.id }, to: { id: company.id }, types: type('HUBSPOT_DEFINED', 1) }],
    });
    await call('DELETE', `/crm/v4/objects/deals/${deal.id}/associations/contacts/${contact.id}`);
    await call('POST', '/crm/v4/associations/contacts/companies/batch/archive', {
      inputs: [{ from: { id: contact.id }, to: [{ id: company.id }] }],
    });

    await call('GET', '/crm/v3/properties/contacts');
    await call('GET', '/crm/v3/properties/contacts/groups');
    await call('POST', '/crm/v3/properties/contacts/groups', { name: 'sync', label: 'Sync' });
    await call('GET', '/crm/v3/properties/contacts/groups/sync');
    await call('PATCH', '/crm/v3/properties/contacts/groups/sync', { label: 'Sync fields' });
    await call('POST', '/crm/v3/properties/contacts', {
      name: 'tier',
      label: 'Tier',
      type: 'enumeration',
      fieldType: 'select',
      groupName: 'sync',
      options: [{ label: 'Gold', value: 'gold', hidden: false }],
    });
    await call('GET', '/crm/v3/properties/contacts/tier');
    await call('PATCH', '/crm/v3/properties/contacts/tier', { label: 'Customer tier' });
    await call('POST', '/crm/v3/properties/contacts/batch/create', {
      inputs: [
        { name: 'region', label: 'Region', type: 'string', fieldType: 'text', groupName: 'sync' },
        { name: 'email', label: 'Email', type: 'string', fieldType: 'text', groupName: 'contactinformation' },
      ],
    });
    await call('POST', '/crm/v3/properties/contacts/batch/read', {
      inputs: [{ name: 'region' }, { name: 'email' }],
      archived: false,
      dataSensitivity: 'non_sensitive',
    });
    await call('POST', '/crm/v3/properties/contacts/batch/read', { inputs: [{ name: 'nothing' }], archived: false });
    await call('DELETE', '/crm/v3/properties/contacts/tier');
    await call('POST', '/crm/v3/properties/contacts/batch/archive', { inputs: [{ name: 'region' }] });
    await call('DELETE', '/crm/v3/properties/contacts/groups/sync');
    await call('POST', '/crm/v3/properties/contacts', {
      name: 'bad',
      label: 'Bad',
      type: 'string',
      fieldType: 'text',
      groupName: 'none',
    });

    // Webhook settings of a public app, with its developer API key.
    const app = `/webhooks/v3/1160452`;
    const key = '?hapikey=sim-developer-key';
    await call('PUT', `${app}/settings${key}`, {
      targetUrl: 'https://example.test/hooks',
      throttling: { maxConcurrentRequests: 10, period: 'SECONDLY' },
    });
    await call('GET', `${app}/settings${key}`);
    const subscription = await call('POST', `${app}/subscriptions${key}`, {
      eventType: 'contact.propertyChange',
      propertyName: 'email',
      active: true,
    });
    await call('GET', `${app}/subscriptions${key}`);
    await call('DELETE', `${app}/subscriptions/${subscription.id}${key}`);
    await call('DELETE', `${app}/settings${key}`);
    await call('GET', `${app}/settings?hapikey=wrong`);
  });
  afterAll(() => sim.close());

  it('answers every sampled call with a status and body the specs declare', () => {
    const problems: string[] = [];
    for (const sample of samples) {
      const found = findOperation(sample.method, sample.path);
      if (!found) {
        problems.push(`${sample.method} ${sample.path}: no operation in the specs`);
        continue;
      }
      const declared = found.operation.responses[String(sample.status)];
      if (!declared && sample.status < 300) {
        problems.push(`${sample.method} ${sample.path}: status ${sample.status} not declared`);
        continue;
      }
      let response = declared ?? found.operation.responses.default;
      if (response.$ref) response = resolveRef(found.document, response.$ref);
      const content =
        Object.values((response.content ?? {}) as Record<string, { schema?: Record<string, unknown> }>)[0];
      if (!content?.schema) {
        if (sample.body !== undefined) {
          problems.push(`${sample.method} ${sample.path}: ${sample.status} should have no body`);
        }
        continue;
      }
      // HubSpot sends null for requested properties without a value (the official client types them `string | null`).
      const allowNull = (path: string) => /\.properties\.[^.]+$/.test(path);
      for (const error of validateSchema(found.document, content.schema, sample.body, { allowNull })) {
        problems.push(`${sample.method} ${sample.path} ${sample.status} ${error}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('samples cover every served operation the specs define, with success and error statuses', () => {
    const router = new Router(API_ROUTES);
    const sampled = new Set<string>();
    for (const sample of samples) {
      const match = router.match(sample.method, sample.path);
      if (match && 'route' in match && sample.status < 300) sampled.add(`${match.route.method} ${match.route.pattern}`);
    }
    const covered = API_ROUTES.filter((route) =>
      expand(route.pattern, route.objectTypes).some((path) => findOperation(route.method, path))
    );
    const missing = covered.map((route) => `${route.method} ${route.pattern}`).filter((key) => !sampled.has(key));
    expect(missing).toEqual([]);
    const statuses = new Set(samples.map((sample) => sample.status));
    for (const status of [200, 201, 204, 207, 400, 401, 404, 409]) expect(statuses, String(status)).toContain(status);
  });
});
