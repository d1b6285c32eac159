/**
 * The Client Access Server role. By itself it runs the routing client (table from the Management
 * Server on 8471, kept on disk) and the push listener (8473: routing changes, ReloadBranding).
 * The user-facing services (IMAP on 143/993, Web Access on 443) plug in with
 * `registerCasService`, without touching this file:
 *
 *   registerCasService(async (ctx) => {
 *     const imap = await startImap({ resolveInstance: ctx.resolveInstance, log: ctx.log, … });
 *     return { close: () => imap.close() };
 *   });
 *
 * Services start in registration order after the routing client, and close in reverse order
 * before it. A service that fails to start stops the role (start-up errors are not hidden).
 */
import type { Logger } from '../common/logger.js';
import type { RoleCertificate } from '../common/certs.js';
import { port, type CofferConfig } from '../common/config.js';
import type { RoutingClient } from '../cas/routing/routing-client.js';
import type { ResolveInstance } from '../cas/routing/instance-resolver.js';
import { closeServer, listenOn } from './listen.js';

export type BrandingReloadOutcome = { ok: true } | { ok: false; error: string };

/** What a CAS service gets when it starts. */
export interface CasServiceContext {
  readonly config: CofferConfig;
  readonly log: Logger;
  /** Instance ID or alias → a shared, connected InstanceClient, or why not. */
  readonly resolveInstance: ResolveInstance;
  readonly routing: RoutingClient;
  /** The CAS role certificate (also its TLS certificate until operators configure their own). */
  readonly certificate: () => RoleCertificate;
  /** Runs `handler` on every pushed ReloadBranding; an outcome `{ok:false}` is reported to the API caller. */
  onReloadBranding(handler: () => Promise<BrandingReloadOutcome> | BrandingReloadOutcome): void;
}

export interface CasService { close(): Promise<void> }
export type CasServiceStarter = (ctx: CasServiceContext) => Promise<CasService>;

const registeredServices: CasServiceStarter[] = [];

/** How many services are registered (start-up prints the IMAP and web ports only when some are). */
export function registeredCasServiceCount(): number {
  return registeredServices.length;
}

/** Adds a service to every CAS role started afterwards in this process. */
export function registerCasService(start: CasServiceStarter): void {
  registeredServices.push(start);
}

export interface CasRoleOptions {
  readonly config: CofferConfig;
  readonly log: Logger;
  readonly resolveInstance: ResolveInstance;
  readonly routing: RoutingClient;
  readonly certificate: RoleCertificate | (() => RoleCertificate);
  /** Thumbprints allowed to push on 8473; by default the Management Server's that the routing client trusts. */
  readonly managementThumbprints?: () => ReadonlySet<string>;
  /** Services to start instead of the registered ones (tests). */
  readonly services?: readonly CasServiceStarter[];
  readonly bindHost?: string;
}

export interface CasRole {
  readonly pushPort: number;
  /** Runs every ReloadBranding handler; the first refusal is the answer. */
  reloadBranding(): Promise<BrandingReloadOutcome>;
  close(): Promise<void>;
}

export async function startCasRole(options: CasRoleOptions): Promise<CasRole> {
  const log = options.log.child({ role: 'cas' });
  const certificate = typeof options.certificate === 'function' ? options.certificate : () => options.certificate as RoleCertificate;
  const reloaders: (() => Promise<BrandingReloadOutcome> | BrandingReloadOutcome)[] = [];
  const reloadBranding = async (): Promise<BrandingReloadOutcome> => {
    for (const reload of reloaders) {
      const outcome = await reload();
      if (!outcome.ok) return outcome;
    }
    return { ok: true };
  };
  options.routing.on('reloadBranding', () => log.info('ReloadBranding received'));

  await options.routing.start();
  const trusted = options.managementThumbprints ?? (() => new Set(options.routing.managementThumbprint ? [options.routing.managementThumbprint] : []));
  const pushServer = options.routing.createPushServer(trusted);
  const pushPort = await listenOn(pushServer, port(options.config, 'casPush'), options.bindHost ?? options.config.host, 'CAS push endpoint');

  const running: CasService[] = [];
  const close = async () => {
    for (const service of running.reverse()) await service.close().catch((error) => log.error({ err: error }, 'closing a CAS service failed'));
    running.length = 0;
    await options.routing.close();
    await closeServer(pushServer);
  };
  const ctx: CasServiceContext = {
    config: options.config,
    log,
    resolveInstance: options.resolveInstance,
    routing: options.routing,
    certificate,
    onReloadBranding: (handler) => { reloaders.push(handler); },
  };
  try {
    for (const start of options.services ?? registeredServices) running.push(await start(ctx));
  } catch (error) {
    await close();
    throw error;
  }
  return { pushPort, reloadBranding, close };
}
