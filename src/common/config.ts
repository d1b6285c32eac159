/**
 * One typed, validated, frozen configuration object (STYLE.md rule 11).
 * Precedence: command-line flags, then environment (COFFER_…), then a JSON config file
 * (`--config FILE`, else `<data>/config/coffer.json` when present), then defaults.
 */
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';

export type RoleName = 'management' | 'instance-host' | 'cas';
export const ALL_ROLES: readonly RoleName[] = ['management', 'instance-host', 'cas'];

export interface CofferConfig {
  readonly dataDir: string;
  readonly portOffset: number;
  readonly roles: readonly RoleName[];
  readonly host: string;
  readonly logLevel: string;
  readonly demo: boolean;
  /** Where Web Access keeps sessions: in this process, or in Redis shared by several CASes. */
  readonly webSessionStore: WebSessionStoreConfig;
}

export type WebSessionStoreConfig = { readonly kind: 'memory' } | { readonly kind: 'redis'; readonly url: string };

export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
}

type Raw = Record<string, unknown>;

const ENV_NAMES: Record<string, string> = {
  data: 'COFFER_DATA',
  'port-offset': 'COFFER_PORT_OFFSET',
  roles: 'COFFER_ROLES',
  host: 'COFFER_HOST',
  'log-level': 'COFFER_LOG_LEVEL',
  demo: 'COFFER_DEMO',
  'web-session-store': 'COFFER_WEB_SESSION_STORE',
};

/** Parses `--name value`, `--name=value` and bare `--flag` into a map; positional args are returned apart. */
export function parseFlags(argv: readonly string[]): { flags: Raw; positional: string[] } {
  const flags: Raw = {};
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) { positional.push(arg); continue; }
    const eq = arg.indexOf('=');
    if (eq > 0) { flags[arg.slice(2, eq)] = arg.slice(eq + 1); continue; }
    const name = arg.slice(2);
    const next = argv[i + 1];
    if (next !== undefined && !next.startsWith('--')) { flags[name] = next; i++; } else flags[name] = true;
  }
  return { flags, positional };
}

function pick(name: string, flags: Raw, env: NodeJS.ProcessEnv, file: Raw): unknown {
  if (flags[name] !== undefined) return flags[name];
  const envName = ENV_NAMES[name];
  if (envName && env[envName] !== undefined) return env[envName];
  return file[name];
}

function asInt(name: string, v: unknown, min: number, max: number, dflt: number): number {
  if (v === undefined) return dflt;
  const n = typeof v === 'number' ? v : /^-?\d+$/.test(String(v)) ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(`--${name}: expected an integer from ${min} to ${max}, got ${JSON.stringify(v)}`);
  return n;
}

function asBool(name: string, v: unknown, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  if (v === true || v === 'true' || v === '1') return true;
  if (v === false || v === 'false' || v === '0') return false;
  throw new ConfigError(`--${name}: expected true or false, got ${JSON.stringify(v)}`);
}

const SESSION_STORE_HINT = 'expected "memory" or a Redis URL such as redis://host:6379/0 (rediss:// for TLS, redis://:password@host:6379/0 with a password)';

/** A URL as logs and errors may show it: any password replaced by `***`. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch { return url.replace(/:[^:@/]*@/, ':***@'); }
}

/** `memory` (default) or `redis[s]://[[user]:password@]host[:port][/db]`; errors never echo a password. */
function asSessionStore(v: unknown): WebSessionStoreConfig {
  if (v === undefined || v === 'memory') return Object.freeze({ kind: 'memory' as const });
  const text = String(v).trim();
  let u: URL;
  try { u = new URL(text); } catch { throw new ConfigError(`--web-session-store: ${SESSION_STORE_HINT}; got ${JSON.stringify(redactUrl(text))}`); }
  const shown = JSON.stringify(redactUrl(text));
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new ConfigError(`--web-session-store: unsupported scheme ${JSON.stringify(u.protocol)}; ${SESSION_STORE_HINT}`);
  if (!u.hostname) throw new ConfigError(`--web-session-store: no host in ${shown}; ${SESSION_STORE_HINT}`);
  if (u.port === '0') throw new ConfigError(`--web-session-store: port 0 in ${shown}; expected 1 to 65535`);
  if (!/^\/?(\d{1,5})?$/.test(u.pathname)) throw new ConfigError(`--web-session-store: database ${JSON.stringify(u.pathname.slice(1))} in ${shown} is not a number; ${SESSION_STORE_HINT}`);
  if (u.search || u.hash) throw new ConfigError(`--web-session-store: ${shown} has a query or fragment, which is not supported; ${SESSION_STORE_HINT}`);
  return Object.freeze({ kind: 'redis' as const, url: text });
}

export function loadConfig(argvFlags: Raw, env: NodeJS.ProcessEnv = process.env): CofferConfig {
  const dataDir = path.resolve(String(argvFlags.data ?? env.COFFER_DATA ?? './data'));
  const configFile = argvFlags.config !== undefined ? path.resolve(String(argvFlags.config)) : path.join(dataDir, 'config', 'coffer.json');
  let file: Raw = {};
  if (existsSync(configFile)) {
    try { file = JSON.parse(readFileSync(configFile, 'utf8')) as Raw; }
    catch (e) { throw new ConfigError(`${configFile}: not valid JSON (${(e as Error).message})`); }
    if (typeof file !== 'object' || file === null || Array.isArray(file)) throw new ConfigError(`${configFile}: expected a JSON object`);
  } else if (argvFlags.config !== undefined) {
    throw new ConfigError(`--config: file ${configFile} does not exist`);
  }
  const rolesRaw = pick('roles', argvFlags, env, file);
  let roles: RoleName[] = [...ALL_ROLES];
  if (rolesRaw !== undefined) {
    const list = (Array.isArray(rolesRaw) ? rolesRaw.map(String) : String(rolesRaw).split(',')).map((r) => r.trim()).filter(Boolean);
    for (const r of list) if (!ALL_ROLES.includes(r as RoleName)) throw new ConfigError(`--roles: unknown role ${JSON.stringify(r)}; expected any of ${ALL_ROLES.join(', ')}`);
    if (list.length === 0) throw new ConfigError('--roles: at least one role is needed');
    roles = list as RoleName[];
  }
  const logLevel = String(pick('log-level', argvFlags, env, file) ?? 'info');
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) throw new ConfigError(`--log-level: unknown level ${JSON.stringify(logLevel)}`);
  return Object.freeze({
    dataDir,
    portOffset: asInt('port-offset', pick('port-offset', argvFlags, env, file), 0, 55000, 0),
    roles: Object.freeze(roles),
    host: String(pick('host', argvFlags, env, file) ?? '127.0.0.1'),
    logLevel,
    demo: asBool('demo', pick('demo', argvFlags, env, file), false),
    webSessionStore: asSessionStore(pick('web-session-store', argvFlags, env, file)),
  });
}

/** Well-known ports of DESIGN.md §1, before the offset. */
export const BASE_PORTS = Object.freeze({
  imap: 143, imaps: 993, https: 443, console: 8470, roleEndpoint: 8471, instanceHost: 8472, casPush: 8473, managementApi: 8474,
});

export function port(config: Pick<CofferConfig, 'portOffset'>, name: keyof typeof BASE_PORTS): number {
  return BASE_PORTS[name] + config.portOffset;
}
