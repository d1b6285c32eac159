/**
 * One supervisor process running the roles of this machine (DESIGN.md §1): all three in single
 * server mode, or those named by `--roles` in multi server mode. Instances always run as child
 * processes of the Instance Host. Start order: Instance Host, Management Server, CAS; shutdown in
 * reverse, so instances are stopped cleanly last and CASes stop routing first.
 */
import type { Logger } from '../common/logger.js';
import { port, type CofferConfig } from '../common/config.js';
import { RoutingCache } from '../cas/routing/routing-cache.js';
import { RoutingClient, type ManagementServerAddress } from '../cas/routing/routing-client.js';
import { createInstanceResolver } from '../cas/routing/instance-resolver.js';
import { startInstanceHostRole, type InstanceHostRole } from './instance-host-role.js';
import { startManagementRole, type ManagementRole } from './management-server-role.js';
import { startCasRole, type CasRole, type CasServiceStarter } from './cas-role.js';
import { roleCertificate } from './role-certificates.js';
import { trustedThumbprintsFile } from './trusted-thumbprints.js';

export interface CofferServerOptions {
  readonly log: Logger;
  readonly productVersion: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Multi server mode, CAS role: the Management Server's role endpoint (8471) and thumbprint. */
  readonly managementServer?: ManagementServerAddress;
  /** Multi server mode, Instance Host role: thumbprints of the Management Server and CASes it serves. */
  readonly trustedThumbprints?: readonly string[];
  /** CAS services instead of the registered ones (tests). */
  readonly casServices?: readonly CasServiceStarter[];
  readonly routingPollIntervalMs?: number;
}

export interface CofferServer {
  readonly instanceHost: InstanceHostRole | null;
  readonly management: ManagementRole | null;
  readonly cas: CasRole | null;
  readonly routing: RoutingClient | null;
  readonly thumbprints: Readonly<Record<'management' | 'instanceHost' | 'cas', string | null>>;
  close(): Promise<void>;
}

export async function startCofferServer(config: CofferConfig, options: CofferServerOptions): Promise<CofferServer> {
  const has = (role: CofferConfig['roles'][number]) => config.roles.includes(role);
  const managementCert = has('management') ? roleCertificate(config, 'management') : null;
  const hostCert = has('instance-host') ? roleCertificate(config, 'instanceHost') : null;
  const casCert = has('cas') ? roleCertificate(config, 'cas') : null;
  const trusted = [...(options.trustedThumbprints ?? []), ...(managementCert ? [managementCert.thumbprint] : []), ...(casCert ? [casCert.thumbprint] : [])];

  const closers: (() => Promise<void>)[] = [];
  const closeAll = async () => { for (const close of closers.splice(0).reverse()) await close().catch((error) => options.log.error({ err: error }, 'shutdown step failed')); };
  let management: ManagementRole | null = null;
  try {
    let instanceHost: InstanceHostRole | null = null;
    if (hostCert) {
      // With the Management Server in this process, CASes paired with it are trusted as they are paired.
      const pairedCases = () => (management ? management.parts.db.read().clientAccessServers.flatMap((c) => (c.thumbprint ? [c.thumbprint] : [])) : []);
      const fromFile = trustedThumbprintsFile(config.dataDir, options.log);
      instanceHost = await startInstanceHostRole({ config, log: options.log, certificate: hostCert, trustedThumbprints: () => [...trusted, ...pairedCases(), ...fromFile()] });
      const role = instanceHost;
      closers.push(() => role.close());
    }
    if (managementCert) {
      management = await startManagementRole({
        config, log: options.log, certificate: managementCert, productVersion: options.productVersion, env: options.env,
        localInstanceHost: instanceHost ? { thumbprint: instanceHost.thumbprint, port: instanceHost.port } : undefined,
        localCas: casCert ? { thumbprint: casCert.thumbprint, port: port(config, 'casPush') } : undefined,
      });
      const role = management;
      closers.push(() => role.close());
    }
    let cas: CasRole | null = null;
    let routing: RoutingClient | null = null;
    if (casCert) {
      const managementAddress = options.managementServer ?? (managementCert ? { host: '127.0.0.1', port: port(config, 'roleEndpoint'), thumbprint: managementCert.thumbprint } : null);
      if (!managementAddress) options.log.warn('CAS role without a Management Server (--management-server, --management-thumbprint): routing only from the table on disk');
      const log = options.log.child({ role: 'cas' });
      let casRole: CasRole | null = null;
      routing = new RoutingClient({
        cache: RoutingCache.forDataDir(config.dataDir),
        management: managementAddress,
        certificate: () => casCert,
        log: log.child({ part: 'routing' }),
        reloadBranding: async () => (casRole ? casRole.reloadBranding() : { ok: true }),
        pollIntervalMs: options.routingPollIntervalMs,
      });
      const client = routing;
      const resolver = createInstanceResolver({ lookup: (name) => client.lookup(name), certificate: () => casCert, log });
      closers.push(async () => resolver.close());
      casRole = await startCasRole({ config, log: options.log, resolveInstance: resolver.resolveInstance, routing, certificate: casCert, services: options.casServices });
      cas = casRole;
      closers.push(() => casRole!.close());
    }
    return {
      instanceHost, management, cas, routing,
      thumbprints: { management: managementCert?.thumbprint ?? null, instanceHost: hostCert?.thumbprint ?? null, cas: casCert?.thumbprint ?? null },
      close: closeAll,
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}
