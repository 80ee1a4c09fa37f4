// Fuzzing both webhook endpoints through the gateway: valid deliveries first,
// then 10,000 seeded random and mutated requests (webhook-fuzz-cases.ts), 32
// at a time. No answer may be a 5xx or a dropped connection, every request
// that is invalid by construction gets a 4xx, a replay stores nothing, and
// the database holds exactly what the 2xx answers say was accepted. After the
// storm both functions still take a valid delivery.
// CRM_SYNC_FUZZ_SEED=<n> replays a run's cases (the seed is in every failure
// message); the times in them (signature timestamps, event times) are the run's own.
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrng } from '../../../scripts/simulators/common/prng.ts';
import { functionUrl, stackEnv } from './stack-env.ts';
import {
  type Endpoint,
  type FuzzCase,
  fuzzCases,
  type FuzzTargets,
  OVERSIZED_LABEL,
  validDelivery,
} from './webhook-fuzz-cases.ts';
import { createHttpSender } from './webhook-http.ts';
import { connectBothProviders, dropTestConnection, storedFor, type TestConnection } from './webhook-connections.ts';

const seed = Number(process.env.CRM_SYNC_FUZZ_SEED ?? 20261125);
const CASES_PER_ENDPOINT = 5_000;
const ORIGINALS_PER_ENDPOINT = 40;
const CONCURRENCY = 32;

const env = stackEnv();
const sql = postgres(env.dbUrl, { max: 2, onnotice: () => {} });
const random = createPrng(seed);
const targets: FuzzTargets = {
  hubspot: {
    url: functionUrl(env, 'hubspot-webhook'),
    portalId: 800_000_000 + random.int(99_000_000),
    clientSecret: `fuzz-client-secret-${random.int(1e9)}`,
  },
  pipedrive: {
    url: functionUrl(env, 'pipedrive-webhook'),
    companyId: 9_000_000 + random.int(900_000),
    user: 'crm-sync',
    password: `fuzz-password-${random.int(1e9)}`,
  },
};
const connections: TestConnection[] = [];
const connectionIds = () => connections.map((c) => c.connectionId);

interface Answer {
  case: FuzzCase;
  status: number;
  accepted: number;
  error?: string;
}

const sender = createHttpSender(CONCURRENCY);

async function send(fuzz: FuzzCase): Promise<Answer> {
  const { status, text, error } = await sender.send(targets[fuzz.endpoint].url + fuzz.search, fuzz);
  const accepted = status === 200 ? Number(JSON.parse(text).accepted) : 0;
  return { case: fuzz, status, accepted, ...(error ? { error } : {}) };
}

async function sendAll(cases: FuzzCase[]): Promise<Answer[]> {
  const answers: Answer[] = new Array(cases.length);
  let next = 0;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < cases.length) {
      const i = next++;
      answers[i] = await send(cases[i]);
    }
  }));
  return answers;
}

const describeCase = (a: Answer) =>
  `${a.case.endpoint} ${a.case.method} "${a.case.label}" (expect ${a.case.expect}) → ${a.status}${
    a.error ? ` ${a.error}` : ''
  }`;
const failing = (answers: Answer[], bad: (a: Answer) => boolean) =>
  answers.filter(bad).slice(0, 10).map(describeCase).join('\n');

beforeAll(async () => {
  connections.push(...(await connectBothProviders(sql, targets)));
});

afterAll(async () => {
  sender.close();
  for (const connection of connections) await dropTestConnection(sql, connection);
  await sql.end();
});

describe(`webhook endpoints under fuzzing (seed ${seed})`, () => {
  it(
    `answer ${2 * CASES_PER_ENDPOINT} random and mutated requests without a 5xx and store nothing invalid`,
    async () => {
      const before = await storedFor(sql, connectionIds());
      const originals = [];
      for (const endpoint of ['hubspot', 'pipedrive'] as Endpoint[]) {
        for (let i = 0; i < ORIGINALS_PER_ENDPOINT; i++) originals.push(await validDelivery(random, endpoint, targets));
      }
      const first = await sendAll(originals);
      expect(failing(first, (a) => a.status !== 200 || a.accepted === 0), `seed ${seed}`).toBe('');

      const cases = await fuzzCases(seed, targets, originals, CASES_PER_ENDPOINT);
      const started = Date.now();
      const cpuBefore = process.cpuUsage();
      const answers = await sendAll(cases);
      const elapsedMs = Date.now() - started;
      const clientCpu = process.cpuUsage(cpuBefore);
      const byStatus: Record<string, number> = {};
      for (const a of answers) byStatus[a.status] = (byStatus[a.status] ?? 0) + 1;
      console.log(
        `fuzz seed ${seed}: ${answers.length} requests in ${elapsedMs} ms (sender CPU ${
          Math.round((clientCpu.user + clientCpu.system) / 1000)
        } ms); answers by status ${JSON.stringify(byStatus)}`,
      );

      // A body over the limit is refused from its Content-Length, without reading it: the connection may then close
      // while the client is still uploading, which the client sees as a reset rather than the 413.
      const cutOff = (a: Answer) => a.status === 0 && a.case.label === OVERSIZED_LABEL;
      expect(
        failing(answers, (a) => (a.status === 0 && !cutOff(a)) || a.status >= 500),
        `seed ${seed}: 5xx or no answer`,
      )
        .toBe('');
      expect(
        failing(answers, (a) => a.case.expect === 'reject' && !cutOff(a) && (a.status < 400 || a.status >= 500)),
        `seed ${seed}: accepted although invalid`,
      ).toBe('');
      expect(
        failing(answers, (a) => a.case.expect === 'duplicate' && (a.status !== 200 || a.accepted !== 0)),
        `seed ${seed}: a replay stored something`,
      ).toBe('');
      expect(answers.filter((a) => a.case.expect === 'reject').length).toBeGreaterThan(CASES_PER_ENDPOINT);
      expect(answers.filter((a) => a.case.expect === 'duplicate').length).toBeGreaterThan(100);

      const accepted = [...first, ...answers].reduce((sum, a) => sum + a.accepted, 0);
      const after = await storedFor(sql, connectionIds());
      expect(after, `seed ${seed}: what is stored matches what was acknowledged`).toEqual({
        queued: before.queued + accepted,
        receipts: before.receipts + accepted,
      });

      // Still answering: a fresh valid delivery to each endpoint is stored.
      const fresh = await sendAll([
        await validDelivery(random, 'hubspot', targets),
        await validDelivery(random, 'pipedrive', targets),
      ]);
      expect(fresh.map((a) => [a.status, a.accepted > 0])).toEqual([[200, true], [200, true]]);
    },
    120_000,
  );
});
