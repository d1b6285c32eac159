/**
 * Instance Hosts and Client Access Servers in the management database: Create…, Get…,
 * Set…Configuration, Delete…, PairWithManagementServer (thumbprints that pin role-to-role TLS),
 * directories on an Instance Host, ReloadBranding and CreateLicenseRequest.
 */
import path from 'node:path';
import { normalizeThumbprint } from '../../common/certs.js';
import type { ManagementDb } from '../db/management-db.js';
import type { ClientAccessServerRecord, InstanceHostRecord } from '../db/schema.js';
import { ManagementError } from '../errors.js';
import type { FunctionHandler } from '../functions/handler.js';
import type { HostLinks } from './host-links.js';

export const DEFAULT_INSTANCE_HOST_PORT = 8472;
export const DEFAULT_CAS_PORT = 8473;

/** What the routing service tells about each Client Access Server. */
export interface CasReach {
  readonly serverName: string;
  readonly status: 'connected' | 'unreachable' | 'unknown';
  readonly lastError: string | null;
  readonly routingTableVersion: number | null;
}

export interface ServerRoleServices {
  readonly db: ManagementDb;
  readonly links: HostLinks;
  /** Push of ReloadBranding to every registered CAS: one outcome per CAS. */
  reloadBranding(): Promise<{ serverName: string; ok: boolean; error: string | null }[]>;
  casReach(serverName: string): CasReach;
  /** Called after any change of hosts or CASes (links, pinned thumbprints, routing). */
  changed(): void;
}

function thumbprintArg(value: unknown, what: string): string | null {
  if (value === undefined || value === null) return null;
  const normalized = normalizeThumbprint(String(value));
  if (!normalized) throw new ManagementError('INVALID_ARGUMENT', `${what}: expected a SHA-1 thumbprint of 40 hex digits.`);
  return normalized;
}

function certificateThumbprint(config: Record<string, unknown>): string | null | undefined {
  const certificate = config.serverCertificate as { thumbprint?: unknown } | null | undefined;
  if (certificate === undefined) return undefined;
  if (certificate === null) return null;
  return thumbprintArg(certificate.thumbprint, 'config.serverCertificate.thumbprint');
}

const sameName = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

function describeServerNameProblem(name: string): string | null {
  if (name.trim() === '' || name !== name.trim()) return 'must not be empty or start or end with white space';
  if (!/^[A-Za-z0-9._-]{1,253}$/.test(name)) return 'must be a host name (letters, digits, dots, dashes)';
  return null;
}

function checkServerName(name: string): void {
  const problem = describeServerNameProblem(name);
  if (problem) throw new ManagementError('INVALID_ARGUMENT', `serverName '${name}' ${problem}.`);
}

function hostView(record: InstanceHostRecord, links: HostLinks) {
  return {
    serverName: record.serverName,
    port: record.port,
    serverCertificate: record.thumbprint ? { thumbprint: record.thumbprint } : null,
    baseDirectory: record.baseDirectory,
    status: links.isConnected(record.serverName) ? 'connected' : 'disconnected',
    statusText: links.whyDisconnected(record.serverName),
  };
}

function casView(record: ClientAccessServerRecord, reach: CasReach | null) {
  return {
    serverName: record.serverName,
    port: record.port,
    serverCertificate: record.thumbprint ? { thumbprint: record.thumbprint } : null,
    ...(reach ? { serviceStatus: { status: reach.status, lastError: reach.lastError, routingTableVersion: reach.routingTableVersion } } : {}),
  };
}

export function serverRoleFunctions(services: ServerRoleServices): Record<string, FunctionHandler> {
  const { db, links } = services;
  const requireHost = (serverName: string): InstanceHostRecord => {
    const host = db.read().instanceHosts.find((h) => sameName(h.serverName, serverName));
    if (!host) throw new ManagementError('NOT_FOUND', `Instance Host '${serverName}' does not exist.`);
    return host as InstanceHostRecord;
  };
  const done = <T>(value: T): T => { services.changed(); return value; };

  const upsertHost = async (serverName: string, port: number | undefined, thumbprint: string | null | undefined, baseDirectory: string | null | undefined, mode: 'create' | 'set' | 'pair') =>
    db.update((draft) => {
      const index = draft.instanceHosts.findIndex((h) => sameName(h.serverName, serverName));
      if (mode === 'create' && index >= 0) throw new ManagementError('ALREADY_EXISTS', `Instance Host '${serverName}' already exists.`);
      if (mode === 'set' && index < 0) throw new ManagementError('NOT_FOUND', `Instance Host '${serverName}' does not exist.`);
      const previous = index >= 0 ? draft.instanceHosts[index]! : { serverName, port: DEFAULT_INSTANCE_HOST_PORT, thumbprint: null, baseDirectory: null };
      const next: InstanceHostRecord = {
        serverName: previous.serverName,
        port: port ?? previous.port,
        thumbprint: thumbprint === undefined ? previous.thumbprint : thumbprint,
        baseDirectory: baseDirectory === undefined ? previous.baseDirectory : baseDirectory === '' ? null : baseDirectory,
      };
      if (index >= 0) draft.instanceHosts[index] = next; else draft.instanceHosts.push(next);
    });

  const upsertCas = async (serverName: string, port: number | undefined, thumbprint: string | null | undefined, mode: 'create' | 'set' | 'pair') =>
    db.update((draft) => {
      const index = draft.clientAccessServers.findIndex((c) => sameName(c.serverName, serverName));
      if (mode === 'create' && index >= 0) throw new ManagementError('ALREADY_EXISTS', `Client Access Server '${serverName}' already exists.`);
      if (mode === 'set' && index < 0) throw new ManagementError('NOT_FOUND', `Client Access Server '${serverName}' does not exist.`);
      const previous = index >= 0 ? draft.clientAccessServers[index]! : { serverName, port: DEFAULT_CAS_PORT, thumbprint: null };
      const next: ClientAccessServerRecord = { serverName: previous.serverName, port: port ?? previous.port, thumbprint: thumbprint === undefined ? previous.thumbprint : thumbprint };
      if (index >= 0) draft.clientAccessServers[index] = next; else draft.clientAccessServers.push(next);
    });

  const filterByName = <T extends { serverName: string }>(list: readonly T[], filter: unknown): T[] =>
    typeof filter === 'string' && filter !== '' ? list.filter((item) => item.serverName === filter) : [...list];

  return {
    CreateInstanceHost: async (args) => {
      const config = args.config as Record<string, unknown>;
      checkServerName(config.serverName as string);
      await upsertHost(config.serverName as string, config.port as number | undefined, certificateThumbprint(config) ?? null, (config.baseDirectory as string | null | undefined) ?? null, 'create');
      return done(hostView(requireHost(config.serverName as string), links));
    },
    SetInstanceHostConfiguration: async (args) => {
      const config = args.config as Record<string, unknown>;
      await upsertHost(config.serverName as string, config.port as number | undefined, certificateThumbprint(config), config.baseDirectory as string | null | undefined, 'set');
      return done(null);
    },
    GetInstanceHosts: async (args) => filterByName(db.read().instanceHosts as InstanceHostRecord[], args.serverNameFilter).map((h) => hostView(h, links)),
    DeleteInstanceHost: async (args) => {
      const host = requireHost(args.serverName as string);
      const used = db.read().instances.filter((i) => sameName(i.host, host.serverName)).map((i) => i.id);
      if (used.length > 0) throw new ManagementError('INVALID_STATE', `Instance Host '${host.serverName}' still has instances (${used.join(', ')}); move or delete them first.`);
      await db.update((draft) => { draft.instanceHosts = draft.instanceHosts.filter((h) => !sameName(h.serverName, host.serverName)); });
      return done(null);
    },

    CreateClientAccessServer: async (args) => {
      const config = args.config as Record<string, unknown>;
      checkServerName(config.serverName as string);
      await upsertCas(config.serverName as string, config.port as number | undefined, certificateThumbprint(config) ?? null, 'create');
      return done(null);
    },
    SetClientAccessServerConfiguration: async (args) => {
      const config = args.config as Record<string, unknown>;
      await upsertCas(config.serverName as string, config.port as number | undefined, certificateThumbprint(config), 'set');
      return done(null);
    },
    GetClientAccessServers: async (args) =>
      filterByName(db.read().clientAccessServers as ClientAccessServerRecord[], args.serverNameFilter).map((c) => casView(c, args.withServiceStatus === true ? services.casReach(c.serverName) : null)),
    DeleteClientAccessServer: async (args) => {
      const name = args.serverName as string;
      if (!db.read().clientAccessServers.some((c) => sameName(c.serverName, name))) throw new ManagementError('NOT_FOUND', `Client Access Server '${name}' does not exist.`);
      await db.update((draft) => { draft.clientAccessServers = draft.clientAccessServers.filter((c) => !sameName(c.serverName, name)); });
      return done(null);
    },

    PairWithManagementServer: async (args) => {
      const serverName = args.serverName as string;
      checkServerName(serverName);
      const port = args.port as number;
      if (!Number.isInteger(port) || port < 1 || port > 65535) throw new ManagementError('INVALID_ARGUMENT', 'port: expected an integer from 1 to 65535.');
      const thumbprint = thumbprintArg(args.thumbprint, 'thumbprint');
      if (args.serverType === 'instanceHost') await upsertHost(serverName, port, thumbprint, undefined, 'pair');
      else await upsertCas(serverName, port, thumbprint, 'pair');
      return done(null);
    },

    CreateDirectoryOnInstanceHost: async (args) => {
      const host = requireHost(args.serverName as string);
      const dir = args.path as string;
      if (!path.isAbsolute(dir)) throw new ManagementError('INVALID_ARGUMENT', `path: '${dir}' is not an absolute path.`);
      await links.control(host.serverName).call('createDirectory', { path: dir }).catch((error: Error) => {
        throw new ManagementError('INSTANCE_FAILED', `Creating ${dir} on Instance Host '${host.serverName}' failed: ${error.message}`);
      });
      return null;
    },
    GetDirectoriesOnInstanceHost: async (args) => {
      const host = requireHost(args.serverName as string);
      const dir = typeof args.path === 'string' && args.path !== '' ? args.path : host.baseDirectory ?? '/';
      if (!path.isAbsolute(dir)) throw new ManagementError('INVALID_ARGUMENT', `path: '${dir}' is not an absolute path.`);
      const names = await links.control(host.serverName).call<string[]>('getDirectories', { path: dir }).catch((error: Error) => {
        throw new ManagementError('INSTANCE_FAILED', `Listing ${dir} on Instance Host '${host.serverName}' failed: ${error.message}`);
      });
      return names.sort().map((name) => path.join(dir, name));
    },

    ReloadBranding: async () => {
      const outcomes = await services.reloadBranding();
      const failed = outcomes.filter((o) => !o.ok);
      if (failed.length > 0) {
        throw new ManagementError('INSTANCE_FAILED', `ReloadBranding did not reach every Client Access Server: ${failed.map((o) => `${o.serverName}: ${o.error}`).join('; ')}.`);
      }
      return outcomes.map((o) => o.serverName);
    },

    CreateLicenseRequest: async () => {
      throw new ManagementError('NOT_AVAILABLE_YET', 'Coffer is free software (MIT) and needs no licence: there is no licence request to create.');
    },
  };
}
