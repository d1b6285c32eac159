/**
 * One instance process: opens the instance's base directory, serves the instance interface over
 * RPC on a loopback port (the Instance Host pipes authenticated callers to it), and obeys
 * lifecycle messages from the Instance Host over the IPC channel.
 */
import net from 'node:net';
import { timingSafeEqual } from 'node:crypto';
import type { Logger } from '../common/logger.js';
import { DataResult, RpcPeer, StreamResult } from '../common/rpc/peer.js';
import { openInstanceDb } from './instance-db.js';
import { Archive } from './archive.js';
import { Users } from './users.js';
import { Reader } from './reader.js';
import { instanceFunctions } from './management.js';
import { InstanceError } from './errors.js';
import { AUDIT_ACTIONS, ALWAYS_AUDITED_ACTIONS, DEFAULT_COMPLIANCE_CONFIGURATION, RPC, type ComplianceConfiguration, type FolderListQuery, type IngestItem } from './api.js';
import { listFolderSorted } from './folder-list.js';
import { packMetas } from './meta-wire.js';
import { ConnectionLog } from './connection-log.js';
import { Smtp } from './smtp.js';

export interface InstanceOptions { instanceId: string; baseDir: string; token: string; safeMode: boolean; log: Logger }

/** The compliance configuration pushed by the Management Server (SetInstanceLocalConfiguration), checked. */
function complianceOf(value: unknown): ComplianceConfiguration {
  const v = value as Partial<Record<keyof ComplianceConfiguration, unknown>> | null;
  if (typeof v !== 'object' || v === null || !Array.isArray(v.logSuccessfulUserActivities) || !v.logSuccessfulUserActivities.every((name) => typeof name === 'string')) {
    throw new InstanceError('INVALID_ARGUMENT', 'compliance: expected an object with logSuccessfulUserActivities, an array of strings');
  }
  return { adminEmailPreviewEnabled: v.adminEmailPreviewEnabled === true, legalHoldEnabled: v.legalHoldEnabled === true, logSuccessfulUserActivities: [...v.logSuccessfulUserActivities] };
}

export class InstanceProcess {
  readonly archive: Archive;
  readonly users: Users;
  private reader: Reader;
  private server: net.Server;
  private peers = new Set<RpcPeer>();
  private subscribers = new Set<RpcPeer>();
  private frozen: { promise: Promise<void>; release: () => void } | null = null;
  private functions;
  private connectionLog: ConnectionLog;
  private audit: (user: string | null, action: string, details: unknown) => void;
  /** Successful user activities written to the audit log (compliance `logSuccessfulUserActivities`). */
  private loggedActivities: Set<string>;
  private smtp: Smtp;
  safeMode: boolean;

  constructor(private opts: InstanceOptions) {
    this.safeMode = opts.safeMode;
    const db = openInstanceDb(opts.baseDir);
    this.archive = new Archive(db, opts.baseDir, opts.log);
    this.users = new Users(db, () => this.safeMode, { requireMfaForWeb: () => this.archive.settings.read<boolean>('requireMfa', false) });
    const auditInsert = db.prepare('INSERT INTO audit (time, user_name, action, details) VALUES (?, ?, ?, ?)');
    this.loggedActivities = new Set(this.archive.settings.read<ComplianceConfiguration>('compliance', DEFAULT_COMPLIANCE_CONFIGURATION).logSuccessfulUserActivities);
    const alwaysAudited = new Set<string>(ALWAYS_AUDITED_ACTIONS);
    // The one place that decides: failed logins always, successful activities when compliance lists them.
    this.audit = (user, action, details) => {
      if (!alwaysAudited.has(action) && !this.loggedActivities.has(action)) return;
      auditInsert.run(Date.now(), user, action, JSON.stringify(details));
    };
    this.reader = new Reader(this.archive, this.users, this.audit);
    this.smtp = new Smtp(this.archive.settings);
    this.functions = instanceFunctions(this.archive, this.users, () => this.safeMode);
    this.connectionLog = new ConnectionLog(opts.baseDir, () => this.archive.settings.read<boolean>('imapServerConnectionLogEnabled', false));
    this.functions.GetSmtpSettings = () => this.smtp.get();
    this.functions.SetSmtpSettings = (a) => { this.smtp.set(a.settings); return null; };
    this.functions.TestSmtpSettings = () => this.smtp.test(opts.instanceId);
    this.functions.SetInstanceLocalConfiguration = (a) => {
      if (a.requireMfa !== undefined) this.archive.settings.write('requireMfa', a.requireMfa === true);
      if (a.imapServerConnectionLogEnabled !== undefined) this.archive.settings.write('imapServerConnectionLogEnabled', a.imapServerConnectionLogEnabled === true);
      if (a.compliance !== undefined) {
        const compliance = complianceOf(a.compliance);
        this.archive.settings.write('compliance', compliance);
        this.loggedActivities = new Set(compliance.logSuccessfulUserActivities);
      }
      return null;
    };
    this.archive.onChange((e) => { for (const p of this.subscribers) p.emitEvent('change', e); });
    this.server = net.createServer((socket) => this.accept(socket));
  }

  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => resolve((this.server.address() as net.AddressInfo).port));
    });
  }

  private accept(socket: net.Socket): void {
    socket.setNoDelay(true);
    const peer = new RpcPeer(socket);
    const timer = setTimeout(() => socket.destroy(), 5000);
    peer.once('hello', (h: { token?: string }) => {
      clearTimeout(timer);
      const given = Buffer.from(String(h?.token ?? ''));
      const want = Buffer.from(this.opts.token);
      if (given.length !== want.length || !timingSafeEqual(given, want)) { socket.destroy(); return; }
      this.peers.add(peer);
      this.register(peer);
    });
    peer.on('handler-error', (method: string, err: unknown) => this.opts.log.error({ method, err }, 'instance call failed'));
    peer.on('close', () => { this.peers.delete(peer); this.subscribers.delete(peer); });
  }

  private async writeGate(): Promise<void> { while (this.frozen) await this.frozen.promise; }

  private register(peer: RpcPeer): void {
    const r = this.reader;
    peer.handle(RPC.authenticate, (p) => r.authenticate(p));
    peer.handle(RPC.logout, (p) => r.logout(p));
    peer.handle(RPC.listFolders, (p) => r.listFolders(p));
    peer.handle(RPC.folderStatus, (p) => r.folderStatus(p));
    peer.handle(RPC.folderUids, (p) => r.folderUids(p));
    peer.handle(RPC.fetchMeta, async (p) => packMetas(await r.fetchMeta(p)));
    peer.handle(RPC.search, (p) => r.search(p));
    peer.handle(RPC.searchArchive, (p) => r.searchArchive(p));
    // folderStatus checks the session's right to read the folder (same answer as for a folder that does not exist).
    peer.handle(RPC.listFolderSorted, async (p: { session: string } & FolderListQuery) => listFolderSorted(this.archive, await r.folderStatus({ session: p?.session, folderId: p?.folderId }), p));
    peer.handle(RPC.readMessage, (p) => { const m = r.readMessage(p); return new StreamResult({ size: m.size, length: m.data.length }, [m.data]); });
    peer.handle(RPC.readMessages, (p) => { const m = r.readMessages(p); return new DataResult({ sizes: m.sizes }, m.data); });
    peer.handle(RPC.subscribe, () => { this.subscribers.add(peer); return null; });
    // IMAP connection log lines from a CAS; written only when imapServerConnectionLogEnabled is set.
    peer.handle(RPC.connectionLog, (p: { lines: string[] }) => { this.connectionLog.append(Array.isArray(p?.lines) ? p.lines.map(String) : []); return null; });
    // The user's own account (Web Access): audit entries, password, MFA, restore settings.
    peer.handle(RPC.audit, (p: { session: string | null; action: string; details?: Record<string, unknown> }) => {
      const user = p?.session ? this.users.session(p.session, { duringEnrolment: true }).userName : (typeof p?.details?.user === 'string' ? p.details.user : null);
      if (typeof p?.action !== 'string' || !(AUDIT_ACTIONS as readonly string[]).includes(p.action)) throw new InstanceError('INVALID_ARGUMENT', `action: expected one of ${AUDIT_ACTIONS.join(', ')}`);
      this.audit(user, p.action, p.details ?? {});
      return null;
    });
    peer.handle(RPC.changePassword, (p: { session: string; oldPassword: string; newPassword: string }) =>
      this.users.changePassword(String(p.session), String(p.oldPassword ?? ''), String(p.newPassword ?? ''), this.archive.settings.read('passwordPolicy', { minLength: 8 })));
    peer.handle(RPC.mfaStatus, (p: { session: string }) => ({ status: this.users.mfaStatus(String(p.session)), required: this.archive.settings.read<boolean>('requireMfa', false) }));
    peer.handle(RPC.mfaEnable, (p: { session: string; secret: string }) => { this.users.mfaEnable(String(p.session), String(p.secret ?? '')); return null; });
    peer.handle(RPC.mfaDisable, (p: { session: string }) => { this.users.mfaDisable(String(p.session), this.archive.settings.read<boolean>('requireMfa', false)); return null; });
    peer.handle(RPC.smtpForRestore, (p: { session: string }) => {
      const s = this.users.session(String(p.session));
      if (!s.isAdmin && !s.privileges.includes('export')) throw new InstanceError('NO_PERMISSION', 'restoring needs the export privilege');
      return this.smtp.full();
    });
    peer.handle(RPC.status, () => ({ instanceId: this.opts.instanceId, frozen: !!this.frozen, safeMode: this.safeMode, pid: process.pid }));
    // Message bytes arrive as binary buffers beside the JSON (one per item, in order).
    peer.handle(RPC.ingest, async (p: { user: string; items: { name: string; folder: string; flags?: string[]; internalDate?: number }[] }, ctx) => {
      if (!p || typeof p.user !== 'string' || !Array.isArray(p.items) || ctx.data.length !== p.items.length) throw new InstanceError('INVALID_ARGUMENT', 'ingest needs user, items and one message per item');
      const u = this.users.get(p.user);
      if (!u) throw new InstanceError('NOT_FOUND', `user ${JSON.stringify(p.user)} does not exist in this instance; create it first (CreateUser)`);
      const items: IngestItem[] = p.items.map((i, k) => ({ name: String(i.name), folder: String(i.folder ?? ''), raw: ctx.data[k]!, flags: Array.isArray(i.flags) ? i.flags.map(String) : undefined, internalDate: typeof i.internalDate === 'number' ? i.internalDate : undefined }));
      return this.archive.ingest(u.name, items, () => this.writeGate());
    });
    peer.handle(RPC.management, async (p: { fn: string; args: Record<string, unknown>; progressId?: string }, ctx) => {
      const fn = this.functions[p.fn];
      if (!fn) throw new InstanceError('NOT_FOUND', `function ${p.fn} is not an instance function`);
      if (!/^(Get|Verify)/.test(p.fn)) await this.writeGate();
      const progress = (percent: number, text?: string) => { if (p.progressId) peer.emitEvent('progress', { progressId: p.progressId, percent, text: text ?? null }); };
      return fn(p.args ?? {}, { progress, signal: ctx.signal });
    });
  }

  /** Pauses all writes and checkpoints every database, so a file copy of the base directory is consistent. */
  freeze(): void {
    if (this.frozen) return;
    let release!: () => void;
    const promise = new Promise<void>((r) => { release = r; });
    this.frozen = { promise, release };
    this.archive.checkpoint();
  }

  thaw(): void {
    const f = this.frozen;
    this.frozen = null;
    f?.release();
  }

  get isFrozen(): boolean { return !!this.frozen; }

  async close(): Promise<void> {
    this.server.close();
    for (const p of this.peers) p.close();
    this.archive.close();
    this.archive.db.close();
  }
}
