/**
 * Client side of the instance interface: connects to an instance through its Instance Host
 * (mutual TLS, pinned) and offers the typed `ArchiveReader` plus ingest and management calls.
 * Used by the CAS, the Management Server and the import command.
 */
import { EventEmitter, once } from 'node:events';
import net from 'node:net';
import type { RoleCertificate } from '../common/certs.js';
import { connectPinned } from '../common/mtls.js';
import { RpcPeer, sendHello } from '../common/rpc/peer.js';
import { unpackMetas } from './meta-wire.js';
import { RPC, type ArchiveReader, type AuthResult, type ChangeEvent, type FolderInfo, type FolderStatus, type IngestResult, type MessageMeta, type MetaField, type SearchCriterion, type SessionToken, type AuthRequest, type ArchiveQuery, type ArchiveHit, type FolderListQuery, type FolderListPage, type ReadBatchEntry } from './api.js';

export interface HostAddress { host: string; port: number; thumbprint: string }

export class InstanceClient extends EventEmitter implements ArchiveReader {
  private constructor(readonly instanceId: string, private peer: RpcPeer) {
    super();
    // One client is shared by every IMAP session and web request of its instance, each listening.
    this.setMaxListeners(0);
    peer.on('event', (event: string, data: unknown) => {
      if (event === 'change') this.emit('change', data as ChangeEvent);
      else if (event === 'progress') this.emit('progress', data);
    });
    peer.on('close', (err: Error) => this.emit('close', err));
  }

  /**
   * Connects to an instance through its Instance Host. On the host's own machine the host answers
   * with the instance process's loopback port and token, and the connection goes there directly
   * (no relay hop, no TLS on loopback); elsewhere, or with a host that does not offer it, the host
   * relays.
   */
  static async connect(instanceId: string, host: HostAddress, own: RoleCertificate, directWanted = true): Promise<InstanceClient> {
    const socket = await connectPinned(host.host, host.port, own, host.thumbprint);
    socket.setNoDelay(true);
    const peer = new RpcPeer(socket);
    let direct: { port: number; token: string } | null = null;
    peer.once('hello', (h: { direct?: { port: number; token: string } }) => {
      if (h?.direct && Number.isInteger(h.direct.port) && typeof h.direct.token === 'string') direct = h.direct;
    });
    sendHello(socket, directWanted ? { instance: instanceId, direct: true } : { instance: instanceId });
    const client = new InstanceClient(instanceId, peer);
    // A refused relay closes at once with the reason, and a direct offer closes after it; a status
    // call makes either known here.
    try {
      await peer.call(RPC.status, {}, 15_000);
    } catch (error) {
      const offer = direct as { port: number; token: string } | null;
      if (offer === null) throw error;
      // The host saw a local caller where there is none (a proxy in front of it): be relayed.
      return InstanceClient.connectDirect(instanceId, offer.port, offer.token).catch(() => InstanceClient.connect(instanceId, host, own, false));
    }
    return client;
  }

  /** Connects straight to an instance process on this machine: its loopback port and token, as its Instance Host gives them. */
  static async connectDirect(instanceId: string, port: number, token: string): Promise<InstanceClient> {
    const socket = net.connect(port, '127.0.0.1');
    await once(socket, 'connect');
    socket.setNoDelay(true);
    const peer = new RpcPeer(socket);
    sendHello(socket, { token });
    const client = new InstanceClient(instanceId, peer);
    await peer.call(RPC.status, {}, 15_000);
    return client;
  }

  get isClosed(): boolean { return this.peer.isClosed; }
  close(): void { this.peer.close(); }

  status(): Promise<{ instanceId: string; frozen: boolean; safeMode: boolean; pid: number }> { return this.peer.call(RPC.status); }
  authenticate(p: AuthRequest): Promise<AuthResult> { return this.peer.call(RPC.authenticate, p); }
  logout(p: { session: SessionToken }): Promise<void> { return this.peer.call(RPC.logout, p); }
  listFolders(p: { session: SessionToken }): Promise<FolderInfo[]> { return this.peer.call(RPC.listFolders, p); }
  folderStatus(p: { session: SessionToken; folderId: number }): Promise<FolderStatus> { return this.peer.call(RPC.folderStatus, p); }
  folderUids(p: { session: SessionToken; folderId: number }): Promise<{ uids: number[]; modseqs: number[]; highestModseq: number }> { return this.peer.call(RPC.folderUids, p); }
  async fetchMeta(p: { session: SessionToken; folderId: number; uids: number[]; fields: MetaField[] }): Promise<MessageMeta[]> {
    const { result, data } = await this.peer.callForData(RPC.fetchMeta, p);
    return unpackMetas(result, data);
  }
  async readMessage(p: { session: SessionToken; folderId: number; uid: number; start?: number; end?: number }): Promise<{ size: number; stream: AsyncIterable<Buffer> }> {
    const r = await this.peer.callStream(RPC.readMessage, p);
    return { size: (r.meta as { size: number }).size, stream: r.stream };
  }
  async readMessages(p: { session: SessionToken; folderId: number; ranges: { uid: number; start?: number; end?: number }[] }): Promise<ReadBatchEntry[]> {
    const { result, data } = await this.peer.callForData<{ sizes: number[] }>(RPC.readMessages, p);
    return result.sizes.map((size, i) => (size < 0 ? { missing: true as const } : { size, data: data[i] ?? Buffer.alloc(0) }));
  }
  /** Whole message (or range) as one Buffer. */
  async readMessageBuffer(p: { session: SessionToken; folderId: number; uid: number; start?: number; end?: number }): Promise<Buffer> {
    const { stream } = await this.readMessage(p);
    const parts: Buffer[] = [];
    for await (const c of stream) parts.push(c);
    return Buffer.concat(parts);
  }
  search(p: { session: SessionToken; folderId: number; criteria: SearchCriterion }): Promise<number[]> { return this.peer.call(RPC.search, p); }
  searchArchive(p: { session: SessionToken; query: ArchiveQuery }): Promise<{ hits: ArchiveHit[]; total: number; next: { date: number; key: string } | null }> { return this.peer.call(RPC.searchArchive, p); }
  /** A folder in sender, subject or size order, keyset-paged (Web Access lists). */
  listFolderSorted(p: { session: SessionToken } & FolderListQuery): Promise<FolderListPage> { return this.peer.call(RPC.listFolderSorted, p); }
  subscribe(): Promise<void> { return this.peer.call(RPC.subscribe); }
  audit(p: { session: SessionToken | null; action: string; details?: Record<string, unknown> }): Promise<void> { return this.peer.call(RPC.audit, p); }
  changePassword(p: { session: SessionToken; oldPassword: string; newPassword: string }): Promise<void> { return this.peer.call(RPC.changePassword, p); }
  mfaStatus(p: { session: SessionToken }): Promise<{ status: 'on' | 'off'; required: boolean }> { return this.peer.call(RPC.mfaStatus, p); }
  mfaEnable(p: { session: SessionToken; secret: string }): Promise<void> { return this.peer.call(RPC.mfaEnable, p); }
  mfaDisable(p: { session: SessionToken }): Promise<void> { return this.peer.call(RPC.mfaDisable, p); }
  /** The instance's SMTP settings with their password, for a restore (needs the export privilege). */
  smtpForRestore(p: { session: SessionToken }): Promise<import('./smtp.js').SmtpSettings | null> { return this.peer.call(RPC.smtpForRestore, p); }
  /** IMAP connection log lines (credentials already removed by the caller); kept only when the instance enables the log. */
  connectionLog(lines: string[]): Promise<void> { return this.peer.call(RPC.connectionLog, { lines }); }

  ingest(user: string, items: { name: string; folder: string; raw: Buffer; flags?: string[]; internalDate?: number }[]): Promise<IngestResult> {
    return this.peer.callWithData(RPC.ingest, { user, items: items.map(({ raw: _raw, ...meta }) => meta) }, items.map((i) => i.raw));
  }

  management<T = unknown>(fn: string, args: Record<string, unknown>, progress?: (percent: number, text: string | null) => void, signal?: AbortSignal): Promise<T> {
    const progressId = progress ? `${Date.now()}-${Math.random()}` : undefined;
    const onProgress = (d: { progressId: string; percent: number; text: string | null }) => { if (d.progressId === progressId) progress!(d.percent, d.text); };
    if (progress) this.on('progress', onProgress);
    const call = this.peer.call<T>(RPC.management, { fn, args, progressId });
    signal?.addEventListener('abort', () => this.peer.close(), { once: true });
    return call.finally(() => { if (progress) this.off('progress', onProgress); });
  }
}

/** Control interface of an Instance Host (define/start/stop/freeze … instances). */
export class HostControlClient extends EventEmitter {
  private constructor(private peer: RpcPeer) {
    super();
    peer.on('event', (event: string, data: unknown) => { if (event === 'instanceStatus') this.emit('instanceStatus', data); });
    peer.on('close', (err: Error) => this.emit('close', err));
  }

  static async connect(host: HostAddress, own: RoleCertificate): Promise<HostControlClient> {
    const socket = await connectPinned(host.host, host.port, own, host.thumbprint);
    const peer = new RpcPeer(socket);
    sendHello(socket, { control: true });
    return new HostControlClient(peer);
  }

  get isClosed(): boolean { return this.peer.isClosed; }
  call<T = unknown>(method: 'list' | 'define' | 'remove' | 'start' | 'stop' | 'restart' | 'freeze' | 'thaw' | 'setSafeMode' | 'createDirectory' | 'getDirectories', params: unknown = {}): Promise<T> {
    return this.peer.call<T>(method, params);
  }
  close(): void { this.peer.close(); }
}
