/**
 * One IMAP connection: reads commands with the incremental parser, runs them one at a time through
 * the command table inside an error boundary, and answers through the connection's single
 * response writer. Holds the RFC 3501 state machine (not authenticated → authenticated → selected
 * → logout), the login to an instance, the selected mailbox and the timers.
 */
import { randomBytes } from 'node:crypto';
import type net from 'node:net';
import tls from 'node:tls';
import type { Logger } from 'pino';
import type { ArchiveReader, ChangeEvent, FolderInfo, SessionToken } from '../../instance/api.js';
import type { InstanceClient } from '../../instance/client.js';
import {
  CommandParser,
  ConnectionClosedError,
  MAX_BAD_COMMANDS_PRE_AUTH,
  OutputStallError,
  ProtocolError,
  ResponseWriter,
  printable,
  type CommandEvent,
  type ParserErrorEvent,
  type ResponseCode,
} from './protocol/index.js';
import { CAPABILITIES_AUTHENTICATED, CAPABILITIES_PLAINTEXT, CAPABILITIES_TLS_PRE_AUTH } from './capabilities.js';
import type { CommandOutcome, SessionState } from './command-spec.js';
import { MailboxMap } from './mailbox-map.js';
import { findCommand } from './registry.js';
import { SelectedMailbox, emptySnapshot, type MailboxSnapshot } from './selected-mailbox.js';
import { CONNECTION_LOG_FLUSH_MS, FOLDER_LIST_CACHE_MS } from './server-limits.js';
import type { SessionHost } from './server.js';

/** Bytes queued in the parser above which the socket stops reading until commands catch up. */
const MAX_UNREAD_INPUT_BYTES = 1024 * 1024;

/**
 * The narrow view of an instance the IMAP commands get: the read-only `ArchiveReader` plus change
 * events and the connection log. It has no method that changes mail (no ingest, no management),
 * so no command can write to the archive, even by mistake (STYLE.md rule 3).
 */
export type ArchiveView = ArchiveReader & Pick<InstanceClient, 'readMessageBuffer' | 'subscribe' | 'connectionLog' | 'on' | 'removeListener' | 'isClosed' | 'instanceId'>;

/** Who is logged in on this connection. */
export interface SessionLogin {
  readonly instanceId: string;
  readonly client: ArchiveView;
  readonly token: SessionToken;
  /** The archive user name (`jane`), whose archive is the personal namespace. */
  readonly userName: string;
  readonly loginName: string;
}

export class Session {
  readonly cid: string;
  readonly remoteAddress: string;
  readonly isImplicitTls: boolean;
  state: SessionState = 'not-authenticated';
  log: Logger;
  writer: ResponseWriter;
  login: SessionLogin | null = null;
  selected: SelectedMailbox | null = null;
  isCondstoreEnabled = false;
  clientId: string | null = null;

  private socket: net.Socket;
  private isTls: boolean;
  private parser: CommandParser;
  private badCommandCount = 0;
  private isRunning = false;
  private isClosing = false;
  private rawLineWaiter: ((line: Buffer | null) => void) | null = null;
  private idleTimer: NodeJS.Timeout | null = null;
  private folderCache: { map: MailboxMap; atMs: number } | null = null;
  private errorCount = 0;
  private changeListener: ((event: ChangeEvent) => void) | null = null;
  private changeWaiter: (() => void) | null = null;
  private isSelectedDirty = false;
  private connectionLogLines: string[] = [];
  private connectionLogTimer: NodeJS.Timeout | null = null;
  private readonly closedPromise: Promise<void>;
  private resolveClosed!: () => void;

  constructor(
    readonly host: SessionHost,
    socket: net.Socket,
    isImplicitTls: boolean,
  ) {
    this.cid = randomBytes(6).toString('base64url');
    this.socket = socket;
    this.isImplicitTls = isImplicitTls;
    this.isTls = isImplicitTls;
    this.remoteAddress = socket.remoteAddress ?? 'unknown';
    this.log = host.log.child({ cid: this.cid, remote: this.remoteAddress });
    this.parser = this.createParser();
    this.writer = this.createWriter(socket);
    this.closedPromise = new Promise((resolve) => {
      this.resolveClosed = resolve;
    });
    this.attachSocket(socket);
  }

  /** Sends the greeting; called once the socket is ready (after the TLS handshake on 993). */
  start(): void {
    this.log.debug({ tls: this.isTls }, 'connection opened');
    this.resetIdleTimer();
    void this.writer
      .untagged(`OK [CAPABILITY ${this.capabilities()}] ${this.host.productName()} ready.`)
      .catch((error: unknown) => this.onWriteFailure(error));
  }

  get isSecure(): boolean {
    return this.isTls;
  }

  /** Resolves when the connection has closed. */
  get closed(): Promise<void> {
    return this.closedPromise;
  }

  capabilities(): string {
    if (this.state === 'authenticated' || this.state === 'selected') return CAPABILITIES_AUTHENTICATED;
    return this.isTls ? CAPABILITIES_TLS_PRE_AUTH : CAPABILITIES_PLAINTEXT;
  }

  // ---- socket and parser plumbing ------------------------------------------------------------

  private createParser(): CommandParser {
    return new CommandParser({ limits: this.host.parserLimits });
  }

  private createWriter(socket: net.Socket): ResponseWriter {
    return new ResponseWriter(socket, {
      outputStallTimeoutMs: this.host.limits.outputStallTimeoutMs,
      onLiteralSizeMismatch: (mismatch) => this.log.error({ mismatch }, 'literal size did not match its source'),
    });
  }

  private readonly onData = (chunk: Buffer): void => {
    this.resetIdleTimer();
    this.parser.push(chunk);
    if (this.parser.unreadBytes > MAX_UNREAD_INPUT_BYTES) this.socket.pause();
    this.pump();
  };

  private readonly onClose = (): void => {
    void this.cleanup();
  };

  private readonly onError = (error: Error): void => {
    this.log.debug({ err: error.message }, 'socket error');
  };

  private attachSocket(socket: net.Socket): void {
    socket.on('data', this.onData);
    socket.on('close', this.onClose);
    socket.on('error', this.onError);
  }

  private detachSocket(socket: net.Socket): void {
    socket.removeListener('data', this.onData);
    socket.removeListener('close', this.onClose);
    socket.removeListener('error', this.onError);
  }

  private pump(): void {
    if (this.rawLineWaiter !== null) this.deliverRawLine();
    if (this.isRunning || this.isClosing) return;
    this.isRunning = true;
    void this.runLoop().finally(() => {
      this.isRunning = false;
    });
  }

  private deliverRawLine(): void {
    const event = this.parser.next();
    if (event.kind === 'need-more') return;
    const waiter = this.rawLineWaiter!;
    this.rawLineWaiter = null;
    waiter(event.kind === 'raw-line' ? event.line : null);
  }

  /**
   * Reads the next line raw (an AUTHENTICATE response, IDLE's DONE). Null when the connection
   * closes or the line is too long.
   */
  readRawLine(): Promise<Buffer | null> {
    if (this.isClosing) return Promise.resolve(null);
    if (!this.parser.expectRawLine()) return Promise.resolve(null);
    return new Promise((resolve) => {
      this.rawLineWaiter = resolve;
      this.deliverRawLine();
      if (this.socket.isPaused()) this.socket.resume();
    });
  }

  private async runLoop(): Promise<void> {
    while (!this.isClosing) {
      const event = this.parser.next();
      if (event.kind === 'need-more') {
        if (this.socket.isPaused()) this.socket.resume();
        return;
      }
      if (event.kind === 'raw-line') continue; // cannot happen outside a raw read
      if (event.kind === 'error') {
        await this.onParserError(event);
        continue;
      }
      if (event.kind === 'continuation-needed') {
        await this.onContinuationNeeded(event.tag, event.name, event.isDiscarded);
        continue;
      }
      await this.dispatch(event);
    }
  }

  private async onParserError(event: ParserErrorEvent): Promise<void> {
    const error = new ProtocolError(event.code === 'LITERAL_TOO_LARGE' || event.code === 'LINE_TOO_LONG' ? 'LIMIT_EXCEEDED' : 'SYNTAX', 'BAD', event.message);
    this.log.debug({ code: event.code }, 'unreadable command');
    try {
      await this.writer.taggedError(event.tag, error);
    } catch (failure) {
      this.onWriteFailure(failure);
      return;
    }
    if (event.fatal) {
      await this.close('Unrecoverable input');
      return;
    }
    await this.countBadCommand();
  }

  private async countBadCommand(): Promise<void> {
    if (this.state !== 'not-authenticated') return;
    // Dovecot's imap-login drops a client after a few bad commands: a human makes a mistake or
    // two, a port scanner or another protocol keeps failing.
    if (++this.badCommandCount >= MAX_BAD_COMMANDS_PRE_AUTH) await this.close('Too many invalid commands.');
  }

  private async onContinuationNeeded(tag: string, name: string, isDiscarded: boolean): Promise<void> {
    try {
      if (!this.isTls && (name === 'LOGIN' || name === 'AUTHENTICATE')) {
        // Never ask for a password that would travel in clear text.
        this.parser.refuseLiteral();
        await this.writer.tagged(tag, 'NO', { name: 'PRIVACYREQUIRED' }, 'Use STARTTLS (or port 993) before logging in.');
        return;
      }
      if (isDiscarded && this.state === 'not-authenticated') {
        this.parser.refuseLiteral();
        await this.writer.tagged(tag, 'BAD', undefined, 'Log in first.');
        await this.countBadCommand();
        return;
      }
      // APPEND data is read and discarded by the parser; the command then answers NO [NOPERM].
      await this.writer.continuation('Ready for literal data');
    } catch (failure) {
      this.onWriteFailure(failure);
    }
  }

  // ---- dispatch ----------------------------------------------------------------------------

  private async dispatch(event: CommandEvent): Promise<void> {
    let name = event.name;
    let args = event.args;
    let isUid = false;
    if (name === 'UID') {
      const sub = args[0];
      name = sub?.type === 'atom' && sub.section === undefined ? sub.value.toUpperCase() : '';
      args = args.slice(1);
      isUid = true;
    }
    const tag = event.tag;
    const spec = findCommand(name);
    const log = this.log.child({ tag, cmd: isUid ? `UID ${name}` : name });
    this.connectionLog(`C: ${tag} ${isUid ? 'UID ' : ''}${printable(name || event.name)}`);
    if (spec === undefined || (isUid && spec.allowsUid !== true)) {
      await this.answer(tag, { status: 'BAD', text: `Unknown command ${printable(isUid ? `UID ${name}` : event.name)}` });
      await this.countBadCommand();
      return;
    }
    if (!spec.states.includes(this.state)) {
      const text =
        this.state === 'not-authenticated' ? 'Log in first.' : spec.states.includes('selected') && !spec.states.includes('authenticated') ? 'No mailbox selected.' : `${name} is not allowed now.`;
      await this.answer(tag, { status: 'BAD', text });
      await this.countBadCommand();
      return;
    }
    let outcome: CommandOutcome;
    const startedAt = Date.now();
    try {
      const parsed = spec.parse(args, { isUid });
      if (!parsed.ok) {
        outcome = { status: parsed.error.status, text: parsed.error.message, ...(parsed.error.responseCode ? { code: parsed.error.responseCode } : {}) };
        if (parsed.error.status === 'BAD') await this.countBadCommand();
      } else {
        outcome = await spec.handler({ tag, isUid, session: this }, parsed.value);
      }
    } catch (error) {
      outcome = this.outcomeForError(error, log);
      if (outcome.status === 'BAD') await this.countBadCommand();
    }
    if (this.isClosing || this.socket.destroyed) return;
    log.debug({ status: outcome.status, ms: Date.now() - startedAt }, 'command done');
    await this.answer(tag, outcome);
    if (outcome.after !== undefined) {
      try {
        await outcome.after();
      } catch (error) {
        log.warn({ err: error }, 'after-response step failed');
        await this.close();
      }
    }
  }

  /** The error boundary (STYLE.md rule 8): nothing a command throws reaches the socket handler. */
  private outcomeForError(error: unknown, log: Logger): CommandOutcome {
    if (error instanceof ProtocolError) {
      return { status: error.status, text: error.message, ...(error.responseCode ? { code: error.responseCode } : {}) };
    }
    if (error instanceof OutputStallError || error instanceof ConnectionClosedError) {
      log.info({ err: error.message }, 'connection lost during command');
      this.socket.destroy();
      return { status: 'NO', text: 'Connection lost' };
    }
    const code = (error as { code?: unknown } | null)?.code;
    if (code === 'SESSION_INVALID') {
      log.info('instance session ended (instance restarted?)');
      void this.close('Session ended by the archive; please log in again.');
      return { status: 'NO', code: { name: 'UNAVAILABLE' }, text: 'Session ended by the archive.' };
    }
    if (code === 'DISCONNECTED' || code === 'TIMEOUT' || code === 'FROZEN' || code === 'STORE_UNAVAILABLE') {
      log.warn({ err: error }, 'archive unavailable');
      return { status: 'NO', code: { name: 'UNAVAILABLE' }, text: 'The archive is temporarily unavailable. Please try again later.' };
    }
    if (code === 'NOT_FOUND') {
      return { status: 'NO', code: { name: 'NONEXISTENT' }, text: 'No such mailbox or message.' };
    }
    const reference = `${this.cid}.${++this.errorCount}`;
    log.error({ err: error, ref: reference }, 'command failed');
    return { status: 'NO', code: { name: 'SERVERBUG' }, text: `Internal error occurred. Refer to server log for more information. [${reference}]` };
  }

  private async answer(tag: string, outcome: CommandOutcome): Promise<void> {
    this.connectionLog(`S: ${tag} ${outcome.status}`);
    try {
      await this.writer.tagged(tag, outcome.status, outcome.code, outcome.text);
    } catch (failure) {
      this.onWriteFailure(failure);
    }
  }

  private onWriteFailure(error: unknown): void {
    if (!(error instanceof OutputStallError) && !(error instanceof ConnectionClosedError)) this.log.warn({ err: error }, 'write failed');
    this.socket.destroy();
  }

  // ---- timers ------------------------------------------------------------------------------

  /** The inactivity timer counts client silence only: our own IDLE keep-alives do not keep a dead client. */
  private resetIdleTimer(): void {
    if (this.idleTimer !== null) clearTimeout(this.idleTimer);
    const timeoutMs = this.state === 'not-authenticated' ? this.host.limits.preAuthIdleTimeoutMs : this.host.limits.authIdleTimeoutMs;
    this.idleTimer = setTimeout(() => {
      this.idleTimer = null;
      // A command still running (a long FETCH to a slow client) is not inactivity; IDLE, which
      // waits for the client's DONE, is.
      if (this.isRunning && this.rawLineWaiter === null) {
        this.resetIdleTimer();
        return;
      }
      void this.close('Disconnected for inactivity.');
    }, timeoutMs);
    this.idleTimer.unref();
  }

  // ---- login and state changes -------------------------------------------------------------

  /** Enters the authenticated state; the caller has checked the credentials with the instance. */
  setLoggedIn(login: SessionLogin): void {
    this.login = login;
    this.state = 'authenticated';
    this.log = this.log.child({ instance: login.instanceId, user: login.userName });
    this.resetIdleTimer();
    this.changeListener = (event) => this.onArchiveChange(event);
    login.client.on('change', this.changeListener);
    // The instance restarted or its host went away: this login is gone; the client reconnects.
    login.client.on('close', this.onArchiveClosed);
    this.host.watchChanges(login.client);
    this.connectionLog(`login ${printable(login.userName)} from ${this.remoteAddress}${this.isTls ? ' (TLS)' : ''}`);
  }

  /** Writes a line to the instance's IMAP connection log (kept only when the instance enables it). */
  connectionLog(line: string): void {
    if (this.login === null) return;
    this.connectionLogLines.push(`${new Date().toISOString()} [${this.cid}] ${line}`);
    if (this.connectionLogTimer === null) {
      this.connectionLogTimer = setTimeout(() => this.flushConnectionLog(), CONNECTION_LOG_FLUSH_MS);
      this.connectionLogTimer.unref();
    }
  }

  private flushConnectionLog(): void {
    if (this.connectionLogTimer !== null) clearTimeout(this.connectionLogTimer);
    this.connectionLogTimer = null;
    const lines = this.connectionLogLines;
    this.connectionLogLines = [];
    if (lines.length === 0 || this.login === null || this.login.client.isClosed) return;
    this.login.client.connectionLog(lines).catch((error: unknown) => this.log.debug({ err: error }, 'connection log not written'));
  }

  /** The mailbox tree the user may read, cached briefly. */
  async mailboxes(isFresh = false): Promise<MailboxMap> {
    const login = this.requireLogin();
    const now = Date.now();
    if (!isFresh && this.folderCache !== null && now - this.folderCache.atMs < FOLDER_LIST_CACHE_MS) return this.folderCache.map;
    const folders = await login.client.listFolders({ session: login.token });
    const map = new MailboxMap(folders, login.userName);
    this.folderCache = { map, atMs: now };
    return map;
  }

  requireLogin(): SessionLogin {
    if (this.login === null) throw new Error('not logged in');
    return this.login;
  }

  /** Reads the current UID map of a folder (or the empty INBOX). */
  async snapshot(folder: FolderInfo | null): Promise<MailboxSnapshot> {
    if (folder === null) return emptySnapshot();
    const login = this.requireLogin();
    const [uids, status] = await Promise.all([
      login.client.folderUids({ session: login.token, folderId: folder.id }),
      login.client.folderStatus({ session: login.token, folderId: folder.id }),
    ]);
    return { uids: uids.uids, modseqs: uids.modseqs, highestModseq: Math.max(uids.highestModseq, status.highestModseq), uidValidity: status.uidValidity, uidNext: status.uidNext };
  }

  select(mailbox: SelectedMailbox): void {
    this.selected = mailbox;
    this.state = 'selected';
    this.isSelectedDirty = false;
  }

  unselect(): void {
    this.selected = null;
    if (this.state === 'selected') this.state = 'authenticated';
  }

  enableCondstore(): void {
    this.isCondstoreEnabled = true;
  }

  private readonly onArchiveClosed = (): void => {
    this.log.info('connection to the instance closed');
    void this.close('Connection to the archive was lost. Please log in again.');
  };

  private onArchiveChange(event: ChangeEvent): void {
    if (this.selected === null || this.selected.folderId !== event.folderId) {
      this.folderCache = null;
      return;
    }
    this.isSelectedDirty = true;
    const waiter = this.changeWaiter;
    this.changeWaiter = null;
    waiter?.();
  }

  /** Resolves at the next change to the selected folder (used by IDLE). */
  waitForChange(): { promise: Promise<void>; cancel: () => void } {
    let cancel!: () => void;
    const promise = new Promise<void>((resolve) => {
      this.changeWaiter = resolve;
      cancel = () => {
        if (this.changeWaiter === resolve) this.changeWaiter = null;
        resolve();
      };
    });
    return { promise, cancel };
  }

  /**
   * Re-reads the selected folder and announces EXPUNGE and EXISTS (RFC 3501 §7.4.1, §7.3.1). Only
   * called where the RFC allows it: NOOP, CHECK, IDLE, and after SELECT.
   */
  async announceChanges(isForced = false): Promise<void> {
    const mailbox = this.selected;
    if (mailbox === null || mailbox.entry.folder === null || this.login === null) return;
    if (!isForced && !this.isSelectedDirty) {
      // No change event seen; a cheap status check covers events lost while the link was down.
      const status = await this.login.client.folderStatus({ session: this.login.token, folderId: mailbox.entry.folder.id });
      if (status.uidNext === mailbox.uidNext && status.messages === mailbox.exists && status.highestModseq === mailbox.highestModseq) return;
    }
    this.isSelectedDirty = false;
    const snapshot = await this.snapshot(mailbox.entry.folder);
    if (this.selected !== mailbox) return;
    const changes = mailbox.apply(snapshot);
    for (const sequence of changes.expunged) await this.writer.untagged(`${sequence} EXPUNGE`);
    if (changes.exists !== null) {
      await this.writer.untagged(`${changes.exists} EXISTS`);
      await this.writer.untagged('0 RECENT');
    }
  }

  get hasPendingChange(): boolean {
    return this.isSelectedDirty;
  }

  // ---- STARTTLS ----------------------------------------------------------------------------

  /**
   * Switches the connection to TLS after `OK Begin TLS negotiation now`. Anything the client sent
   * after STARTTLS in clear text is discarded with the old parser (RFC 3501 §6.2.1, CVE-2011-0411).
   */
  async upgradeToTls(): Promise<void> {
    const plain = this.socket;
    this.detachSocket(plain);
    plain.on('error', () => {}); // errors surface on the TLS socket
    this.parser = this.createParser();
    const secure = new tls.TLSSocket(plain, { isServer: true, secureContext: this.host.secureContext() });
    this.socket = secure;
    this.isTls = true;
    this.writer = this.createWriter(secure);
    this.attachSocket(secure);
    if (plain.isPaused()) plain.resume();
  }

  // ---- closing -----------------------------------------------------------------------------

  /** Sends `* BYE text` (if given) and closes the connection. */
  async close(byeText?: string): Promise<void> {
    if (this.isClosing) return;
    this.isClosing = true;
    const waiter = this.rawLineWaiter;
    this.rawLineWaiter = null;
    waiter?.(null);
    this.changeWaiter?.();
    if (byeText !== undefined && !this.socket.destroyed) {
      const bye = this.writer.untagged(`BYE ${byeText}`).catch(() => {});
      const timer = new Promise<void>((resolve) => setTimeout(resolve, 2_000).unref());
      await Promise.race([bye, timer]);
    }
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 2_000).unref();
  }

  private async cleanup(): Promise<void> {
    this.isClosing = true;
    this.state = 'logout';
    if (this.idleTimer !== null) clearTimeout(this.idleTimer);
    const waiter = this.rawLineWaiter;
    this.rawLineWaiter = null;
    waiter?.(null);
    this.changeWaiter?.();
    const login = this.login;
    if (login !== null) {
      if (this.changeListener !== null) login.client.removeListener('change', this.changeListener);
      login.client.removeListener('close', this.onArchiveClosed);
      this.connectionLog('disconnected');
      this.flushConnectionLog();
      if (!login.client.isClosed) login.client.logout({ session: login.token }).catch(() => {});
    }
    this.log.debug('connection closed');
    this.resolveClosed();
  }

  /** The response code and text for a command that names a mailbox which does not exist. */
  static nonexistent(name: string): { code: ResponseCode; text: string } {
    return { code: { name: 'NONEXISTENT' }, text: `Mailbox doesn't exist: ${printable(name.replace(/^\u0000/, ''))}` };
  }
}
