/**
 * `resolveInstance(idOrAlias)` for the IMAP server and Web Access: routing table → one shared,
 * multiplexed InstanceClient per instance (RPC calls of all sessions share its connection),
 * opened on first use, reopened when it closed or the instance moved to another host.
 * Concurrent first uses wait for the same connection attempt.
 */
import type { Logger } from '../../common/logger.js';
import type { RoleCertificate } from '../../common/certs.js';
import { InstanceClient, type HostAddress } from '../../instance/client.js';
import { ROUTABLE_STATUSES, type RoutingEntry } from './routing-wire.js';

export type ResolveInstanceResult =
  | { ok: true; instanceId: string; client: InstanceClient }
  | { ok: false; reason: 'unknown' | 'unavailable'; message: string };

export type ResolveInstance = (idOrAlias: string) => Promise<ResolveInstanceResult>;

export interface InstanceResolverOptions {
  readonly lookup: (idOrAlias: string) => RoutingEntry | undefined;
  /** The CAS certificate, presented to Instance Hosts (8472). */
  readonly certificate: () => RoleCertificate;
  readonly log: Logger;
  /** Test seam; InstanceClient.connect by default. */
  readonly connect?: (instanceId: string, address: HostAddress, own: RoleCertificate) => Promise<InstanceClient>;
}

interface Slot { key: string; client: InstanceClient | null; connecting: Promise<InstanceClient> | null }

export interface InstanceResolver {
  readonly resolveInstance: ResolveInstance;
  /** Closes every shared connection (shutdown). */
  close(): void;
}

export function createInstanceResolver(options: InstanceResolverOptions): InstanceResolver {
  const slots = new Map<string, Slot>();
  const connect = options.connect ?? ((id, address, own) => InstanceClient.connect(id, address, own));
  let isClosed = false;

  const clientFor = (entry: RoutingEntry, address: HostAddress): Promise<InstanceClient> => {
    const key = `${address.host}:${address.port}:${address.thumbprint}`;
    let slot = slots.get(entry.instanceId);
    if (slot && slot.key !== key) { slot.client?.close(); slots.delete(entry.instanceId); slot = undefined; }
    if (!slot) { slot = { key, client: null, connecting: null }; slots.set(entry.instanceId, slot); }
    if (slot.client && !slot.client.isClosed) return Promise.resolve(slot.client);
    const s = slot;
    s.connecting ??= connect(entry.instanceId, address, options.certificate()).then((client) => {
      s.client = client;
      client.on('close', () => { if (s.client === client) s.client = null; });
      if (isClosed) client.close();
      return client;
    }).finally(() => { s.connecting = null; });
    return s.connecting;
  };

  return {
    async resolveInstance(idOrAlias) {
      const entry = options.lookup(idOrAlias);
      if (!entry) return { ok: false, reason: 'unknown', message: `There is no instance '${idOrAlias}'.` };
      if (!ROUTABLE_STATUSES.includes(entry.status)) return { ok: false, reason: 'unavailable', message: `Instance '${entry.instanceId}' is not available (${entry.status}).` };
      if (!entry.address) return { ok: false, reason: 'unavailable', message: `Instance '${entry.instanceId}' has no reachable Instance Host.` };
      if (isClosed) return { ok: false, reason: 'unavailable', message: 'The Client Access Server is shutting down.' };
      try {
        return { ok: true, instanceId: entry.instanceId, client: await clientFor(entry, entry.address) };
      } catch (error) {
        options.log.warn({ instance: entry.instanceId, err: (error as Error).message }, 'instance not reachable');
        return { ok: false, reason: 'unavailable', message: `Instance '${entry.instanceId}' cannot be reached right now.` };
      }
    },
    close() {
      isClosed = true;
      for (const slot of slots.values()) slot.client?.close();
      slots.clear();
    },
  };
}
