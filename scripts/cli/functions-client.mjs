// The Edge Functions of a crm-sync project, called the way any Supabase
// client does: createClient(url, key).functions.invoke(...). SUPABASE_URL and
// SUPABASE_SERVICE_ROLE_KEY choose the project; without them it is the local
// stack that `npm start` runs. Failures become CliErrors that carry the
// function's own message and say how to fix them.
import { localKeys } from '../stack/keys.mjs';
import { loadProfile, localJwtSecret } from '../stack/profiles.mjs';
import { CliError } from './errors.mjs';

/**
 * @typedef {object} InvokeOptions
 * @property {'GET' | 'POST' | 'DELETE' | 'PATCH' | 'PUT'} [method]
 * @property {unknown} [body] sent as JSON
 * @property {Record<string, string>} [query]
 * @property {number} [timeoutMs]
 */

/**
 * @typedef {object} FunctionsClient
 * @property {string} url the project URL
 * @property {boolean} local true when it is the local stack's default
 * @property {(name: string, options?: InvokeOptions) => Promise<any>} invoke the function's JSON answer; throws CliError
 */

/**
 * Where the functions are and which key to use.
 * @param {NodeJS.ProcessEnv} env
 * @returns {{ url: string, key: string, local: boolean }}
 */
export function projectFromEnv(env) {
  const profile = loadProfile('dev', env);
  const url = (env.SUPABASE_URL || profile.apiUrl).replace(/\/+$/, '');
  const key = env.SUPABASE_SERVICE_ROLE_KEY || (env.SUPABASE_URL ? '' : localKeys(localJwtSecret).serviceRoleKey);
  if (!/^https?:\/\/[^\s/]+/.test(url)) {
    throw new CliError(`SUPABASE_URL is not a URL: ${url}`, { hint: 'set it to the project URL, e.g. https://<project-ref>.supabase.co' });
  }
  if (!key) {
    throw new CliError('SUPABASE_SERVICE_ROLE_KEY is not set', {
      hint: 'set it to the project\'s service_role key (Dashboard → Project Settings → API keys) along with SUPABASE_URL',
    });
  }
  return { url, key, local: !env.SUPABASE_URL };
}

/** supabase-js builds a realtime client too; the CLI never opens a socket. */
class NoWebSocket {
  constructor() {
    throw new Error('crm-sync does not use Realtime');
  }
}

/**
 * Loads supabase-js without its Node 20 deprecation notice, which would
 * otherwise open every command's output (the engine supports Node 20).
 */
async function loadSupabase() {
  const warn = console.warn;
  console.warn = (...args) => {
    if (typeof args[0] === 'string' && args[0].includes('Node.js 20 and below are deprecated')) return;
    warn(...args);
  };
  try {
    return await import('@supabase/supabase-js');
  } catch (error) {
    if (/** @type {{code?: string}} */ (error).code === 'ERR_MODULE_NOT_FOUND') {
      throw new CliError('the npm dependencies are not installed', { hint: 'run "npm ci" (or "npm start") in the crm-sync folder' });
    }
    throw error;
  } finally {
    console.warn = warn;
  }
}

/**
 * @param {NodeJS.ProcessEnv} env
 * @returns {Promise<FunctionsClient>}
 */
export async function createFunctionsClient(env) {
  const project = projectFromEnv(env);
  const { createClient } = await loadSupabase();
  const client = createClient(project.url, project.key, {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
    realtime: { transport: /** @type {any} */ (NoWebSocket) },
  });
  return {
    url: project.url,
    local: project.local,
    async invoke(name, options = {}) {
      const query = options.query && Object.keys(options.query).length ? `?${new URLSearchParams(options.query)}` : '';
      const { data, error } = await client.functions.invoke(`${name}${query}`, {
        method: options.method ?? 'POST',
        body: /** @type {any} */ (options.body),
        timeout: options.timeoutMs ?? 60_000,
      });
      if (error) throw await describeInvokeError(error, { name, url: project.url, local: project.local });
      return data;
    },
  };
}

/**
 * Turns a supabase-js invoke error into a CliError: the function's JSON error
 * (`{error: {code, message, details}}`, or the gateway's `{code, message}`)
 * when there is an answer, otherwise why the request did not get through.
 * @param {Error & { context?: any }} error
 * @param {{ name: string, url: string, local: boolean }} target
 * @returns {Promise<CliError>}
 */
export async function describeInvokeError(error, target) {
  if (error.name === 'FunctionsFetchError') {
    if (['AbortError', 'TimeoutError'].includes(error.context?.name)) {
      return new CliError(`${target.name} did not answer in time (${target.url})`, {
        code: 'timeout',
        hint: 'the function may still be working; try again, or read the function logs',
      });
    }
    const cause = error.context?.cause ?? error.context;
    const reason = cause?.code ?? cause?.message ?? 'no answer';
    return new CliError(`cannot reach ${target.url} (${reason})`, {
      code: 'unreachable',
      hint: target.local
        ? 'is the stack running? npm start (or set SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY for a hosted project)'
        : 'check SUPABASE_URL and your network',
    });
  }
  const response = /** @type {Response | undefined} */ (error.context instanceof Response ? error.context : undefined);
  if (!response) return new CliError(`${target.name}: ${error.message}`, { code: 'invoke_failed' });
  const status = response.status;
  let body = null;
  const text = await response.text().catch(() => '');
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  const problem = body?.error && typeof body.error === 'object' ? body.error : body;
  const code = String(problem?.code ?? `http_${status}`);
  const message = typeof problem?.message === 'string' && problem.message
    ? problem.message
    : `${target.name} answered HTTP ${status}${text ? `: ${text.slice(0, 300)}` : ''}`;
  const details = problem?.details ?? problem?.detail;
  return new CliError(message, { code, status, details, hint: hintFor(status, code, target) });
}

/**
 * What to do about a function's error answer.
 * @param {number} status @param {string} code @param {{ name: string, local: boolean }} target
 */
export function hintFor(status, code, target) {
  if (status === 401) {
    return target.local
      ? 'the key is not the local stack\'s: unset SUPABASE_SERVICE_ROLE_KEY, or copy it from "npm run stack -- status"'
      : 'SUPABASE_SERVICE_ROLE_KEY is not a key of this project (Dashboard → Project Settings → API keys)';
  }
  if (status === 403) return 'use the service_role key (SUPABASE_SERVICE_ROLE_KEY), not the anon key';
  if (code === 'NOT_FOUND' || (status === 404 && code.startsWith('http_'))) {
    return target.local
      ? `restart the stack (npm start) so it serves ${target.name}`
      : `deploy the functions: npx supabase functions deploy ${target.name}`;
  }
  if (code === 'BOOT_ERROR') return 'the function failed to load: read its logs (the npm start console, or the dashboard)';
  if (code === 'invalid_credentials') return 'check the access token (HubSpot: Settings → Integrations → Private apps, or the app\'s OAuth token) and --base-url';
  if (code === 'provider_unavailable') return 'the CRM did not answer; try again in a minute';
  if (code === 'already_connected') return 'disconnect it from the other tenant first (crm-sync disconnect <connection-id>)';
  if (code === 'not_found') return 'check the id (crm-sync connections --tenant <uuid> lists them)';
  if (code === 'invalid_request' || code === 'invalid_settings') return 'fix the values listed above';
  if (status === 504 || code === 'WORKER_TIMEOUT') return 'the function hit its wall-clock limit; run it again to continue';
  if (status >= 500) return 'read the function logs (the npm start console, or the dashboard) for the cause';
  return undefined;
}
