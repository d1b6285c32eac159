/**
 * The Management Server role: management database, Management API (8474, HTTPS with the role
 * certificate), the Management Console (8470, same certificate), the role endpoint (8471) that serves the
 * routing table, and the links to the Instance Hosts. In single server mode it registers the local
 * Instance Host and CAS with their thumbprints (and current ports) on every start.
 */
import os from 'node:os';
import type { Logger } from '../common/logger.js';
import type { RoleCertificate } from '../common/certs.js';
import { port, type CofferConfig } from '../common/config.js';
import { buildManagementApiApp } from '../management/api/build-app.js';
import { buildConsoleApp } from '../management/console/build-console-app.js';
import { createFunctionRegistry } from '../management/api/metadata.js';
import { openManagementServer, type ManagementServerParts } from '../management/management-server.js';
import { createManagementCore, type ManagementCore } from '../management/management-role.js';
import type { AuthenticatedAdmin } from '../management/admins.js';
import { closeServer, listenOn } from './listen.js';

export interface LocalRole { readonly thumbprint: string; readonly port: number }

export interface ManagementRoleOptions {
  readonly config: CofferConfig;
  readonly log: Logger;
  readonly certificate: RoleCertificate;
  readonly productVersion: string;
  /** Roles running in this process (single server mode), registered under this machine's name. */
  readonly localInstanceHost?: LocalRole;
  readonly localCas?: LocalRole;
  readonly env?: NodeJS.ProcessEnv;
}

export interface ManagementRole {
  readonly ports: { readonly api: number; readonly console: number; readonly roleEndpoint: number };
  readonly thumbprint: string;
  readonly serverName: string;
  readonly parts: ManagementServerParts;
  readonly core: ManagementCore;
  /** Runs a function as the given administrator, without HTTP (first-start set-up such as the demo). */
  invoke(name: string, args: Record<string, unknown>, admin?: AuthenticatedAdmin): Promise<unknown>;
  close(): Promise<void>;
}

/** The name this machine's roles are registered under. */
export function localServerName(): string {
  return os.hostname().toLowerCase();
}

export async function startManagementRole(options: ManagementRoleOptions): Promise<ManagementRole> {
  const log = options.log.child({ role: 'management' });
  const certificate = options.certificate;
  const serverName = localServerName();
  let core: ManagementCore | null = null;
  const parts = await openManagementServer(options.config.dataDir, {
    facts: {
      productVersion: options.productVersion, startedAt: new Date(), serverName,
      probe: {
        instanceHostStatus: (name) => (core ? (core.links.isConnected(name) ? 'running' : 'disconnected') : 'unknown'),
        clientAccessServerStatus: (name) => (core ? core.routing.casReach(name).status : 'unknown'),
      },
    },
    env: options.env,
    forward: (declaration, args, context) => core!.forward(declaration, args, context),
  });
  await registerLocalRoles(parts, serverName, options);
  core = createManagementCore({ db: parts.db, certificate: () => certificate, log, extraPinned: () => [options.localCas?.thumbprint, options.localInstanceHost?.thumbprint].filter((t): t is string => !!t) });
  const started = core;

  const api = await buildManagementApiApp({ tls: { key: certificate.keyPem, cert: certificate.certPem }, api: parts.apiOptions, logger: log.child({ part: 'api' }) });
  const registry = createFunctionRegistry();
  const invokeAs = async (name: string, args: Record<string, unknown>, admin: AuthenticatedAdmin = { userName: 'admin' }): Promise<unknown> => {
    const declaration = registry.find(name);
    if (!declaration) throw new Error(`unknown function ${name}`);
    return parts.apiOptions.invoke(declaration, args, { admin, signal: new AbortController().signal, progress: () => {}, log: () => {}, remote: 'local' });
  };
  const consoleApp = await buildConsoleApp({ admins: parts.admins, invoke: invokeAs, logger: log.child({ part: 'console' }), tls: { key: certificate.keyPem, cert: certificate.certPem } });
  const roleEndpoint = core.routing.createRoleEndpoint();
  const closers: (() => Promise<void>)[] = [];
  try {
    const host = options.config.host;
    await api.listen({ port: port(options.config, 'managementApi'), host });
    closers.push(() => api.close());
    await consoleApp.listen({ port: port(options.config, 'console'), host });
    closers.push(() => consoleApp.close());
    const rolePort = await listenOn(roleEndpoint, port(options.config, 'roleEndpoint'), host, 'Management Server role endpoint');
    closers.push(() => closeServer(roleEndpoint));
  } catch (error) {
    started.close();
    for (const close of closers.reverse()) await close().catch(() => {});
    throw error;
  }
  core.start();

  return {
    ports: { api: port(options.config, 'managementApi'), console: port(options.config, 'console'), roleEndpoint: port(options.config, 'roleEndpoint') },
    thumbprint: certificate.thumbprint,
    serverName,
    parts,
    core,
    invoke: invokeAs,
    async close() {
      started.close();
      for (const close of closers.reverse()) await close().catch((error) => log.warn({ err: error }, 'closing a Management Server port failed'));
    },
  };
}

async function registerLocalRoles(parts: ManagementServerParts, serverName: string, options: ManagementRoleOptions): Promise<void> {
  const { localInstanceHost, localCas } = options;
  if (!localInstanceHost && !localCas) return;
  await parts.db.update((draft) => {
    if (localInstanceHost) {
      const host = draft.instanceHosts.find((h) => h.serverName.toLowerCase() === serverName);
      if (host) { host.port = localInstanceHost.port; host.thumbprint = localInstanceHost.thumbprint; }
      else draft.instanceHosts.push({ serverName, port: localInstanceHost.port, thumbprint: localInstanceHost.thumbprint, baseDirectory: null });
    }
    if (localCas) {
      const cas = draft.clientAccessServers.find((c) => c.serverName.toLowerCase() === serverName);
      if (cas) { cas.port = localCas.port; cas.thumbprint = localCas.thumbprint; }
      else draft.clientAccessServers.push({ serverName, port: localCas.port, thumbprint: localCas.thumbprint });
    }
  });
}
