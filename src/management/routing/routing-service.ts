/**
 * The routing table on the Management Server (DESIGN.md §3): instance ID, alias, Instance Host
 * address and thumbprint, status, and a version kept in the management database
 * (`routingTableVersion`) so it never goes backwards across restarts. Every change is pushed to
 * each registered CAS on its port 8473 as a diff from the previous version; the whole table is
 * served on the role endpoint 8471 to CASes that start or missed a change. Both sockets are
 * mutual TLS pinned to the thumbprints in the management database.
 */
import type tls from 'node:tls';
import type { Logger } from '../../common/logger.js';
import type { RoleCertificate } from '../../common/certs.js';
import { connectPinned, createPinnedServer } from '../../common/mtls.js';
import { RpcPeer } from '../../common/rpc/peer.js';
import { ROUTING_RPC, diffTables, type RoutingChange, type RoutingEntry, type RoutingTable } from '../../cas/routing/routing-wire.js';
import type { ManagementDb } from '../db/management-db.js';
import type { ClientAccessServerRecord, InstanceRecord } from '../db/schema.js';
import type { HostLinks } from '../hosts/host-links.js';
import type { CasReach } from '../hosts/server-role-functions.js';
import { viewInstance, type InstanceServices } from '../instances/instance-lifecycle.js';

/** A CAS that does not answer a push in this time is marked unreachable; it re-reads later. */
const PUSH_TIMEOUT_MS = 10_000;
/** Unreachable CASes are tried again this often with the latest change. */
const PUSH_RETRY_MS = 15_000;

interface CasState {
  queue: Promise<void>;
  status: CasReach['status'];
  lastError: string | null;
  version: number | null;
}

export interface RoutingServiceOptions {
  readonly db: ManagementDb;
  readonly links: HostLinks;
  readonly certificate: () => RoleCertificate;
  readonly log: Logger;
  /** Extra thumbprints allowed on the role endpoint (single server mode: the local CAS before it is registered). */
  readonly extraPinned?: () => Iterable<string>;
}

export class RoutingService {
  #entries: RoutingEntry[] | null = null;
  #refreshing: Promise<void> = Promise.resolve();
  #isDirty = false;
  readonly #cas = new Map<string, CasState>();
  readonly #servers = new Set<tls.Server>();
  readonly #retryTimer: NodeJS.Timeout;
  #isClosed = false;

  constructor(private readonly options: RoutingServiceOptions) {
    options.links.on('change', () => this.refresh());
    this.#retryTimer = setInterval(() => this.#retryUnreachable(), PUSH_RETRY_MS);
    this.#retryTimer.unref();
  }

  current(): RoutingTable {
    return { version: this.options.db.read().routingTableVersion, entries: this.#entries ?? this.#compute() };
  }

  /** Recomputes the table; when it changed, bumps the version and pushes the change. Serialised. */
  refresh(): Promise<void> {
    if (this.#isClosed) return this.#refreshing;
    if (this.#isDirty) return this.#refreshing;
    this.#isDirty = true;
    this.#refreshing = this.#refreshing.then(async () => {
      this.#isDirty = false;
      const next = this.#compute();
      const previous = this.#entries;
      const { upserts, removes } = diffTables(previous ?? [], next);
      if (previous !== null && upserts.length === 0 && removes.length === 0) {
        // Nothing changed, but a CAS registered or paired since the last push has never heard
        // from us: an empty change at the current version makes it read the whole table.
        const version = this.options.db.read().routingTableVersion;
        for (const cas of this.#casRecords()) {
          if (this.#stateOf(cas.serverName).status === 'unknown') this.#push(cas, { fromVersion: version, toVersion: version, upserts: [], removes: [] });
        }
        return;
      }
      const fromVersion = this.options.db.read().routingTableVersion;
      const toVersion = await this.options.db.update((draft) => ++draft.routingTableVersion);
      this.#entries = next;
      // The first table after a start is a full re-read for every CAS (fromVersion cannot match).
      const change: RoutingChange = previous === null ? { fromVersion: -1, toVersion, upserts: next, removes: [] } : { fromVersion, toVersion, upserts, removes };
      this.options.log.info({ version: toVersion, upserts: upserts.length, removes: removes.length }, 'routing table changed');
      this.#pushAll(change);
    }).catch((error) => this.options.log.error({ err: error }, 'routing table refresh failed'));
    return this.#refreshing;
  }

  /** Resolves when every refresh asked for so far has been applied (pushes may still be in flight). */
  async settled(): Promise<void> {
    await this.#refreshing;
    await Promise.all([...this.#cas.values()].map((s) => s.queue));
  }

  casReach(serverName: string): CasReach {
    const state = this.#cas.get(serverName.toLowerCase());
    return { serverName, status: state?.status ?? 'unknown', lastError: state?.lastError ?? null, routingTableVersion: state?.version ?? null };
  }

  async reloadBranding(): Promise<{ serverName: string; ok: boolean; error: string | null }[]> {
    return Promise.all(this.#casRecords().map(async (cas) => {
      try {
        const answer = await this.#callCas<{ ok: boolean; error?: string | null }>(cas, ROUTING_RPC.reloadBranding, {});
        return { serverName: cas.serverName, ok: answer?.ok !== false, error: answer?.ok === false ? answer.error ?? 'refused' : null };
      } catch (error) {
        return { serverName: cas.serverName, ok: false, error: (error as Error).message };
      }
    }));
  }

  /** The role endpoint (8471): CASes (and Instance Hosts) registered with a thumbprint may connect. */
  createRoleEndpoint(): tls.Server {
    const pinned = () => {
      const database = this.options.db.read();
      const set = new Set<string>();
      for (const server of [...database.clientAccessServers, ...database.instanceHosts]) if (server.thumbprint) set.add(server.thumbprint);
      for (const extra of this.options.extraPinned?.() ?? []) set.add(extra);
      return set;
    };
    const server = createPinnedServer(this.options.certificate, pinned, (socket, thumbprint) => {
      const peer = new RpcPeer(socket, { [ROUTING_RPC.getRoutingTable]: () => this.current() });
      peer.on('close', () => socket.destroy());
      socket.on('error', () => socket.destroy());
      this.options.log.debug({ thumbprint }, 'role endpoint: peer connected');
    });
    this.#servers.add(server);
    return server;
  }

  close(): void {
    this.#isClosed = true;
    clearInterval(this.#retryTimer);
    for (const server of this.#servers) server.close();
  }

  #compute(): RoutingEntry[] {
    const services = { db: this.options.db, links: this.options.links, log: this.options.log, changed: () => {} } satisfies InstanceServices;
    return (this.options.db.read().instances as InstanceRecord[]).map((record) => ({
      instanceId: record.id,
      alias: record.alias,
      hostName: record.host,
      address: this.options.links.address(record.host),
      status: viewInstance(services, record).status,
    })).sort((a, b) => (a.instanceId < b.instanceId ? -1 : 1));
  }

  #casRecords(): ClientAccessServerRecord[] {
    return (this.options.db.read().clientAccessServers as ClientAccessServerRecord[]).filter((cas) => cas.thumbprint !== null);
  }

  #stateOf(serverName: string): CasState {
    const key = serverName.toLowerCase();
    let state = this.#cas.get(key);
    if (!state) { state = { queue: Promise.resolve(), status: 'unknown', lastError: null, version: null }; this.#cas.set(key, state); }
    return state;
  }

  #pushAll(change: RoutingChange): void {
    for (const cas of this.#casRecords()) this.#push(cas, change);
  }

  #push(cas: ClientAccessServerRecord, change: RoutingChange): void {
    const state = this.#stateOf(cas.serverName);
    state.queue = state.queue.then(async () => {
      try {
        const answer = await this.#callCas<{ version: number }>(cas, ROUTING_RPC.routingChanged, change);
        state.status = 'connected';
        state.lastError = null;
        state.version = answer?.version ?? null;
      } catch (error) {
        state.status = 'unreachable';
        state.lastError = (error as Error).message;
        this.options.log.warn({ cas: cas.serverName, err: state.lastError }, 'routing change not delivered; the CAS will re-read the table');
      }
    });
  }

  #retryUnreachable(): void {
    if (this.#entries === null) return;
    const version = this.options.db.read().routingTableVersion;
    for (const cas of this.#casRecords()) {
      const state = this.#stateOf(cas.serverName);
      if (state.status === 'connected' && state.version === version) continue;
      // An empty change at the current version: a CAS behind it notices the gap and re-reads.
      this.#push(cas, { fromVersion: version, toVersion: version, upserts: [], removes: [] });
    }
  }

  async #callCas<T>(cas: ClientAccessServerRecord, method: string, params: unknown): Promise<T> {
    const host = this.options.links.resolveHostName(cas.serverName);
    const socket = await connectPinned(host, cas.port, this.options.certificate(), cas.thumbprint!, PUSH_TIMEOUT_MS);
    const peer = new RpcPeer(socket);
    try {
      return await peer.call<T>(method, params, PUSH_TIMEOUT_MS);
    } finally {
      peer.close();
    }
  }
}
