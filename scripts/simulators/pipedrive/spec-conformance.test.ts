// deno-lint-ignore-file no-explicit-any -- tests assert on raw JSON bodies
/**
 * Holds the simulator to Pipedrive's published OpenAPI specs (v2 and v1):
 * every route it serves must exist there with that method, v2 token costs
 * must be the spec's `x-token-cost`, and sampled requests and responses must
 * validate against the declared schemas.
 *
 * The official specs have defects of their own. They are listed below as
 * KNOWN_DEFECTS, each a narrow correction of one schema at one place, and
 * the test fails when a listed defect is no longer needed (the spec was
 * fixed, or the simulator stopped producing the value) instead of the
 * validator being loosened for everything.
 *
 * The specs live outside the repository, beside the clone: `../shared/specs/pipedrive`.
 */

import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { Router } from '../common/router.ts';
import { validateSchema } from '../common/spec-validator.ts';
import { API_ROUTES } from './routes/index.ts';
import type { PipedriveRoute } from './routes/route.ts';
import type { PipedriveSimulator } from './server.ts';
import { startSimulator, TEST_TOKEN } from './test-support.ts';

type Schema = Record<string, any>;
type Api = 'v1' | 'v2';

const SPEC_DIR = new URL('../../../../shared/specs/pipedrive/', import.meta.url);
const specs: Record<Api, Schema> = {
  v2: parse(readFileSync(new URL('openapi-v2.yaml', SPEC_DIR), 'utf8'), { maxAliasCount: -1 }),
  v1: parse(readFileSync(new URL('openapi-v1.yaml', SPEC_DIR), 'utf8'), { maxAliasCount: -1 }),
};
const PREFIX: Record<Api, string> = { v2: '/api/v2', v1: '/v1' };

interface SpecOperation {
  api: Api;
  method: string;
  path: string;
  segments: string[];
  operation: Schema;
}

const segmentsOf = (path: string) =>
  path.split('/').filter(Boolean).map((part) => (part.startsWith('{') ? '{}' : part));

const specOperations: SpecOperation[] = (['v2', 'v1'] as const).flatMap((api) =>
  Object.entries(specs[api].paths as Record<string, Schema>).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => ['get', 'post', 'put', 'patch', 'delete'].includes(method))
      .map(([method, operation]) => ({
        api,
        method: method.toUpperCase(),
        path,
        segments: segmentsOf(path),
        operation: operation as Schema,
      }))
  )
);

/** The spec operation for a served path (`/api/v2/persons/12` → v2 `GET /persons/{id}`); literal segments win. */
function findOperation(api: Api, method: string, servedPath: string): SpecOperation | undefined {
  const segments = servedPath.slice(PREFIX[api].length).split('/').filter(Boolean);
  const candidates = specOperations.filter((candidate) =>
    candidate.api === api && candidate.method === method && candidate.segments.length === segments.length &&
    candidate.segments.every((segment, index) => segment === '{}' || segment === segments[index])
  );
  return candidates.sort((a, b) =>
    a.segments.filter((s) => s === '{}').length - b.segments.filter((s) => s === '{}').length
  )[0];
}

const operationKey = (operation: SpecOperation) => `${operation.api} ${operation.method} ${operation.path}`;

// ------------------------------------------------------------- known defects

interface KnownDefect {
  name: string;
  /** `facts`: listed in shared/facts/pipedrive.md; `found`: met while building the simulator. */
  source: 'facts' | 'found';
  why: string;
  direction: 'request' | 'response';
  /** `api METHOD /spec/path` of the operations it concerns. */
  operations: string[];
  /** Value paths it concerns. */
  at: RegExp;
  /** Whether this schema really has the defect. */
  present: (schema: Schema) => boolean;
  fix: (schema: Schema) => Schema;
  /** For defects that list fields: which field a value path is. */
  fields?: string[];
}

const nullable = (schema: Schema) => ({ ...schema, nullable: true });
const notNullable = (schema: Schema) => schema.nullable !== true && (schema.type !== undefined || schema.allOf);
const fieldsAt = (prefix: string, fields: string[]) =>
  new RegExp(
    `^${prefix.replace(/[.$[\]]/g, (c) => `\\${c}`).replace('\\[\\]', '(\\[\\d+\\])?')}\\.(${fields.join('|')})$`,
  );

/** Fields that are null while unset (as Pipedrive answers) but that the spec does not mark `nullable`. */
const UNSET_NULL: Array<{ operations: string[]; prefix: string; fields: string[] }> = [
  {
    operations: ['v2 GET /persons', 'v2 GET /persons/{id}', 'v2 POST /persons', 'v2 PATCH /persons/{id}'],
    prefix: '$.data[]',
    fields: ['org_id', 'picture_id', 'last_name'],
  },
  {
    operations: [
      'v2 GET /organizations',
      'v2 GET /organizations/{id}',
      'v2 POST /organizations',
      'v2 PATCH /organizations/{id}',
    ],
    prefix: '$.data[]',
    fields: ['address'],
  },
  {
    operations: ['v2 GET /deals', 'v2 GET /deals/{id}', 'v2 POST /deals', 'v2 PATCH /deals/{id}'],
    prefix: '$.data[]',
    fields: ['person_id', 'org_id', 'stage_change_time', 'won_time', 'lost_time', 'expected_close_date'],
  },
  {
    operations: ['v2 GET /activities', 'v2 GET /activities/{id}', 'v2 POST /activities', 'v2 PATCH /activities/{id}'],
    prefix: '$.data[]',
    fields: [
      'deal_id',
      'lead_id',
      'person_id',
      'org_id',
      'project_id',
      'due_date',
      'due_time',
      'duration',
      'marked_as_done_time',
      'location',
      'conference_meeting_client',
      'conference_meeting_url',
      'conference_meeting_id',
      'public_description',
      'priority',
      'note',
    ],
  },
  {
    operations: ['v1 GET /notes', 'v1 GET /notes/{id}', 'v1 POST /notes', 'v1 PUT /notes/{id}'],
    prefix: '$.data[]',
    fields: ['deal', 'deal_id', 'lead_id', 'organization', 'org_id', 'person', 'person_id'],
  },
  {
    operations: ['v1 GET /notes', 'v1 GET /notes/{id}', 'v1 POST /notes', 'v1 PUT /notes/{id}'],
    prefix: '$.data[].user',
    fields: ['icon_url'],
  },
  { operations: ['v2 GET /persons/search'], prefix: '$.data.items[].item', fields: ['organization'] },
  { operations: ['v2 GET /organizations/search'], prefix: '$.data.items[].item', fields: ['address'] },
];

const LIST_OPERATIONS = ['persons', 'organizations', 'deals', 'activities', 'pipelines', 'stages'].map((name) =>
  `v2 GET /${name}`
).concat(['v2 GET /persons/search', 'v2 GET /organizations/search', 'v2 GET /deals/search']);

const FIELD_OPERATIONS = ['personFields', 'organizationFields', 'dealFields', 'activityFields'].flatMap((name) => [
  `v1 GET /${name}`,
  `v1 GET /${name}/{id}`,
  `v1 POST /${name}`,
]);

const KNOWN_DEFECTS: KnownDefect[] = [
  {
    name: 'POST /persons and /organizations require title',
    source: 'facts',
    why: 'the body schemas were copied from deals; persons and organizations have a name, no title',
    direction: 'request',
    operations: ['v2 POST /persons', 'v2 POST /organizations'],
    at: /^\$$/,
    present: (schema) => Array.isArray(schema.required) && schema.required.includes('title'),
    fix: (schema) => ({ ...schema, required: schema.required.filter((name: string) => name !== 'title') }),
  },
  {
    name: 'emails[].label and phones[].label typed boolean',
    source: 'facts',
    why: 'labels are strings ("work", "home"); the response schemas say so',
    direction: 'request',
    operations: ['v2 POST /persons', 'v2 PATCH /persons/{id}'],
    at: /^\$\.(emails|phones)\[\d+\]\.label$/,
    present: (schema) => schema.type === 'boolean',
    fix: (schema) => ({ ...schema, type: 'string' }),
  },
  {
    name: 'additional_data.next_cursor not nullable',
    source: 'facts',
    why: 'next_cursor is null on the last page, as its own description says',
    direction: 'response',
    operations: LIST_OPERATIONS,
    at: /^\$\.additional_data\.next_cursor$/,
    present: notNullable,
    fix: nullable,
  },
  ...UNSET_NULL.map(({ operations, prefix, fields }): KnownDefect => ({
    name: `unset ${operations[0].split(' ')[2]} fields are null: ${prefix}`,
    source: 'found',
    why: 'Pipedrive answers null for unset references, dates and texts; the spec omits nullable on them',
    direction: 'response',
    operations,
    at: fieldsAt(prefix, fields),
    present: notNullable,
    fix: nullable,
    fields,
  })),
  {
    name: 'field_type is restricted to the creatable types',
    source: 'found',
    why: 'a field is allOf(the schema for creating custom fields, one listing every type), so standard fields ' +
      '(int, stage, status, deal, ...) fail the first part; the second part still checks the type',
    direction: 'response',
    operations: FIELD_OPERATIONS,
    at: /^\$\.data(\[\d+\])?\.field_type$/,
    present: (schema) =>
      Array.isArray(schema.allOf) && schema.allOf.length === 1 && !schema.allOf[0].enum?.includes('int'),
    fix: ({ allOf: _allOf, ...schema }) => ({ ...schema, type: 'string' }),
  },
  {
    name: 'fields add_time/update_time declared date-time',
    source: 'found',
    why: 'they are "YYYY-MM-DD HH:MM:SS", as the spec\'s own examples show',
    direction: 'response',
    operations: FIELD_OPERATIONS,
    at: /^\$\.data(\[\d+\])?\.(add_time|update_time)$/,
    present: (schema) => schema.format === 'date-time',
    fix: ({ format: _format, ...schema }) => schema,
  },
  {
    name: 'webhook event_action lists only the v1 actions',
    source: 'found',
    why:
      'webhooks v2 subscribe with create/change/delete (the official client v33 sends these); the enum still lists added/updated/merged/deleted',
    direction: 'request',
    operations: ['v1 POST /webhooks'],
    at: /^\$\.event_action$/,
    present: (schema) => Array.isArray(schema.enum) && !schema.enum.includes('create'),
    fix: (schema) => ({ ...schema, enum: [...schema.enum, 'create', 'change', 'delete'] }),
  },
];

// ------------------------------------------------------------------- tests

describe('routes against the specs', () => {
  it('loads both specs', () => {
    expect(specOperations.filter((operation) => operation.api === 'v2').length).toBeGreaterThan(50);
    expect(specOperations.filter((operation) => operation.api === 'v1').length).toBeGreaterThan(200);
  });

  it('serves only operations the specs define, with that method', () => {
    const missing = API_ROUTES.filter((route) => !findOperation(route.api, route.method, route.pattern))
      .map((route) => `${route.method} ${route.pattern}`);
    expect(missing).toEqual([]);
  });

  it("charges v2 calls the spec's x-token-cost and v1 calls the documented v1 costs", () => {
    const mismatches: string[] = [];
    for (const route of API_ROUTES) {
      const operation = findOperation(route.api, route.method, route.pattern)!;
      const specCost = operation.operation['x-token-cost'];
      if (route.api === 'v2' && specCost !== route.cost) {
        mismatches.push(`${route.method} ${route.pattern}: ${route.cost} != ${specCost}`);
      }
      if (route.api === 'v1' && specCost !== undefined) {
        mismatches.push(`${route.method} ${route.pattern}: v1 cost in spec`);
      }
      if ((route.rateLimit === 'search') !== route.pattern.endsWith('/search')) {
        mismatches.push(`${route.method} ${route.pattern}: rate-limit class ${route.rateLimit}`);
      }
    }
    expect(mismatches).toEqual([]);
  });

  it('reads the documented costs from the spec: get 1, list 10, create/update 5, delete 3, search 20', () => {
    const cost = (method: string, path: string) =>
      findOperation('v2', method, `/api/v2${path}`)!.operation['x-token-cost'];
    expect([
      cost('GET', '/persons/1'),
      cost('GET', '/persons'),
      cost('POST', '/persons'),
      cost('PATCH', '/persons/1'),
      cost('DELETE', '/persons/1'),
      cost('GET', '/persons/search'),
    ]).toEqual([1, 10, 5, 5, 3, 20]);
  });
});

describe('the validator with known defects', () => {
  it('still catches a response that breaks the schema', () => {
    const operation = findOperation('v2', 'GET', '/api/v2/persons/1')!;
    const schema = operation.operation.responses['200'].content['application/json'].schema;
    const errors = validateSchema(specs.v2, schema, {
      success: true,
      data: { id: '7', emails: [{ value: 'a@b.c', primary: 'yes' }], org_id: null, is_deleted: 0 },
    });
    expect(errors).toEqual(expect.arrayContaining([
      '$.data.id: expected integer, got "7"',
      '$.data.emails[0].primary: expected boolean',
      '$.data.org_id: expected integer, got null',
      '$.data.is_deleted: expected boolean',
    ]));
  });
});

interface Sample {
  api: Api;
  method: string;
  path: string;
  status: number;
  request?: unknown;
  response: unknown;
}

describe('requests and responses against the specs', () => {
  let sim: PipedriveSimulator;
  const samples: Sample[] = [];

  async function call(method: string, path: string, body?: unknown, token = TEST_TOKEN): Promise<any> {
    const response = await fetch(`${sim.url}${path}`, {
      method,
      headers: { 'x-api-token': token, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    const parsed = text ? JSON.parse(text) : undefined;
    const api: Api = path.startsWith('/api/v2') ? 'v2' : 'v1';
    samples.push({ api, method, path: path.split('?')[0], status: response.status, request: body, response: parsed });
    return parsed;
  }

  beforeAll(async () => {
    sim = await startSimulator();
    const fields = (await fetch(`${sim.url}/_sim/fields`).then((response) => response.json())) as any;
    const stage = sim.state.fields.customFieldByName('person', 'stage')!;

    const org = (await call('POST', '/api/v2/organizations', { name: 'Acme' })).data;
    await call('POST', '/api/v2/organizations', {
      name: 'Globex',
      address: { value: 'Berlin, Germany', locality: 'Berlin' },
      custom_fields: { [fields.organization.domain]: 'globex.test', [fields.organization.revenue]: { value: 10 } },
    });
    await call('GET', '/api/v2/organizations?limit=1');
    await call('GET', `/api/v2/organizations/${org.id}`);
    await call('PATCH', `/api/v2/organizations/${org.id}`, { name: 'Acme Inc' });

    const ann = (await call('POST', '/api/v2/persons', {
      name: 'Ann Archer',
      org_id: org.id,
      emails: [{ value: 'ann@acme.test', primary: true, label: 'work' }],
      phones: [{ value: '+1 555 0100', label: 'mobile' }],
      custom_fields: { [stage.key]: stage.options![0].id },
    })).data;
    const cher = (await call('POST', '/api/v2/persons', { name: 'Cher' })).data;
    const dup = (await call('POST', '/api/v2/persons', { name: 'Ann A.', org_id: org.id })).data;
    await call('GET', '/api/v2/persons?limit=2');
    await call('GET', `/api/v2/persons?sort_by=update_time&sort_direction=desc&custom_fields=${stage.key}`);
    await call('GET', `/api/v2/persons/${ann.id}`);
    await call('PATCH', `/api/v2/persons/${cher.id}`, { emails: [{ value: 'cher@music.test', label: 'home' }] });
    await call('GET', '/api/v2/persons/search?term=ann');
    await call('GET', '/api/v2/persons/search?term=cher&fields=name');
    await call('GET', '/api/v2/organizations/search?term=acme');
    await call('GET', '/api/v2/organizations/search?term=globex');

    const deal = (await call('POST', '/api/v2/deals', { title: 'Renewal', value: 500 })).data;
    await call('POST', '/api/v2/deals', {
      title: 'Expansion',
      person_id: ann.id,
      org_id: org.id,
      stage_id: 3,
      expected_close_date: '2026-01-31',
      probability: 40,
    });
    await call('GET', '/api/v2/deals');
    await call('GET', `/api/v2/deals/${deal.id}`);
    await call('PATCH', `/api/v2/deals/${deal.id}`, { status: 'won' });
    await call('GET', '/api/v2/deals/search?term=renewal');

    const activity = (await call('POST', '/api/v2/activities', { subject: 'Intro call', type: 'call' })).data;
    await call('POST', '/api/v2/activities', {
      type: 'meeting',
      due_date: '2026-02-01',
      due_time: '10:00',
      duration: '01:00',
      person_id: ann.id,
      deal_id: deal.id,
    });
    await call('GET', '/api/v2/activities');
    await call('GET', `/api/v2/activities/${activity.id}`);
    await call('PATCH', `/api/v2/activities/${activity.id}`, { done: true });

    await call('GET', '/api/v2/pipelines');
    await call('GET', '/api/v2/pipelines/1');
    await call('GET', '/api/v2/stages?pipeline_id=1');
    await call('GET', '/api/v2/stages/2');

    const note = (await call('POST', '/v1/notes', { content: 'Met at the fair', person_id: ann.id })).data;
    await call('POST', '/v1/notes', { content: 'Deal note', deal_id: deal.id, org_id: org.id, pinned_to_deal_flag: 1 });
    await call('GET', '/v1/notes?limit=1');
    await call('GET', `/v1/notes/${note.id}`);
    await call('PUT', `/v1/notes/${note.id}`, { content: 'Met at the fair, again' });

    for (const name of ['personFields', 'organizationFields', 'dealFields', 'activityFields']) {
      await call('GET', `/v1/${name}`);
    }
    for (const name of ['personFields', 'organizationFields', 'dealFields']) {
      const field = (await call('POST', `/v1/${name}`, {
        name: 'tier',
        field_type: 'enum',
        options: [{ label: 'Gold' }, { label: 'Silver' }],
      })).data;
      await call('GET', `/v1/${name}/${field.id}`);
      await call('DELETE', `/v1/${name}/${field.id}`);
    }

    await call('GET', '/v1/users');
    await call('GET', '/v1/users/me');
    await call('GET', `/v1/users/${sim.state.users.me().id}`);

    const hook = (await call('POST', '/v1/webhooks', {
      subscription_url: 'http://127.0.0.1:9/hooks',
      event_action: 'create',
      event_object: 'person',
      name: 'persons',
      version: '2.0',
      http_auth_user: 'user',
      http_auth_password: 'secret',
    })).data;
    await call('GET', '/v1/webhooks');
    await call('POST', '/v1/webhooks', { subscription_url: 'nope', event_action: '*', event_object: '*' });
    await call('DELETE', `/v1/webhooks/${hook.id}`);
    await call('DELETE', `/v1/webhooks/${hook.id}`);

    await call('PUT', `/v1/persons/${dup.id}/merge`, { merge_with_id: ann.id });
    const other = (await call('POST', '/api/v2/organizations', { name: 'Acme (dup)' })).data;
    await call('PUT', `/v1/organizations/${other.id}/merge`, { merge_with_id: org.id });

    await call('DELETE', `/v1/notes/${note.id}`);
    await call('DELETE', `/api/v2/activities/${activity.id}`);
    await call('DELETE', `/api/v2/deals/${deal.id}`);
    await call('DELETE', `/api/v2/persons/${cher.id}`);
    const gone = (await call('POST', '/api/v2/organizations', { name: 'Gone' })).data;
    await call('DELETE', `/api/v2/organizations/${gone.id}`);

    // Errors: 400, 401, 404 and 429.
    await call('POST', '/api/v2/deals', { value: 1 });
    await call('GET', '/api/v2/persons/999999');
    await call('GET', '/v1/notes/999999');
    await call('GET', '/v1/users/me', undefined, 'wrong-token');
    await call('GET', '/api/v2/persons', undefined, 'wrong-token');
    await fetch(`${sim.url}/_sim/rate-limit`, {
      method: 'PUT',
      body: JSON.stringify({ dailyBudget: 1, resetWindows: true }),
    });
    await call('GET', '/api/v2/deals');
  }, 30_000);
  afterAll(() => sim.close());

  const needed = new Set<string>();

  function overrides(operation: SpecOperation, direction: KnownDefect['direction']) {
    const key = operationKey(operation);
    const defects = KNOWN_DEFECTS.filter((defect) => defect.direction === direction && defect.operations.includes(key));
    return (path: string, schema: Schema, value: unknown): Schema => {
      for (const defect of defects) {
        if (!defect.at.test(path) || !defect.present(schema)) continue;
        const fixed = defect.fix(schema);
        // Counted only where the spec as published rejects the value and the correction accepts it.
        if (validateSchema(specs[operation.api], schema, value).length > 0) {
          const field = defect.fields?.find((name) => path.endsWith(`.${name}`));
          needed.add(field ? `${defect.name}: ${field}` : defect.name);
        }
        return fixed;
      }
      return schema;
    };
  }

  function validate(operation: SpecOperation, schema: Schema, value: unknown, direction: KnownDefect['direction']) {
    return validateSchema(specs[operation.api], schema, value, { override: overrides(operation, direction) });
  }

  /** The spec's declared error bodies, for errors an operation does not declare itself. */
  const genericError = () =>
    findOperation('v2', 'POST', '/api/v2/deals/1/convert/lead')!.operation.responses['404'].content['application/json']
      .schema;
  const unauthorized = () =>
    findOperation('v1', 'GET', '/v1/users/me')!.operation.responses['401'].content['application/json'].schema;

  it('answers every sampled call with a status and body the specs declare', () => {
    const problems: string[] = [];
    for (const sample of samples) {
      const operation = findOperation(sample.api, sample.method, sample.path);
      if (!operation) {
        problems.push(`${sample.method} ${sample.path}: no operation in the specs`);
        continue;
      }
      const declared = operation.operation.responses?.[String(sample.status)];
      if (!declared && sample.status < 300) {
        problems.push(`${sample.method} ${sample.path}: status ${sample.status} not declared`);
        continue;
      }
      const schema = declared?.content?.['application/json']?.schema ??
        (sample.status === 401 ? unauthorized() : genericError());
      for (const error of validate(operation, schema, sample.response, 'response')) {
        problems.push(`${sample.method} ${sample.path} ${sample.status} ${error}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('sends request bodies the specs describe', () => {
    const problems: string[] = [];
    for (const sample of samples) {
      if (sample.request === undefined || sample.status === 401) continue;
      const operation = findOperation(sample.api, sample.method, sample.path)!;
      const schema = operation.operation.requestBody?.content?.['application/json']?.schema;
      if (!schema) {
        problems.push(`${sample.method} ${sample.path}: no JSON request body in the spec`);
        continue;
      }
      if (sample.status === 400) continue; // the bad requests are bad on purpose
      for (const error of validate(operation, schema, sample.request, 'request')) {
        problems.push(`${sample.method} ${sample.path} request ${error}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('needs every listed known defect, and each listed field of it', () => {
    const expected = KNOWN_DEFECTS.flatMap((defect) =>
      defect.fields ? defect.fields.map((field) => `${defect.name}: ${field}`) : [defect.name]
    );
    expect([...needed].sort()).toEqual(expected.sort());
    expect(KNOWN_DEFECTS.filter((defect) => defect.source === 'facts').map((defect) => defect.name)).toHaveLength(3);
  });

  it('samples every served route with a success, and 400, 401, 404 and 429 answers', () => {
    const router = new Router<PipedriveRoute>(API_ROUTES);
    const sampled = new Set<string>();
    for (const sample of samples) {
      const match = router.match(sample.method, sample.path);
      if (match && 'route' in match && sample.status < 300) sampled.add(`${match.route.method} ${match.route.pattern}`);
    }
    const missing = API_ROUTES.map((route) => `${route.method} ${route.pattern}`).filter((key) => !sampled.has(key));
    expect(missing).toEqual([]);
    const statuses = new Set(samples.map((sample) => sample.status));
    for (const status of [200, 201, 400, 401, 404, 429]) expect(statuses, String(status)).toContain(status);
  });
});
