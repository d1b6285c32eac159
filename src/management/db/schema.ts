/**
 * The management database (DESIGN.md §4: `data/config/management-db.json`): a JSON document an
 * operator can read and repair by hand, so every field is validated on load and a broken one is
 * named with its path (`instances[2].startMode: expected one of automatic, manual, disabled`).
 */
import { describeInstanceIdProblem } from '../instance-ids.js';

export const SCHEMA_VERSION = 1;
export const START_MODES = ['automatic', 'manual', 'disabled'] as const;
export const MFA_STATUSES = ['disabled', 'pending', 'active'] as const;
export const SMTP_PROTOCOLS = ['SMTP', 'SMTP-TLS', 'SMTPS'] as const;

export type StartMode = (typeof START_MODES)[number];
export type MfaStatus = (typeof MFA_STATUSES)[number];
export type SmtpProtocol = (typeof SMTP_PROTOCOLS)[number];

export interface InstanceConfig {
  displayName: string;
  baseDirectory: string;
  debugLogEnabled: boolean;
  imapServerConnectionLogEnabled: boolean;
  /**
   * Coffer's own addition (docs/decisions.md): Web Access logins need TOTP MFA; a user without it
   * is led into enrolment at login. Pushed into the instance (its `requireMfa` setting).
   */
  webAccessMfaRequired: boolean;
  vssWriterEnabled: boolean;
  vssWriterExcludeIndexes: boolean;
}

export interface InstanceRecord {
  id: string;
  alias: string | null;
  /** serverName of the Instance Host that runs it. */
  host: string;
  startMode: StartMode;
  config: InstanceConfig;
}

export interface InstanceHostRecord {
  serverName: string;
  port: number;
  /** SHA-1 of the host's certificate, 40 upper-case hex digits; null until paired. */
  thumbprint: string | null;
  baseDirectory: string | null;
}

export interface ClientAccessServerRecord {
  serverName: string;
  port: number;
  thumbprint: string | null;
}

export interface MfaState {
  status: MfaStatus;
  /** Base32 TOTP secret; null while MFA is disabled. */
  secret: string | null;
}

export interface SystemAdministratorRecord {
  userName: string;
  fullName: string;
  emailAddress: string;
  /** `scrypt$N$r$p$salt$hash` (base64); see admins/password-hash.ts. */
  passwordHash: string;
  /** The Management API password used while MFA is enabled; null when none was generated. */
  apiPasswordHash: string | null;
  mfa: MfaState;
}

export interface SystemSmtpSettings {
  hostname: string;
  port: number;
  protocol: SmtpProtocol;
  ignoreSslPolicyErrors: boolean;
  authenticationRequired: boolean;
  username: string;
  /** Kept in clear: it is needed to send. The file is 0600, as SPE's own database. */
  password: string;
  fromDisplayName: string;
  fromEmailAddress: string;
  recipientSystemAdministrator: string[];
}

export interface ManagementDatabase {
  schemaVersion: number;
  /** Bumped on every change the CASes must learn (DESIGN.md §3 routing table). */
  routingTableVersion: number;
  instances: InstanceRecord[];
  instanceHosts: InstanceHostRecord[];
  clientAccessServers: ClientAccessServerRecord[];
  systemAdministrators: SystemAdministratorRecord[];
  systemSmtp: SystemSmtpSettings | null;
  /**
   * Per-instance settings of parts the instance does not run yet (profiles, jobs, compliance,
   * directory services, index and SMTP settings, archive admin): kept here so that scripts can
   * set and read them back, keyed by instance ID, then by setting name. Values are JSON.
   */
  instanceSettings: Record<string, Record<string, unknown>>;
}

export function emptyDatabase(): ManagementDatabase {
  return {
    schemaVersion: SCHEMA_VERSION,
    routingTableVersion: 0,
    instances: [],
    instanceHosts: [],
    clientAccessServers: [],
    systemAdministrators: [],
    systemSmtp: null,
    instanceSettings: {},
  };
}

/** Thrown (internally) with the path of the first broken field. */
class SchemaProblem extends Error {}

type Node = Record<string, unknown>;

function object(value: unknown, path: string): Node {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new SchemaProblem(`${path}: expected an object`);
  return value as Node;
}

function array(value: unknown, path: string): unknown[] {
  if (!Array.isArray(value)) throw new SchemaProblem(`${path}: expected an array`);
  return value;
}

function string(node: Node, key: string, path: string): string {
  const value = node[key];
  if (typeof value !== 'string') throw new SchemaProblem(`${path}.${key}: expected a string`);
  return value;
}

function nullableString(node: Node, key: string, path: string): string | null {
  return node[key] === null ? null : string(node, key, path);
}

function boolean(node: Node, key: string, path: string): boolean {
  const value = node[key];
  if (typeof value !== 'boolean') throw new SchemaProblem(`${path}.${key}: expected true or false`);
  return value;
}

/** A flag added after the first release: absent in older files means false. */
function optionalBoolean(node: Node, key: string, path: string): boolean {
  return node[key] === undefined ? false : boolean(node, key, path);
}

function integer(node: Node, key: string, path: string, min: number, max: number): number {
  const value = node[key];
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new SchemaProblem(`${path}.${key}: expected an integer from ${min} to ${max}`);
  }
  return value;
}

function oneOf<T extends string>(node: Node, key: string, path: string, values: readonly T[]): T {
  const value = node[key];
  if (typeof value !== 'string' || !values.includes(value as T)) throw new SchemaProblem(`${path}.${key}: expected one of ${values.join(', ')}`);
  return value as T;
}

function onlyKeys(node: Node, path: string, keys: readonly string[]): void {
  for (const key of Object.keys(node)) if (!keys.includes(key)) throw new SchemaProblem(`${path}.${key}: unknown field`);
}

function thumbprint(node: Node, key: string, path: string): string | null {
  const value = nullableString(node, key, path);
  if (value !== null && !/^[0-9A-F]{40}$/.test(value)) throw new SchemaProblem(`${path}.${key}: expected 40 upper-case hex digits or null`);
  return value;
}

function readInstance(value: unknown, path: string): InstanceRecord {
  const node = object(value, path);
  onlyKeys(node, path, ['id', 'alias', 'host', 'startMode', 'config']);
  const id = string(node, 'id', path);
  const idProblem = describeInstanceIdProblem(id);
  if (idProblem) throw new SchemaProblem(`${path}.id: '${id}' ${idProblem}`);
  const alias = nullableString(node, 'alias', path);
  const aliasProblem = alias === null ? null : describeInstanceIdProblem(alias);
  if (aliasProblem) throw new SchemaProblem(`${path}.alias: '${alias}' ${aliasProblem}`);
  const configPath = `${path}.config`;
  const config = object(node.config, configPath);
  onlyKeys(config, configPath, ['displayName', 'baseDirectory', 'debugLogEnabled', 'imapServerConnectionLogEnabled', 'webAccessMfaRequired', 'vssWriterEnabled', 'vssWriterExcludeIndexes']);
  return {
    id,
    alias,
    host: string(node, 'host', path),
    startMode: oneOf(node, 'startMode', path, START_MODES),
    config: {
      displayName: string(config, 'displayName', configPath),
      baseDirectory: string(config, 'baseDirectory', configPath),
      debugLogEnabled: boolean(config, 'debugLogEnabled', configPath),
      imapServerConnectionLogEnabled: boolean(config, 'imapServerConnectionLogEnabled', configPath),
      webAccessMfaRequired: optionalBoolean(config, 'webAccessMfaRequired', configPath),
      vssWriterEnabled: boolean(config, 'vssWriterEnabled', configPath),
      vssWriterExcludeIndexes: boolean(config, 'vssWriterExcludeIndexes', configPath),
    },
  };
}

function readServer(value: unknown, path: string, hasBaseDirectory: boolean): InstanceHostRecord {
  const node = object(value, path);
  onlyKeys(node, path, hasBaseDirectory ? ['serverName', 'port', 'thumbprint', 'baseDirectory'] : ['serverName', 'port', 'thumbprint']);
  return {
    serverName: string(node, 'serverName', path),
    port: integer(node, 'port', path, 1, 65535),
    thumbprint: thumbprint(node, 'thumbprint', path),
    baseDirectory: hasBaseDirectory ? nullableString(node, 'baseDirectory', path) : null,
  };
}

function readAdministrator(value: unknown, path: string): SystemAdministratorRecord {
  const node = object(value, path);
  onlyKeys(node, path, ['userName', 'fullName', 'emailAddress', 'passwordHash', 'apiPasswordHash', 'mfa']);
  const mfaPath = `${path}.mfa`;
  const mfa = object(node.mfa, mfaPath);
  onlyKeys(mfa, mfaPath, ['status', 'secret']);
  const status = oneOf(mfa, 'status', mfaPath, MFA_STATUSES);
  const secret = nullableString(mfa, 'secret', mfaPath);
  if (status !== 'disabled' && secret === null) throw new SchemaProblem(`${mfaPath}.secret: required while MFA is ${status}`);
  const passwordHash = string(node, 'passwordHash', path);
  if (!passwordHash.startsWith('scrypt$')) throw new SchemaProblem(`${path}.passwordHash: expected an scrypt hash`);
  return {
    userName: string(node, 'userName', path),
    fullName: string(node, 'fullName', path),
    emailAddress: string(node, 'emailAddress', path),
    passwordHash,
    apiPasswordHash: nullableString(node, 'apiPasswordHash', path),
    mfa: { status, secret },
  };
}

function readSmtp(value: unknown, path: string): SystemSmtpSettings | null {
  if (value === null) return null;
  const node = object(value, path);
  const recipients = array(node.recipientSystemAdministrator, `${path}.recipientSystemAdministrator`).map((item, index) => {
    if (typeof item !== 'string') throw new SchemaProblem(`${path}.recipientSystemAdministrator[${index}]: expected a string`);
    return item;
  });
  onlyKeys(node, path, ['hostname', 'port', 'protocol', 'ignoreSslPolicyErrors', 'authenticationRequired', 'username', 'password', 'fromDisplayName', 'fromEmailAddress', 'recipientSystemAdministrator']);
  return {
    hostname: string(node, 'hostname', path),
    port: integer(node, 'port', path, 1, 65535),
    protocol: oneOf(node, 'protocol', path, SMTP_PROTOCOLS),
    ignoreSslPolicyErrors: boolean(node, 'ignoreSslPolicyErrors', path),
    authenticationRequired: boolean(node, 'authenticationRequired', path),
    username: string(node, 'username', path),
    password: string(node, 'password', path),
    fromDisplayName: string(node, 'fromDisplayName', path),
    fromEmailAddress: string(node, 'fromEmailAddress', path),
    recipientSystemAdministrator: recipients,
  };
}

function readInstanceSettings(value: unknown, path: string): Record<string, Record<string, unknown>> {
  const node = object(value, path);
  const out: Record<string, Record<string, unknown>> = {};
  for (const [id, settings] of Object.entries(node)) out[id] = { ...object(settings, `${path}.${id}`) };
  return out;
}

function assertUnique(names: readonly string[], describe: (index: number) => string, what: string): void {
  const seen = new Map<string, number>();
  names.forEach((name, index) => {
    const key = name.toLowerCase();
    const first = seen.get(key);
    if (first !== undefined) throw new SchemaProblem(`${describe(index)}: ${what} '${name}' is also used by ${describe(first)}`);
    seen.set(key, index);
  });
}

/** The database, or the first problem with its path. Pure: no I/O. */
export function parseManagementDatabase(value: unknown): { ok: true; database: ManagementDatabase } | { ok: false, message: string } {
  try {
    const root = object(value, '(root)');
    onlyKeys(root, '(root)', Object.keys(emptyDatabase()));
    if (root.schemaVersion !== SCHEMA_VERSION) throw new SchemaProblem(`schemaVersion: expected ${SCHEMA_VERSION}`);
    const database: ManagementDatabase = {
      schemaVersion: SCHEMA_VERSION,
      routingTableVersion: integer(root, 'routingTableVersion', '(root)', 0, Number.MAX_SAFE_INTEGER),
      instances: array(root.instances, 'instances').map((item, i) => readInstance(item, `instances[${i}]`)),
      instanceHosts: array(root.instanceHosts, 'instanceHosts').map((item, i) => readServer(item, `instanceHosts[${i}]`, true)),
      clientAccessServers: array(root.clientAccessServers, 'clientAccessServers').map((item, i) => {
        const { baseDirectory: _unused, ...server } = readServer(item, `clientAccessServers[${i}]`, false);
        return server;
      }),
      systemAdministrators: array(root.systemAdministrators, 'systemAdministrators').map((item, i) => readAdministrator(item, `systemAdministrators[${i}]`)),
      systemSmtp: readSmtp(root.systemSmtp, 'systemSmtp'),
      // Absent in files written before the field existed.
      instanceSettings: root.instanceSettings === undefined ? {} : readInstanceSettings(root.instanceSettings, 'instanceSettings'),
    };
    // IDs and aliases share one name space: the CAS resolves either.
    const instanceNames = database.instances.flatMap((instance, i) => [
      { name: instance.id, where: `instances[${i}].id` },
      ...(instance.alias !== null && instance.alias !== instance.id ? [{ name: instance.alias, where: `instances[${i}].alias` }] : []),
    ]);
    assertUnique(instanceNames.map((n) => n.name), (index) => instanceNames[index]?.where ?? '?', 'instance name');
    assertUnique(database.instanceHosts.map((h) => h.serverName), (i) => `instanceHosts[${i}].serverName`, 'server name');
    assertUnique(database.clientAccessServers.map((h) => h.serverName), (i) => `clientAccessServers[${i}].serverName`, 'server name');
    assertUnique(database.systemAdministrators.map((a) => a.userName), (i) => `systemAdministrators[${i}].userName`, 'user name');
    return { ok: true, database };
  } catch (error) {
    if (error instanceof SchemaProblem) return { ok: false, message: error.message };
    throw error;
  }
}
