// End to end: the `health` function over HTTP through the local gateway,
// with the gateway's JWT verification in front of it.
import { describe, expect, it } from 'vitest';
import { functionUrl, stackEnv } from './stack-env.ts';

const env = stackEnv();

describe('health function through the gateway', () => {
  it('reports the database, the applied migrations and the extensions', async () => {
    const res = await fetch(functionUrl(env, 'health'), { headers: { authorization: `Bearer ${env.anonKey}` } });
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.status).toBe('ok');
    expect(body.database.reachable).toBe(true);
    expect(body.database.serverVersion).toMatch(/^15\./);
    expect(body.migrations.count).toBeGreaterThanOrEqual(7);
    expect(body.migrations.applied.map((m: { name: string }) => m.name)).toContain('tenancy');
    expect(Object.keys(body.extensions)).toEqual(expect.arrayContaining(['pg_cron', 'pg_net', 'pgmq', 'supabase_vault']));
    expect(body.extensions.pgmq).toBe('1.4.4');
  });

  it('rejects a request without a JWT (verify_jwt)', async () => {
    const res = await fetch(functionUrl(env, 'health'));
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ code: 401, message: 'Missing authorization header' });
  });

  it('rejects a JWT signed with another secret', async () => {
    const [head, body] = env.anonKey.split('.');
    const res = await fetch(functionUrl(env, 'health'), { headers: { authorization: `Bearer ${head}.${body}.AAAA` } });
    expect(res.status).toBe(401);
    expect((await res.json()).message).toBe('Invalid JWT');
  });

  it('answers a method it does not support with 405 and a JSON error', async () => {
    const res = await fetch(functionUrl(env, 'health'), { method: 'POST', headers: { authorization: `Bearer ${env.anonKey}` } });
    expect(res.status).toBe(405);
    expect((await res.json()).error.code).toBe('method_not_allowed');
  });

  it('answers 404 for a function that does not exist', async () => {
    const res = await fetch(functionUrl(env, 'no-such-function'), { headers: { authorization: `Bearer ${env.anonKey}` } });
    expect(res.status).toBe(404);
  });
});
