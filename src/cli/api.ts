/**
 * `coffer api [-s host:port] [-u user] [-p password] [-t thumbprint] <Function> [--arg=value …]`:
 * the command-line client of the Management API, like MailStoreManagementCmd. Without -s it calls
 * the local Management Server (port 8474 + --port-offset) and pins the certificate in
 * `<data>/certs/management.crt.pem`; without -p it uses COFFER_ADMIN_PASSWORD or the generated
 * password in `<data>/config/admin-password.txt`. Prints the final JSON envelope (following
 * `running` tokens, progress on stderr) and exits 0 when it is `succeeded`, 1 otherwise.
 *
 * Options before the function name: -s, -u, -p, -t, --data DIR, --port-offset N, --quiet.
 * Everything after it is an argument of the function: `--name=value` or `--name value`
 * (JSON arguments as JSON text, booleans as true/false).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig, port } from '../common/config.js';
import { thumbprintOf } from '../common/certs.js';
import { ManagementApiClient } from '../management/client/api-client.js';
import { INITIAL_ADMIN_PASSWORD_ENV, INITIAL_ADMIN_PASSWORD_FILE, INITIAL_ADMIN_USER_NAME } from '../management/admins.js';
import type { Envelope } from '../management/api/envelope.js';

export const API_USAGE = 'usage: coffer api [-s host:port] [-u user] [-p password] [-t thumbprint] [--data DIR] [--port-offset N] <Function> [--arg=value …]';

class UsageError extends Error {}

interface ApiInvocation {
  server: string | null;
  user: string | null;
  password: string | null;
  thumbprint: string | null;
  flags: Record<string, unknown>;
  quiet: boolean;
  functionName: string;
  args: Record<string, string>;
}

export function parseApiArgs(argv: readonly string[]): ApiInvocation {
  const out: Omit<ApiInvocation, 'functionName' | 'args'> & { functionName: string | null; args: Record<string, string> } = { server: null, user: null, password: null, thumbprint: null, flags: {}, quiet: false, functionName: null, args: {} };
  let i = 0;
  const value = (name: string) => {
    const v = argv[++i];
    if (v === undefined) throw new UsageError(`${name} needs a value`);
    return v;
  };
  for (; i < argv.length && out.functionName === null; i++) {
    const arg = argv[i]!;
    if (arg === '-s') out.server = value('-s');
    else if (arg === '-u') out.user = value('-u');
    else if (arg === '-p') out.password = value('-p');
    else if (arg === '-t') out.thumbprint = value('-t');
    else if (arg === '--quiet') out.quiet = true;
    else if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq > 0 ? arg.slice(2, eq) : arg.slice(2);
      if (name !== 'data' && name !== 'port-offset' && name !== 'config') throw new UsageError(`unknown option ${arg} before the function name`);
      out.flags[name] = eq > 0 ? arg.slice(eq + 1) : value(arg);
    } else if (arg.startsWith('-')) throw new UsageError(`unknown option ${arg}`);
    else out.functionName = arg;
  }
  if (out.functionName === null) throw new UsageError('no function name given');
  for (; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--') || arg.length < 3) throw new UsageError(`function arguments are written --name=value; got ${JSON.stringify(arg)}`);
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(2, eq) : arg.slice(2);
    if (Object.hasOwn(out.args, name)) throw new UsageError(`argument --${name} given twice`);
    out.args[name] = eq > 0 ? arg.slice(eq + 1) : value(arg);
  }
  return out as ApiInvocation;
}

function readTrimmed(file: string): string | null {
  return existsSync(file) ? readFileSync(file, 'utf8').trim() : null;
}

export function clientFor(invocation: ApiInvocation, env: NodeJS.ProcessEnv = process.env): ManagementApiClient {
  const config = loadConfig(invocation.flags, env);
  let host = '127.0.0.1';
  let apiPort = port(config, 'managementApi');
  if (invocation.server !== null) {
    const match = /^(\[[^\]]+\]|[^:]+)(?::(\d{1,5}))?$/.exec(invocation.server);
    if (!match) throw new UsageError(`-s: expected host or host:port, got ${JSON.stringify(invocation.server)}`);
    host = match[1]!.replace(/^\[|\]$/g, '');
    if (match[2]) apiPort = Number(match[2]);
  }
  let thumbprint = invocation.thumbprint;
  if (thumbprint === null) {
    const certFile = path.join(config.dataDir, 'certs', 'management.crt.pem');
    if (!existsSync(certFile)) throw new UsageError(`no -t thumbprint given and no local Management Server certificate in ${certFile}; pass -t with the thumbprint coffer start printed`);
    thumbprint = thumbprintOf(readFileSync(certFile));
  }
  const user = invocation.user ?? INITIAL_ADMIN_USER_NAME;
  const password = invocation.password ?? env[INITIAL_ADMIN_PASSWORD_ENV] ?? readTrimmed(path.join(config.dataDir, INITIAL_ADMIN_PASSWORD_FILE));
  if (password === null) throw new UsageError(`no password: pass -p, set ${INITIAL_ADMIN_PASSWORD_ENV}, or run where ${path.join(config.dataDir, INITIAL_ADMIN_PASSWORD_FILE)} is readable`);
  return new ManagementApiClient({ host, port: apiPort, user, password, thumbprint });
}

export async function apiCommand(argv: readonly string[]): Promise<number> {
  let invocation: ApiInvocation;
  let client: ManagementApiClient;
  try {
    invocation = parseApiArgs(argv);
    client = clientFor(invocation);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`${error.message}\n${API_USAGE}\n`);
    return 1;
  }
  const showProgress = !invocation.quiet && process.stderr.isTTY === true;
  let final: Envelope;
  try {
    final = await client.invoke(invocation.functionName, invocation.args, (status) => {
      if (showProgress) process.stderr.write(`\r${status.percentProgress === null ? '…' : `${Math.round(status.percentProgress)}%`} ${status.statusText ?? ''}`.padEnd(60));
    });
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    return 1;
  } finally {
    if (showProgress) process.stderr.write('\r'.padEnd(61) + '\r');
  }
  process.stdout.write(`${JSON.stringify(final, null, 2)}\n`);
  return final.statusCode === 'succeeded' ? 0 : 1;
}
