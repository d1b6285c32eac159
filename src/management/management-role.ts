/**
 * Everything the Management Server runs besides the API edge: links to the Instance Hosts,
 * instance lifecycle, forwarding of instance functions, hosts and CASes, and the routing table.
 * `createManagementForward` returns the `forward` for openManagementServer; the caller (the
 * server role in src/server) listens on the ports.
 */
import type { Logger } from '../common/logger.js';
import type { RoleCertificate } from '../common/certs.js';
import type { ManagementDb } from './db/management-db.js';
import { ManagementError } from './errors.js';
import type { FunctionHandler } from './functions/handler.js';
import type { ManagementInvokerOptions } from './functions/management-invoker.js';
import { HostLinks, type HostNameResolver } from './hosts/host-links.js';
import { serverRoleFunctions } from './hosts/server-role-functions.js';
import { deferredInstanceFunctions } from './instances/deferred-instance-functions.js';
import { instanceConnector, forwardToInstance } from './instances/instance-forward.js';
import { instanceLifecycleFunctions, setUpHostInstances, type InstanceServices } from './instances/instance-lifecycle.js';
import { RoutingService } from './routing/routing-service.js';

export interface ManagementCoreOptions {
  readonly db: ManagementDb;
  /** The Management Server's role certificate (client side on 8472 and 8473, server side on 8471). */
  readonly certificate: () => RoleCertificate;
  readonly log: Logger;
  readonly resolveHostName?: HostNameResolver;
  readonly extraPinned?: () => Iterable<string>;
}

export interface ManagementCore {
  readonly links: HostLinks;
  readonly routing: RoutingService;
  readonly forward: NonNullable<ManagementInvokerOptions['forward']>;
  /** Names answered here (not forwarded to an instance process). */
  readonly handledNames: readonly string[];
  /** Opens the links to the registered Instance Hosts (and again after host changes). */
  start(): void;
  close(): void;
}

export function createManagementCore(options: ManagementCoreOptions): ManagementCore {
  let routing: RoutingService | null = null;
  const changed = () => { links.sync(); void routing?.refresh(); };
  let connect: ReturnType<typeof instanceConnector>;
  const links: HostLinks = new HostLinks({
    db: options.db,
    certificate: options.certificate,
    log: options.log.child({ part: 'host-links' }),
    resolveHostName: options.resolveHostName,
    onHostConnected: (serverName, control) => setUpHostInstances(services, serverName, control, connect),
  });
  const services: InstanceServices = { db: options.db, links, log: options.log, changed };
  connect = instanceConnector(services, options.certificate);
  routing = new RoutingService({ db: options.db, links, certificate: options.certificate, log: options.log.child({ part: 'routing' }), extraPinned: options.extraPinned });
  const routingService = routing;

  const handlers = new Map<string, FunctionHandler>(Object.entries({
    ...instanceLifecycleFunctions(services, connect),
    ...serverRoleFunctions({
      db: options.db,
      links,
      reloadBranding: () => routingService.reloadBranding(),
      casReach: (serverName) => routingService.casReach(serverName),
      changed,
    }),
    ...deferredInstanceFunctions(options.db),
  }));
  const toInstance = forwardToInstance(services, connect);

  return {
    links,
    routing: routingService,
    handledNames: [...handlers.keys()],
    forward: async (declaration, args, context) => {
      const handler = handlers.get(declaration.name);
      if (handler) {
        if (declaration.scope === 'instance' && typeof args.instanceID === 'string' && !options.db.read().instances.some((i) => i.id === args.instanceID) && declaration.name !== 'GetInstanceConfiguration') {
          throw new ManagementError('NOT_FOUND', `Instance '${args.instanceID}' does not exist.`);
        }
        return handler(args, context);
      }
      if (declaration.scope === 'instance') return toInstance(declaration.name)(args, context);
      throw new ManagementError('NOT_IMPLEMENTED', `${declaration.name} is not available on this Management Server yet.`);
    },
    start() {
      links.sync();
      void routingService.refresh();
    },
    close() {
      routingService.close();
      links.close();
    },
  };
}
