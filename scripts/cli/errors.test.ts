import { describe, expect, it } from 'vitest';
import { CliError, errorJson, formatError, UsageError } from './errors.mjs';
import { describeInvokeError, hintFor, projectFromEnv } from './functions-client.mjs';

const local = { name: 'connections', url: 'http://127.0.0.1:54321', local: true };
const hosted = { name: 'connections', url: 'https://abc.supabase.co', local: false };

/** An error shaped like supabase-js's FunctionsHttpError (context is the Response). */
function httpError(status: number, body: unknown) {
  const error = new Error('Edge Function returned a non-2xx status code') as Error & { context: Response };
  error.name = 'FunctionsHttpError';
  error.context = new Response(typeof body === 'string' ? body : JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  return error;
}

function fetchError(cause: unknown) {
  const error = new Error('Failed to send a request to the Edge Function') as Error & { context: unknown };
  error.name = 'FunctionsFetchError';
  error.context = cause;
  return error;
}

describe('formatError', () => {
  it('prints the message, the details one per line, and how to fix it', () => {
    const error = new CliError('invalid connect request', {
      details: [{ path: ['access_token'], message: 'Too small' }, { path: [], message: 'bad body' }],
      hint: 'fix the values listed above',
    });
    expect(formatError(error)).toBe('error: invalid connect request\n  - access_token: Too small\n  - bad body\n  how to fix: fix the values listed above');
  });

  it('keeps JSON output to code, message, status, details and hint', () => {
    expect(errorJson(new CliError('nope', { code: 'invalid_credentials', status: 422, hint: 'check the token' })))
      .toEqual({ error: { code: 'invalid_credentials', message: 'nope', status: 422, hint: 'check the token' } });
    expect(errorJson(new UsageError('missing --tenant'))).toEqual({ error: { code: 'usage', message: 'missing --tenant' } });
    expect(errorJson(new Error('boom'))).toEqual({ error: { code: 'internal', message: 'boom' } });
  });
});

describe('describeInvokeError', () => {
  it('uses the function\'s own error message and code, with a fix', async () => {
    const error = await describeInvokeError(httpError(422, { error: { code: 'invalid_credentials', message: 'HubSpot refused the access token: HubSpot 401' } }), local);
    expect(error).toMatchObject({ message: 'HubSpot refused the access token: HubSpot 401', code: 'invalid_credentials', status: 422 });
    expect(error.hint).toMatch(/access token/);
  });

  it('keeps validation issues as details', async () => {
    const issues = [{ path: ['tenant_id'], message: 'Invalid UUID' }];
    const error = await describeInvokeError(httpError(400, { error: { code: 'invalid_request', message: 'invalid connect request', details: issues } }), local);
    expect(error.details).toEqual(issues);
    expect(formatError(error)).toContain('  - tenant_id: Invalid UUID');
  });

  it('reads the gateway\'s error shape too', async () => {
    const error = await describeInvokeError(httpError(401, { code: 401, message: 'Invalid JWT' }), hosted);
    expect(error.message).toBe('Invalid JWT');
    expect(error.hint).toMatch(/SUPABASE_SERVICE_ROLE_KEY is not a key of this project/);
    const missing = await describeInvokeError(httpError(404, { code: 'NOT_FOUND', message: 'Requested function "connections" was not found' }), hosted);
    expect(missing.hint).toBe('deploy the functions: npx supabase functions deploy connections');
  });

  it('says what came back when the answer is not JSON', async () => {
    const error = await describeInvokeError(httpError(502, '<html>Bad gateway</html>'), hosted);
    expect(error.message).toBe('connections answered HTTP 502: <html>Bad gateway</html>');
    expect(error.code).toBe('http_502');
  });

  it('asks whether the stack is running when nothing answers locally', async () => {
    const cause = Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } });
    const error = await describeInvokeError(fetchError(cause), local);
    expect(formatError(error)).toBe('error: cannot reach http://127.0.0.1:54321 (ECONNREFUSED)\n'
      + '  how to fix: is the stack running? npm start (or set SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY for a hosted project)');
    expect((await describeInvokeError(fetchError(cause), hosted)).hint).toBe('check SUPABASE_URL and your network');
  });

  it('reports a timeout as one', async () => {
    const error = await describeInvokeError(fetchError(new DOMException('aborted', 'AbortError')), local);
    expect(error.code).toBe('timeout');
  });

  it.each([
    [403, 'forbidden', /service_role key/],
    [409, 'already_connected', /disconnect it from the other tenant/],
    [503, 'BOOT_ERROR', /failed to load/],
    [500, 'internal', /logs/],
  ])('hints for %i %s', (status, code, hint) => {
    expect(hintFor(status, code, local)).toMatch(hint);
  });
});

describe('projectFromEnv', () => {
  it('defaults to the local stack and its service key', () => {
    const project = projectFromEnv({});
    expect(project).toMatchObject({ url: 'http://127.0.0.1:54321', local: true });
    expect(JSON.parse(Buffer.from(project.key.split('.')[1], 'base64url').toString()).role).toBe('service_role');
    expect(projectFromEnv({ CRM_SYNC_API_PORT: '54361' }).url).toBe('http://127.0.0.1:54361');
  });

  it('uses SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY, and wants the key with the URL', () => {
    expect(projectFromEnv({ SUPABASE_URL: 'https://abc.supabase.co/', SUPABASE_SERVICE_ROLE_KEY: 'k' }))
      .toEqual({ url: 'https://abc.supabase.co', key: 'k', local: false });
    expect(() => projectFromEnv({ SUPABASE_URL: 'https://abc.supabase.co' })).toThrow(/SUPABASE_SERVICE_ROLE_KEY is not set/);
    expect(() => projectFromEnv({ SUPABASE_URL: 'abc', SUPABASE_SERVICE_ROLE_KEY: 'k' })).toThrow(/SUPABASE_URL is not a URL/);
  });
});
