/**
 * The Management Server's links to its Instance Hosts: one control connection (8472, mutual TLS
 * pinned to the thumbprint in the management database) per registered host, reopened with a
 * growing delay while the host is unreachable. Each link mirrors the host's instance states from
 * `list` and the `instanceStatus` events, so GetInstances and the routing table answer without a
 * round trip. When a link opens, `onHostConnected` runs (define the host's instances, start the
 * `automatic` ones).
 */
import os from 'node:os';
import { EventEmitter } from 'node:events';
import type { Logger } from '../../common/logger.js';
import type { RoleCertificate } from '../../common/certs.js';
import { HostControlClient, type HostAddress } from '../../instance/client.js';
import type { InstanceState } from '../../instance-host/supervisor.js';
import type { ManagementDb } from '../db/management-db.js';
import type { InstanceHostRecord } from '../db/schema.js';
import { ManagementError } from '../errors.js';

/** First retry after a failed or lost link; doubles up to the maximum. */
const RECONNECT_FIRST_DELAY_MS = 500;
const RECONNECT_MAX_DELAY_MS = 10_000;

export type HostNameResolver = (serverName: string) => string;

/** Names of this machine reach it on the loopback address (single server mode has no DNS needs). */
export function resolveLocalHostName(serverName: string): string {
  const name = serverName.toLowerCase();
  if (name === 'localhost' || name === os.hostname().toLowerCase()) return '127.0.0.1';
  return serverName;
}

export function hostAddressOf(record: Pick<InstanceHostRecord, 'serverName' | 'port' | 'thumbprint'>, resolve: HostNameResolver): HostAddress | null {
  if (record.thumbprint === null) return null;
  return { host: resolve(record.serverName), port: record.port, thumbprint: record.thumbprint };
}

interface Link {
  readonly key: string;
  readonly serverName: string;
  readonly address: HostAddress;
  client: HostControlClient | null;
  states: Map<string, InstanceState>;
  timer: NodeJS.Timeout | null;
  delayMs: number;
  isClosed: boolean;
  lastError: string | null;
}

export interface HostLinksOptions {
  readonly db: ManagementDb;
  readonly certificate: () => RoleCertificate;
  readonly log: Logger;
  readonly resolveHostName?: HostNameResolver;
  /** Runs each time a link to a host opens. Errors are logged. */
  readonly onHostConnected?: (serverName: string, control: HostControlClient) => Promise<void>;
}

/** Events: `change` (serverName) whenever a host connects, disconnects or reports an instance status. */
export class HostLinks extends EventEmitter {
  readonly #links = new Map<string, Link>();
  readonly #resolve: HostNameResolver;
  #isClosed = false;

  constructor(private readonly options: HostLinksOptions) {
    super();
    this.#resolve = options.resolveHostName ?? resolveLocalHostName;
  }

  get resolveHostName(): HostNameResolver { return this.#resolve; }

  /** Opens links to hosts new in the database, closes those removed or changed. */
  sync(): void {
    if (this.#isClosed) return;
    const wanted = new Map<string, { record: InstanceHostRecord; address: HostAddress }>();
    for (const record of this.options.db.read().instanceHosts) {
      const address = hostAddressOf(record, this.#resolve);
      if (address) wanted.set(record.serverName.toLowerCase(), { record: record as InstanceHostRecord, address });
    }
    for (const [name, link] of this.#links) {
      const want = wanted.get(name);
      if (!want || keyOf(want.address) !== link.key) this.#drop(name, link);
    }
    for (const [name, want] of wanted) {
      if (this.#links.has(name)) continue;
      const link: Link = { key: keyOf(want.address), serverName: want.record.serverName, address: want.address, client: null, states: new Map(), timer: null, delayMs: RECONNECT_FIRST_DELAY_MS, isClosed: false, lastError: null };
      this.#links.set(name, link);
      void this.#connect(link);
    }
  }

  isConnected(serverName: string): boolean {
    return Boolean(this.#links.get(serverName.toLowerCase())?.client);
  }

  /** Why the host is not connected (null when it is). */
  whyDisconnected(serverName: string): string | null {
    const link = this.#links.get(serverName.toLowerCase());
    if (!link) return `Instance Host '${serverName}' has no certificate thumbprint registered (PairWithManagementServer or SetInstanceHostConfiguration)`;
    if (link.client) return null;
    return `Instance Host '${serverName}' is not connected${link.lastError ? ` (${link.lastError})` : ''}`;
  }

  /** The live control client of a host, or a ManagementError saying why there is none. */
  control(serverName: string): HostControlClient {
    const link = this.#links.get(serverName.toLowerCase());
    if (!link?.client) throw new ManagementError('HOST_UNAVAILABLE', `${this.whyDisconnected(serverName)}.`);
    return link.client;
  }

  address(serverName: string): HostAddress | null {
    return this.#links.get(serverName.toLowerCase())?.address ?? null;
  }

  /** The state the host last reported for an instance; undefined when the host is not connected or does not know it. */
  state(serverName: string, instanceId: string): InstanceState | undefined {
    return this.#links.get(serverName.toLowerCase())?.states.get(instanceId);
  }

  /** Records a state answered by a control call (events may arrive later). */
  remember(serverName: string, state: InstanceState): void {
    const link = this.#links.get(serverName.toLowerCase());
    if (link?.client) { link.states.set(state.instanceId, state); this.emit('change', link.serverName); }
  }

  forget(serverName: string, instanceId: string): void {
    const link = this.#links.get(serverName.toLowerCase());
    if (link?.states.delete(instanceId)) this.emit('change', link.serverName);
  }

  close(): void {
    this.#isClosed = true;
    for (const [name, link] of this.#links) this.#drop(name, link);
  }

  #drop(name: string, link: Link): void {
    link.isClosed = true;
    if (link.timer) clearTimeout(link.timer);
    link.client?.close();
    link.client = null;
    this.#links.delete(name);
    this.emit('change', link.serverName);
  }

  async #connect(link: Link): Promise<void> {
    link.timer = null;
    if (link.isClosed) return;
    let client: HostControlClient;
    try {
      client = await HostControlClient.connect(link.address, this.options.certificate());
      const list = await client.call<InstanceState[]>('list');
      if (link.isClosed) { client.close(); return; }
      link.states = new Map(list.map((state) => [state.instanceId, state]));
    } catch (error) {
      link.lastError = (error as Error).message;
      this.options.log.warn({ host: link.serverName, err: link.lastError }, 'Instance Host not reachable; retrying');
      this.#retry(link);
      return;
    }
    link.client = client;
    link.lastError = null;
    link.delayMs = RECONNECT_FIRST_DELAY_MS;
    client.on('instanceStatus', (state: InstanceState) => {
      if (link.client !== client) return;
      link.states.set(state.instanceId, state);
      this.emit('change', link.serverName);
    });
    client.on('close', (error: Error) => {
      if (link.client !== client) return;
      link.client = null;
      link.states = new Map();
      link.lastError = error?.message ?? 'connection closed';
      this.options.log.warn({ host: link.serverName, err: link.lastError }, 'lost the Instance Host; reconnecting');
      this.emit('change', link.serverName);
      this.#retry(link);
    });
    this.options.log.info({ host: link.serverName, address: `${link.address.host}:${link.address.port}` }, 'Instance Host connected');
    this.emit('change', link.serverName);
    try {
      await this.options.onHostConnected?.(link.serverName, client);
    } catch (error) {
      this.options.log.error({ host: link.serverName, err: error }, 'setting up the instances of a newly connected Instance Host failed');
    }
  }

  #retry(link: Link): void {
    if (link.isClosed || this.#isClosed) return;
    link.timer = setTimeout(() => void this.#connect(link), link.delayMs);
    link.timer.unref();
    link.delayMs = Math.min(link.delayMs * 2, RECONNECT_MAX_DELAY_MS);
  }
}

function keyOf(address: HostAddress): string {
  return `${address.host}:${address.port}:${address.thumbprint}`;
}
