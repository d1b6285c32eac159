/**
 * The Instance Host role: the supervisor of instance processes and its endpoint (8472), mutual TLS
 * pinned to the Management Server and CAS certificates it trusts plus its own (local tools such
 * as `coffer import` present the host's certificate: whoever can read its key operates the host).
 */
import path from 'node:path';
import type { Logger } from '../common/logger.js';
import type { RoleCertificate } from '../common/certs.js';
import { port, type CofferConfig } from '../common/config.js';
import { InstanceSupervisor } from '../instance-host/supervisor.js';
import { createInstanceHostServer } from '../instance-host/server.js';
import { closeServer, listenOn } from './listen.js';

export interface InstanceHostRoleOptions {
  readonly config: CofferConfig;
  readonly log: Logger;
  readonly certificate: RoleCertificate;
  /** Thumbprints of the Management Server and CASes allowed to connect (read on every connection). */
  readonly trustedThumbprints: () => Iterable<string>;
  /** Bind address; the config's host by default. */
  readonly bindHost?: string;
}

export interface InstanceHostRole {
  readonly port: number;
  readonly thumbprint: string;
  readonly supervisor: InstanceSupervisor;
  /** Stops every instance cleanly, then the endpoint. */
  close(): Promise<void>;
}

export async function startInstanceHostRole(options: InstanceHostRoleOptions): Promise<InstanceHostRole> {
  const log = options.log.child({ role: 'instance-host' });
  const supervisor = new InstanceSupervisor(log);
  const server = createInstanceHostServer({
    supervisor,
    certificate: () => options.certificate,
    pinned: () => new Set([options.certificate.thumbprint, ...options.trustedThumbprints()]),
    log,
    instancesDir: path.join(options.config.dataDir, 'instances'),
  });
  const boundPort = await listenOn(server, port(options.config, 'instanceHost'), options.bindHost ?? options.config.host, 'Instance Host');
  return {
    port: boundPort,
    thumbprint: options.certificate.thumbprint,
    supervisor,
    async close() {
      await supervisor.stopAll();
      await closeServer(server);
    },
  };
}
