// Seeded fuzz cases for the two webhook endpoints: valid deliveries and their
// mutations (flipped bytes, truncated bodies, wrong types, huge numbers,
// unicode, missing or wrong headers, bad base64, wrong content types,
// methods, oversized bodies) plus random payloads. Each case says what the
// endpoint must do with it: `reject` (a 4xx), `duplicate` (a replay: 200 with
// nothing new stored) or `any` (a mutation that may still be a valid
// delivery; it only must not be a 5xx). The same seed gives the same cases.
import { createPrng, type Prng } from '../../../scripts/simulators/common/prng.ts';
import { signHubSpotV3 } from '../../functions/_shared/providers/hubspot/webhook-signature.ts';
import { basicAuthorization } from '../../functions/_shared/providers/pipedrive/webhook-auth.ts';
import { DEFAULT_MAX_BODY_BYTES as HUBSPOT_MAX_BODY } from '../../functions/_shared/webhooks/hubspot-intake.ts';
import { DEFAULT_MAX_BODY_BYTES as PIPEDRIVE_MAX_BODY } from '../../functions/_shared/webhooks/pipedrive-intake.ts';

export type Endpoint = 'hubspot' | 'pipedrive';
export type Expectation = 'reject' | 'duplicate' | 'any';

export interface FuzzCase {
  endpoint: Endpoint;
  /** What was done to a valid delivery, for the failure report. */
  label: string;
  expect: Expectation;
  method: string;
  search: string;
  headers: Record<string, string>;
  body?: string | Uint8Array;
}

export interface FuzzTargets {
  hubspot: { url: string; portalId: number; clientSecret: string };
  pipedrive: { url: string; companyId: number; user: string; password: string };
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const hexDigits = '0123456789abcdef';
const uuid = (prng: Prng) =>
  [8, 4, 4, 4, 12].map((n) => Array.from({ length: n }, () => hexDigits[prng.int(16)]).join('')).join('-');

const UNICODE = ['é', 'Zoë', '日本語', '😀', '👩‍👩‍👧', '\u202e', '\u200b', '\ufeff', 'ﷺ', 'Ω≈ç√', '\u0301', '𝕏'];
const randomUnicode = (prng: Prng) => Array.from({ length: 1 + prng.int(4) }, () => prng.pick(UNICODE)).join('');

function randomJson(prng: Prng, depth = 0): Json {
  const kind = prng.int(depth > 3 ? 5 : 7);
  switch (kind) {
    case 0:
      return null;
    case 1:
      return prng.chance(0.5);
    case 2:
      return prng.pick([0, -1, 1.5, 2 ** 53 + 2, 1e308, -1e-308, prng.int(1_000_000)]);
    case 3:
      return prng.pick(['', 'x', randomUnicode(prng), 'a'.repeat(prng.int(3_000)), '2026-11-25T20:00:00Z']);
    case 4:
      return String(prng.int(1_000_000_000));
    case 5:
      return Array.from({ length: prng.int(5) }, () => randomJson(prng, depth + 1));
    default: {
      const keys = ['meta', 'data', 'previous', 'eventId', 'portalId', 'id', 'company_id', randomUnicode(prng)];
      return Object.fromEntries(
        Array.from({ length: prng.int(5) }, () => [prng.pick(keys), randomJson(prng, depth + 1)]),
      );
    }
  }
}

const PRINTABLE = ' !"#$%&\'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~';
const randomHeaderValue = (prng: Prng) =>
  Array.from({ length: prng.int(80) }, () => PRINTABLE[prng.int(PRINTABLE.length)]).join('').trim();

// ------------------------------------------------------------ valid deliveries

function hubSpotEvents(prng: Prng, portalId: number, now: number): JsonObject[] {
  return Array.from({ length: 1 + prng.int(5) }, () => ({
    eventId: prng.int(2_000_000_000),
    subscriptionId: 11,
    portalId,
    appId: 4242,
    occurredAt: now - prng.int(60_000),
    subscriptionType: prng.pick(['contact.propertyChange', 'company.creation', 'deal.deletion']),
    attemptNumber: prng.int(3),
    objectId: prng.int(10_000_000),
    propertyName: 'email',
    propertyValue: `person${prng.int(1e6)}@example.com`,
    changeSource: 'CRM_UI',
  }));
}

function pipedriveEvent(prng: Prng, companyId: number, now: number): JsonObject {
  const action = prng.pick(['create', 'change', 'delete'] as const);
  const record = {
    id: prng.int(1e6),
    name: `Person ${prng.int(1e6)}`,
    emails: [{ value: 'p@example.com', primary: true, label: 'work' }],
  };
  return {
    meta: {
      action,
      change_source: prng.pick(['app', 'api']),
      company_id: String(companyId),
      correlation_id: uuid(prng),
      entity_id: String(record.id),
      entity: prng.pick(['person', 'organization', 'deal', 'activity', 'note']),
      id: uuid(prng),
      is_bulk_edit: false,
      timestamp: new Date(now - prng.int(60_000)).toISOString(),
      type: 'general',
      user_id: '1',
      version: '2.0',
      webhook_id: '3',
      webhook_owner_id: '1',
      host: 'fuzz.pipedrive.com',
      attempt: 1 + prng.int(4),
    },
    data: action === 'delete' ? null : record,
    previous: action === 'create' ? null : { name: 'Before' },
  };
}

// ------------------------------------------------------------------ mutations

/** Invalid values per field, by the field's type; every one breaks the schema. */
const INVALID = {
  int: ['12', 1.5, true, [], {}, '', null],
  text: [12, true, [], {}, null, ''],
};
const HUBSPOT_REQUIRED = ['eventId', 'portalId', 'occurredAt', 'subscriptionType'];
const HUBSPOT_FIELDS: Record<string, Json[]> = {
  eventId: INVALID.int,
  portalId: [...INVALID.int, -5, 0],
  occurredAt: [...INVALID.int, -1],
  objectId: [...INVALID.int, -1],
  attemptNumber: [...INVALID.int, -1],
  subscriptionType: [...INVALID.text, 'contact', 'a.b.c', 'x'.repeat(120)],
  propertyName: [...INVALID.text, 'x'.repeat(201)],
};
const stale = (now: number, ms: number) => new Date(now + ms).toISOString();
const pipedriveMetaFields = (now: number, companyId: number): Record<string, Json[]> => ({
  action: ['merged', '', 1, null, [], 'CREATE'],
  entity: ['', 'Person', 1, null, 'a'.repeat(60), 'per son'],
  entity_id: [42, '', null, '../1', 'a b'],
  id: ['', 'not-a-uuid', 42, null, '00000000000000000000000000000000'],
  company_id: [companyId, '', 'abc', null, '-1', '1.5'],
  timestamp: ['', 'yesterday', now, null, '2026-13-01T00:00:00Z', stale(now, -2 * 86_400_000), stale(now, 3_600_000)],
  version: ['1.0', 2, null, ''],
  attempt: ['1', 0, 1.5, null],
});
const PIPEDRIVE_REQUIRED_META = ['action', 'entity', 'entity_id', 'id', 'company_id', 'timestamp', 'version'];

const nested = (depth: number): Json => {
  let value: Json = 'bottom';
  for (let i = 0; i < depth; i++) value = i % 2 ? [value] : { n: value };
  return value;
};

interface Mutation {
  label: string;
  /** Whether the result is invalid whatever else holds (a 4xx is due). */
  breaks: boolean;
  text: string;
}

/** A structural mutation of a HubSpot batch or a Pipedrive event. */
function mutateStructure(prng: Prng, endpoint: Endpoint, payload: Json, now: number, companyId: number): Mutation {
  const copy = structuredClone(payload);
  const hubspot = endpoint === 'hubspot';
  const target = hubspot
    ? (copy as JsonObject[])[prng.int((copy as JsonObject[]).length)]
    : ((copy as JsonObject).meta as JsonObject);
  const fields = hubspot ? HUBSPOT_FIELDS : pipedriveMetaFields(now, companyId);
  const kind = prng.int(10);
  if (kind <= 2) {
    const field = prng.pick(Object.keys(fields));
    const value = prng.pick(fields[field]);
    target[field] = value;
    return { label: `${field} = ${JSON.stringify(value)?.slice(0, 40)}`, breaks: true, text: JSON.stringify(copy) };
  }
  if (kind === 3) {
    const field = prng.pick(hubspot ? HUBSPOT_REQUIRED : PIPEDRIVE_REQUIRED_META);
    delete target[field];
    return { label: `without ${field}`, breaks: true, text: JSON.stringify(copy) };
  }
  if (kind === 4) {
    const field = hubspot ? prng.pick(['eventId', 'occurredAt', 'portalId']) : 'attempt';
    const huge = prng.pick(['1e400', '-1e400', '123456789012345678901234567890', '1e-400']);
    const text = JSON.stringify(copy).replace(new RegExp(`"${field}":-?[0-9.e+-]+`), `"${field}":${huge}`);
    // 1e-400 is 0: a valid attemptNumber/eventId for HubSpot, an invalid attempt for Pipedrive
    return { label: `${field} = ${huge}`, breaks: huge !== '1e-400' || !hubspot, text };
  }
  if (kind === 5) {
    const where = hubspot ? target : ((copy as JsonObject).data as JsonObject | null) ?? target;
    const field = hubspot ? 'propertyValue' : 'name';
    where[field] = `${where[field] ?? ''}${randomUnicode(prng)}`;
    return { label: 'unicode in a value', breaks: false, text: JSON.stringify(copy) };
  }
  if (kind === 6) {
    const bad = prng.pick(['nul\u0000byte', 'lone\ud800surrogate', nested(100)] as Json[]);
    target[hubspot ? 'propertyValue' : 'extra'] = bad;
    const label = typeof bad === 'string' ? 'a string jsonb cannot hold' : 'nesting 100 deep';
    // a nested propertyValue also breaks HubSpot's schema (it is a string)
    return { label, breaks: true, text: JSON.stringify(copy) };
  }
  if (kind === 7) {
    target[`x_${randomUnicode(prng)}`] = randomJson(prng);
    return { label: 'an extra field', breaks: false, text: JSON.stringify(copy) };
  }
  if (kind === 8) {
    const text = hubspot ? JSON.stringify((copy as JsonObject[])[0]) : JSON.stringify([copy]);
    return { label: hubspot ? 'an event, not a batch' : 'an event in an array', breaks: true, text };
  }
  const text = hubspot ? JSON.stringify(Array.from({ length: 101 }, () => target)) : JSON.stringify(randomJson(prng));
  return { label: hubspot ? '101 events' : 'a random JSON value', breaks: true, text };
}

/** A byte-level mutation of the body text. */
function mutateBytes(prng: Prng, text: string): { label: string; breaks: boolean; body: string | Uint8Array } {
  const bytes = new TextEncoder().encode(text);
  const kind = prng.int(5);
  if (kind === 0) {
    const flipped = bytes.slice();
    const at = prng.int(flipped.length);
    flipped[at] ^= 1 << prng.int(8);
    return { label: `bit flipped at byte ${at}`, breaks: false, body: flipped };
  }
  if (kind === 1) {
    const at = prng.int(bytes.length);
    return { label: `truncated to ${at} bytes`, breaks: true, body: bytes.slice(0, at) };
  }
  if (kind === 2) return { label: 'empty body', breaks: true, body: '' };
  if (kind === 3) {
    return {
      label: 'random bytes',
      breaks: true,
      body: Uint8Array.from({ length: 1 + prng.int(300) }, () => prng.int(256)),
    };
  }
  return {
    label: 'not UTF-8',
    breaks: true,
    body: Uint8Array.from([...bytes.slice(0, 5), 0xc3, 0x28, ...bytes.slice(5)]),
  };
}

/** Bodies over the limit cost their size in upload: a few per endpoint show the 413. */
const MAX_OVERSIZED = 4;
export const OVERSIZED_LABEL = 'over the size limit';

// ------------------------------------------------------------------ requests

async function hubSpotRequest(
  targets: FuzzTargets,
  body: string | Uint8Array,
  options: { search?: string; secret?: string; timestamp?: number } = {},
) {
  const timestamp = String(options.timestamp ?? Date.now());
  const search = options.search ?? '';
  const signature = await signHubSpotV3({
    method: 'POST',
    uri: targets.hubspot.url + search,
    rawBody: body,
    timestamp,
    clientSecret: options.secret ?? targets.hubspot.clientSecret,
  });
  return {
    search,
    headers: {
      'content-type': 'application/json',
      'x-hubspot-signature-v3': signature,
      'x-hubspot-request-timestamp': timestamp,
    } as Record<string, string>,
  };
}

function pipedriveHeaders(targets: FuzzTargets): Record<string, string> {
  const { user, password } = targets.pipedrive;
  return {
    'content-type': 'application/json',
    authorization: basicAuthorization(user, password),
    'user-agent': 'Pipedrive Webhooks',
  };
}

/** A valid delivery: what the provider would send. */
export async function validDelivery(
  prng: Prng,
  endpoint: Endpoint,
  targets: FuzzTargets,
): Promise<FuzzCase & { payload: Json }> {
  const now = Date.now();
  if (endpoint === 'hubspot') {
    const payload = hubSpotEvents(prng, targets.hubspot.portalId, now);
    const body = JSON.stringify(payload);
    return {
      endpoint,
      label: 'valid',
      expect: 'any',
      method: 'POST',
      ...(await hubSpotRequest(targets, body)),
      body,
      payload,
    };
  }
  const payload = pipedriveEvent(prng, targets.pipedrive.companyId, now);
  return {
    endpoint,
    label: 'valid',
    expect: 'any',
    method: 'POST',
    search: '',
    headers: pipedriveHeaders(targets),
    body: JSON.stringify(payload),
    payload,
  };
}

/** A header-level mutation of a valid delivery; every one of them is refused. */
function mutateHeaders(prng: Prng, base: FuzzCase, targets: FuzzTargets): FuzzCase {
  const headers = { ...base.headers };
  const kind = prng.int(6);
  if (kind === 0) {
    const name = prng.pick(Object.keys(headers).filter((h) => h !== 'user-agent'));
    delete headers[name];
    return { ...base, label: `without ${name}`, expect: 'reject', headers };
  }
  if (kind === 1) {
    headers['content-type'] = prng.pick([
      'text/plain',
      'application/xml',
      'multipart/form-data; boundary=x',
      'application/json-seq',
      'application/x-www-form-urlencoded',
      randomHeaderValue(prng) || 'x/y',
    ]);
    return { ...base, label: `content-type ${headers['content-type']}`, expect: 'reject', headers };
  }
  if (kind === 2) {
    const method = prng.pick(['GET', 'PUT', 'PATCH', 'DELETE']);
    return {
      ...base,
      label: `method ${method}`,
      expect: 'reject',
      method,
      body: method === 'GET' ? undefined : base.body,
    };
  }
  if (base.endpoint === 'pipedrive') {
    const { user, password } = targets.pipedrive;
    const value = prng.pick([
      basicAuthorization(user, `${password}x`),
      basicAuthorization(user, password.slice(0, -1)),
      basicAuthorization(`${user} `, password),
      basicAuthorization('admin', 'admin'),
      basicAuthorization(user, ''),
      `Basic ${'*'.repeat(1 + prng.int(40))}`,
      `Basic ${btoa(`${user}:${password}`).slice(0, -2)}`,
      `Bearer ${btoa(`${user}:${password}`)}`,
      `Basic ${'QUFB'.repeat(400)}`,
      randomHeaderValue(prng) || 'x',
    ]);
    headers.authorization = value;
    return { ...base, label: `authorization ${value.slice(0, 40)}`, expect: 'reject', headers };
  }
  const signature = headers['x-hubspot-signature-v3'];
  const timestamp = Number(headers['x-hubspot-request-timestamp']);
  if (kind === 3) {
    headers['x-hubspot-signature-v3'] = prng.pick([
      signature.slice(0, -4),
      `${signature.slice(0, -2)}==`,
      '!!!not-base64!!!',
      btoa('x'.repeat(32)),
      signature.replace(/[A-Za-z]/, (c) => (c === 'A' ? 'B' : 'A')),
      randomHeaderValue(prng) || 'x',
    ]);
    return { ...base, label: `signature ${headers['x-hubspot-signature-v3'].slice(0, 30)}`, expect: 'reject', headers };
  }
  if (kind === 4) {
    headers['x-hubspot-request-timestamp'] = prng.pick([
      String(timestamp - 301_000),
      String(timestamp + 301_000),
      `${timestamp}.5`,
      new Date(timestamp).toISOString(),
      '-1',
      '9'.repeat(30),
    ]);
    return { ...base, label: `timestamp ${headers['x-hubspot-request-timestamp']}`, expect: 'reject', headers };
  }
  return { ...base, label: 'query string not signed', expect: 'reject', search: `?x=${prng.int(1000)}` };
}

/**
 * A valid delivery with a mutated body. HubSpot's is signed after the
 * mutation (only the content is wrong) with the given chance, else before
 * it (tampered with in transit, which the signature must catch).
 */
async function mutatedCase(
  prng: Prng,
  targets: FuzzTargets,
  original: FuzzCase,
  mutated: { label: string; breaks: boolean; body: string | Uint8Array },
  resignChance: number,
): Promise<FuzzCase> {
  const resign = original.endpoint === 'hubspot' && prng.chance(resignChance);
  const request = resign ? await hubSpotRequest(targets, mutated.body) : original;
  const breaks = mutated.breaks || (original.endpoint === 'hubspot' && !resign);
  return {
    ...original,
    ...request,
    label: `${mutated.label}${resign ? ', re-signed' : ''}`,
    expect: breaks ? 'reject' : 'any',
    body: mutated.body,
  };
}

/**
 * `count` cases per endpoint after the given valid deliveries (which the
 * caller sends first, so that their replays are replays).
 */
export async function fuzzCases(
  seed: number,
  targets: FuzzTargets,
  originals: (FuzzCase & { payload: Json })[],
  count: number,
): Promise<FuzzCase[]> {
  const prng = createPrng(seed);
  const cases: FuzzCase[] = [];
  const oversized = { hubspot: 0, pipedrive: 0 };
  for (const endpoint of ['hubspot', 'pipedrive'] as const) {
    const mine = originals.filter((o) => o.endpoint === endpoint);
    const companyId = targets.pipedrive.companyId;
    for (let i = 0; i < count; i++) {
      const original = prng.pick(mine);
      const roll = prng.int(100);
      if (roll < 3) {
        cases.push({ ...original, label: 'replay of a stored delivery', expect: 'duplicate' });
      } else if (roll < 30) {
        cases.push(mutateHeaders(prng, original, targets));
      } else if (roll < 50) {
        const mutated = mutateBytes(prng, original.body as string);
        cases.push(await mutatedCase(prng, targets, original, mutated, 0.5));
      } else if (roll < 90) {
        const mutated = mutateStructure(prng, endpoint, original.payload, Date.now(), companyId);
        cases.push(await mutatedCase(prng, targets, original, { ...mutated, body: mutated.text }, 0.8));
      } else if (roll < 99 || oversized[endpoint]++ >= MAX_OVERSIZED) {
        const body = prng.chance(0.5)
          ? JSON.stringify(randomJson(prng))
          : Uint8Array.from({ length: prng.int(200) }, () => prng.int(256));
        const request = endpoint === 'hubspot'
          ? await hubSpotRequest(targets, body)
          : { search: '', headers: pipedriveHeaders(targets) };
        cases.push({
          endpoint,
          label: 'random payload, valid headers',
          expect: 'reject',
          method: 'POST',
          ...request,
          body,
        });
      } else {
        const limit = endpoint === 'hubspot' ? HUBSPOT_MAX_BODY : PIPEDRIVE_MAX_BODY;
        const body = `${' '.repeat(limit)}${original.body}`;
        const request = endpoint === 'hubspot' ? await hubSpotRequest(targets, body) : original;
        cases.push({ ...original, ...request, label: OVERSIZED_LABEL, expect: 'reject', body });
      }
    }
  }
  return prng.shuffle(cases);
}
