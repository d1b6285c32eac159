/**
 * The CAS side of routing: reads the table from the Management Server's role endpoint (8471),
 * listens for pushed changes and ReloadBranding on 8473 (mutual TLS pinned to the Management
 * Server's thumbprint), re-reads the whole table when a change does not follow the version it
 * holds, and re-reads every `pollIntervalMs` as a safety net. While the Management Server is
 * unreachable it keeps serving from the last table (also after a restart: the table on disk).
 */
import type tls from 'node:tls';
import { EventEmitter } from 'node:events';
import type { Logger } from '../../common/logger.js';
import type { RoleCertificate } from '../../common/certs.js';
import { connectPinned, createPinnedServer } from '../../common/mtls.js';
import { RpcError, RpcPeer } from '../../common/rpc/peer.js';
import { RoutingCache } from './routing-cache.js';
import { ROUTING_RPC, isRoutingTable, type RoutingChange, type RoutingEntry } from './routing-wire.js';

/** Safety-net re-read; pushes carry changes at once. */
const DEFAULT_POLL_INTERVAL_MS = 60_000;
const READ_TIMEOUT_MS = 10_000;

export interface ManagementServerAddress { readonly host: string; readonly port: number; readonly thumbprint: string }

export interface RoutingClientOptions {
  readonly cache: RoutingCache;
  /** The Management Server's role endpoint (8471); null: only pushes and the table on disk. */
  readonly management: ManagementServerAddress | null;
  /** The CAS certificate, presented on 8471 and 8473. */
  readonly certificate: () => RoleCertificate;
  readonly log: Logger;
  /** Called on a pushed ReloadBranding; an error (or `{ok:false}`) is reported back to the caller. */
  readonly reloadBranding?: () => Promise<{ ok: boolean; error?: string } | void> | { ok: boolean; error?: string } | void;
  readonly pollIntervalMs?: number;
}

/** Events: `updated` (version) after every table change; `reloadBranding`. */
export class RoutingClient extends EventEmitter {
  readonly cache: RoutingCache;
  #pushServer: tls.Server | null = null;
  #pollTimer: NodeJS.Timeout | null = null;
  #reading: Promise<boolean> | null = null;
  #lastReadError: string | null = null;
  readonly #pushSockets = new Set<tls.TLSSocket>();

  constructor(private readonly options: RoutingClientOptions) {
    super();
    this.cache = options.cache;
  }

  /** Loads the table on disk, then tries the Management Server (without waiting longer than one attempt). */
  async start(): Promise<void> {
    if (this.cache.loadFromDisk()) this.options.log.info({ version: this.cache.version, instances: this.cache.table.entries.length }, 'routing table loaded from disk');
    await this.refresh();
    const interval = this.options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
    if (interval > 0) {
      this.#pollTimer = setInterval(() => void this.refresh(), interval);
      this.#pollTimer.unref();
    }
  }

  /** Thumbprint of the Management Server this client trusts (pushes on 8473 must come from it). */
  get managementThumbprint(): string | null { return this.options.management?.thumbprint ?? null; }

  lookup(idOrAlias: string): RoutingEntry | undefined { return this.cache.lookup(idOrAlias); }
  get version(): number { return this.cache.version; }
  /** Why the last read from the Management Server failed; null after a good one. */
  get lastReadError(): string | null { return this.#lastReadError; }

  /** Reads the whole table from the Management Server; false (table unchanged) when it cannot be reached. */
  refresh(): Promise<boolean> {
    if (!this.options.management) return Promise.resolve(false);
    this.#reading ??= this.#read().finally(() => { this.#reading = null; });
    return this.#reading;
  }

  async #read(): Promise<boolean> {
    const ms = this.options.management!;
    try {
      const socket = await connectPinned(ms.host, ms.port, this.options.certificate(), ms.thumbprint, READ_TIMEOUT_MS);
      const peer = new RpcPeer(socket);
      let table: unknown;
      try { table = await peer.call(ROUTING_RPC.getRoutingTable, {}, READ_TIMEOUT_MS); } finally { peer.close(); }
      if (!isRoutingTable(table)) throw new Error('the Management Server sent a malformed routing table');
      const changed = table.version !== this.cache.version || JSON.stringify(table.entries) !== JSON.stringify(this.cache.table.entries);
      if (changed) { this.cache.replace(table); this.emit('updated', table.version); }
      this.#lastReadError = null;
      return true;
    } catch (error) {
      const message = (error as Error).message;
      if (message !== this.#lastReadError) this.options.log.warn({ err: message, version: this.cache.version }, 'routing table not read from the Management Server; serving the last one');
      this.#lastReadError = message;
      return false;
    }
  }

  /** The push endpoint (8473): only the Management Server's certificate may connect. */
  createPushServer(managementThumbprints: () => ReadonlySet<string>): tls.Server {
    const server = createPinnedServer(this.options.certificate, managementThumbprints, (socket) => {
      this.#pushSockets.add(socket);
      socket.on('close', () => this.#pushSockets.delete(socket));
      const peer = new RpcPeer(socket, {
        [ROUTING_RPC.routingChanged]: async (change: RoutingChange) => this.#onChange(change),
        [ROUTING_RPC.reloadBranding]: async () => this.#onReloadBranding(),
        [ROUTING_RPC.getRoutingVersion]: () => this.cache.version,
      });
      peer.on('close', () => socket.destroy());
      socket.on('error', () => socket.destroy());
    });
    this.#pushServer = server;
    return server;
  }

  async #onChange(change: RoutingChange): Promise<{ version: number }> {
    if (typeof change !== 'object' || change === null || !Number.isInteger(change.fromVersion) || !Array.isArray(change.upserts) || !Array.isArray(change.removes)) {
      throw new RpcError('INVALID_ARGUMENT', 'malformed routing change');
    }
    if (this.cache.apply(change)) {
      if (change.toVersion !== change.fromVersion) this.emit('updated', this.cache.version);
    } else {
      this.options.log.info({ have: this.cache.version, from: change.fromVersion, to: change.toVersion }, 'missed a routing change; reading the whole table');
      await this.refresh();
    }
    return { version: this.cache.version };
  }

  async #onReloadBranding(): Promise<{ ok: boolean; error: string | null }> {
    this.emit('reloadBranding');
    try {
      const result = await this.options.reloadBranding?.();
      if (result && result.ok === false) return { ok: false, error: result.error ?? 'the branding folder was refused' };
      return { ok: true, error: null };
    } catch (error) {
      return { ok: false, error: (error as Error).message };
    }
  }

  async close(): Promise<void> {
    if (this.#pollTimer) clearInterval(this.#pollTimer);
    const server = this.#pushServer;
    if (server) await new Promise<void>((resolve) => { server.close(() => resolve()); for (const socket of this.#pushSockets) socket.destroy(); });
  }
}
