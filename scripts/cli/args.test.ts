import { describe, expect, it } from 'vitest';
import { commandHelp, integerOption, parseCommandArgs, uuidArgument } from './args.mjs';
import connect from './commands/connect.mjs';
import connections from './commands/connections.mjs';
import disconnect from './commands/disconnect.mjs';
import { UsageError } from './errors.mjs';

const tenant = '00000000-0000-4000-8000-00000000a001';

function usageError(run: () => unknown): UsageError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return error as UsageError;
  }
  throw new Error('expected a usage error');
}

describe('parseCommandArgs', () => {
  it('reads options and positionals', () => {
    const { values, positionals } = parseCommandArgs(connect, [
      'hubspot', '--tenant', tenant, '--token', 'pat-na1-token', '--client-secret=secret-1234', '--base-url', 'http://127.0.0.1:54340', '--json',
    ]);
    expect(positionals).toEqual(['hubspot']);
    expect(values).toMatchObject({ tenant, token: 'pat-na1-token', 'client-secret': 'secret-1234', 'base-url': 'http://127.0.0.1:54340', json: true });
  });

  it('takes options from the environment when not given, the flag winning', () => {
    const env = { HUBSPOT_ACCESS_TOKEN: 'pat-from-env', HUBSPOT_CLIENT_SECRET: 'secret-from-env' };
    expect(parseCommandArgs(connect, ['hubspot', '--tenant', tenant], env).values).toMatchObject({ token: 'pat-from-env', 'client-secret': 'secret-from-env' });
    expect(parseCommandArgs(connect, ['hubspot', '--tenant', tenant, '--token', 'pat-flag'], env).values.token).toBe('pat-flag');
  });

  it('names a missing required option', () => {
    const error = usageError(() => parseCommandArgs(connect, ['hubspot', '--token', 'x', '--client-secret', 'x']));
    expect(error.message).toBe('missing --tenant <uuid>');
    expect(error.hint).toBe('crm-sync connect --help');
    expect(error.exitCode).toBe(2);
  });

  it('checks positionals before options: an unknown provider is the first thing said', () => {
    expect(usageError(() => parseCommandArgs(connect, ['salesforce'])).message).toBe('<provider> must be "hubspot" or "pipedrive", not "salesforce"');
    expect(usageError(() => parseCommandArgs(connect, [])).message).toBe('missing <provider>');
    expect(usageError(() => parseCommandArgs(disconnect, ['a', 'b'])).message).toBe('unexpected argument "b"');
  });

  it.each([
    [['--tenant'], '--tenant needs a value'],
    [['--tenant', '--json'], '--tenant needs a value (a value starting with a dash is written --tenant=-value)'],
    [['--tenant', tenant, '--bogus'], 'unknown option --bogus for "crm-sync connections"'],
    [['--tenant', tenant, '--json=yes'], '--json does not take a value'],
  ])('rewords parseArgs errors: %j', (argv, message) => {
    expect(usageError(() => parseCommandArgs(connections, argv)).message).toBe(message);
  });

  it('stops checking once --help is asked for', () => {
    expect(parseCommandArgs(connect, ['--help']).values.help).toBe(true);
    expect(parseCommandArgs(connections, ['-h']).values.help).toBe(true);
  });
});

describe('argument values', () => {
  it('accepts uuids (lower-cased) and refuses anything else with the hint', () => {
    expect(uuidArgument(tenant.toUpperCase(), '--tenant')).toBe(tenant);
    const error = usageError(() => uuidArgument('acme', '--tenant', 'pass the id'));
    expect(error.message).toBe('--tenant must be a uuid, got "acme"');
    expect(error.hint).toBe('pass the id');
  });

  it('bounds integers', () => {
    expect(integerOption(undefined, '--budget-ms', 1000, 120000)).toBeUndefined();
    expect(integerOption('5000', '--budget-ms', 1000, 120000)).toBe(5000);
    expect(usageError(() => integerOption('10', '--budget-ms', 1000, 120000)).message).toBe('--budget-ms must be a whole number from 1000 to 120000, got "10"');
    expect(() => integerOption('5e3', '--budget-ms', 1000, 120000)).toThrow(UsageError);
  });
});

describe('commandHelp', () => {
  it('lists the usage, arguments, every option with its notes, and examples', () => {
    const help = commandHelp(connect);
    expect(help).toMatch(/^Usage: crm-sync connect hubspot --tenant <uuid> \(--token <token> \| --refresh-token <token> --client-id <id>\)/);
    expect(help).toContain('<provider>  the CRM: hubspot or pipedrive');
    expect(help).toMatch(/--tenant <uuid> +the tenant to connect \(required\)/);
    expect(help).toMatch(/--token <token> +.* \(default: \$HUBSPOT_ACCESS_TOKEN\)/);
    expect(help).toMatch(/--client-secret <secret> +HubSpot: .* \(default: \$HUBSPOT_CLIENT_SECRET\)/);
    expect(help).toMatch(/--api-token <token> +Pipedrive: the API token \(default: \$PIPEDRIVE_API_TOKEN\)/);
    expect(help).toMatch(/--base-url <url> +API base URL/);
    expect(help).toMatch(/--json +print the result as JSON/);
    expect(help).toMatch(/-h, --help +show this help/);
    expect(help).toContain('Examples:');
  });
});
