/**
 * The CAS IMAP server: port 143 (plain, STARTTLS required before login) and port 993 (implicit
 * TLS), TLS 1.2+ with a certificate that reloads without a restart, per-address connection
 * limits, and a graceful shutdown that sends `* BYE` to every client.
 *
 * The server knows nothing of routing: `resolveInstance` (the routing table's seam) turns the
 * instance part of a login name into a connected `InstanceClient`.
 */
import net from 'node:net';
import tls from 'node:tls';
import type { Logger } from 'pino';
import type { InstanceClient } from '../../instance/client.js';
import { DEFAULT_OUTPUT_STALL_TIMEOUT_MS, DEFAULT_PARSER_LIMITS, type ParserLimits } from './protocol/index.js';
import { AuthThrottle } from './auth-throttle.js';
import { Session, type ArchiveView } from './session.js';
import {
  DEFAULT_AUTH_FAILURE_DELAY_MS,
  DEFAULT_AUTH_IDLE_TIMEOUT_MS,
  DEFAULT_IDLE_KEEPALIVE_MS,
  DEFAULT_IDLE_POLL_MS,
  DEFAULT_MAX_CONNECTIONS_PER_ADDRESS,
  DEFAULT_PRE_AUTH_IDLE_TIMEOUT_MS,
  MAX_AUTH_FAILURE_DELAY_MS,
  SHUTDOWN_GRACE_MS,
} from './server-limits.js';

/** What the routing table answers for the instance part of a login name. */
export type ResolveInstanceResult =
  | { ok: true; instanceId: string; client: InstanceClient }
  | { ok: false; reason: 'unknown' | 'unavailable'; message: string };

export interface TlsCredentials {
  key: string | Buffer;
  cert: string | Buffer;
}

/** Timeouts and limits of the IMAP server; every field has a default in `server-limits.ts`. */
export interface ImapServerLimits {
  /** Client silence allowed before login. */
  preAuthIdleTimeoutMs: number;
  /** Client silence allowed after login, IDLE included (RFC 3501 §5.4: at least 30 minutes). */
  authIdleTimeoutMs: number;
  /** Interval of `* OK Still here` during IDLE. */
  idleKeepaliveMs: number;
  /** Fallback re-check of the selected folder during IDLE. */
  idlePollMs: number;
  /** How long one write may wait for a client that does not read. */
  outputStallTimeoutMs: number;
  maxConnectionsPerAddress: number;
  /** First delay after a failed login; doubles per further failure of the address or name. */
  authFailureDelayMs: number;
  maxAuthFailureDelayMs: number;
  /** Time clients get to receive `* BYE` at shutdown before their connections are cut. */
  shutdownGraceMs: number;
}

export interface ImapServerOptions {
  /** Routing seam: instance ID or alias → a connected instance client. */
  resolveInstance(idOrAlias: string): Promise<ResolveInstanceResult>;
  /** The CAS certificate; read again by `reloadCertificate()`. */
  tls: () => TlsCredentials;
  /** Branding: the product name shown in the greeting. */
  productName: () => string;
  log: Logger;
  /** Bind address; all interfaces when omitted. */
  host?: string;
  /** Plain port with STARTTLS (143); null disables it, 0 picks a free port. */
  plainPort?: number | null;
  /** Implicit-TLS port (993); null disables it, 0 picks a free port. */
  tlsPort?: number | null;
  limits?: Partial<ImapServerLimits>;
  parserLimits?: Partial<ParserLimits>;
}

/** What a session needs from its server. */
export interface SessionHost {
  readonly log: Logger;
  readonly limits: Readonly<ImapServerLimits>;
  readonly parserLimits: ParserLimits;
  readonly throttle: AuthThrottle;
  productName(): string;
  secureContext(): tls.SecureContext;
  resolveInstance(idOrAlias: string): Promise<ResolveInstanceResult>;
  /** Makes sure the instance sends change events (for IDLE) to this client. */
  watchChanges(client: ArchiveView): void;
}

const DEFAULT_LIMITS: ImapServerLimits = Object.freeze({
  preAuthIdleTimeoutMs: DEFAULT_PRE_AUTH_IDLE_TIMEOUT_MS,
  authIdleTimeoutMs: DEFAULT_AUTH_IDLE_TIMEOUT_MS,
  idleKeepaliveMs: DEFAULT_IDLE_KEEPALIVE_MS,
  idlePollMs: DEFAULT_IDLE_POLL_MS,
  outputStallTimeoutMs: DEFAULT_OUTPUT_STALL_TIMEOUT_MS,
  maxConnectionsPerAddress: DEFAULT_MAX_CONNECTIONS_PER_ADDRESS,
  authFailureDelayMs: DEFAULT_AUTH_FAILURE_DELAY_MS,
  maxAuthFailureDelayMs: MAX_AUTH_FAILURE_DELAY_MS,
  shutdownGraceMs: SHUTDOWN_GRACE_MS,
});

/** TLS 1.2 or newer only (issue 4). */
const MIN_TLS_VERSION = 'TLSv1.2';

function validateLimits(limits: ImapServerLimits): void {
  for (const [name, value] of Object.entries(limits)) {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new RangeError(`IMAP server option limits.${name} must be a non-negative number, got ${String(value)}`);
  }
  if (limits.maxConnectionsPerAddress < 1) throw new RangeError('IMAP server option limits.maxConnectionsPerAddress must be at least 1');
}

export class ImapServer implements SessionHost {
  readonly log: Logger;
  readonly limits: Readonly<ImapServerLimits>;
  readonly parserLimits: ParserLimits;
  readonly throttle: AuthThrottle;
  private context: tls.SecureContext;
  private credentials: TlsCredentials;
  private plainServer: net.Server | null = null;
  private tlsServer: tls.Server | null = null;
  private readonly sessions = new Set<Session>();
  private readonly connectionsPerAddress = new Map<string, number>();
  private readonly watchedClients = new WeakSet<ArchiveView>();
  private isShuttingDown = false;

  constructor(private readonly options: ImapServerOptions) {
    this.log = options.log.child({ role: 'imap' });
    this.limits = Object.freeze({ ...DEFAULT_LIMITS, ...options.limits });
    validateLimits(this.limits);
    this.parserLimits = Object.freeze({ ...DEFAULT_PARSER_LIMITS, ...options.parserLimits });
    this.throttle = new AuthThrottle({ baseDelayMs: this.limits.authFailureDelayMs, maxDelayMs: this.limits.maxAuthFailureDelayMs });
    this.credentials = options.tls();
    this.context = this.createContext(this.credentials);
  }

  private createContext(credentials: TlsCredentials): tls.SecureContext {
    return tls.createSecureContext({ key: credentials.key, cert: credentials.cert, minVersion: MIN_TLS_VERSION });
  }

  productName(): string {
    try {
      return this.options.productName();
    } catch (error) {
      // Broken branding must not take connections down; the greeting falls back to the default.
      this.log.error({ err: error }, 'productName() failed');
      return 'Coffer';
    }
  }

  secureContext(): tls.SecureContext {
    return this.context;
  }

  resolveInstance(idOrAlias: string): Promise<ResolveInstanceResult> {
    return this.options.resolveInstance(idOrAlias);
  }

  watchChanges(client: ArchiveView): void {
    if (this.watchedClients.has(client)) return;
    this.watchedClients.add(client);
    client.subscribe().catch((error: unknown) => {
      this.watchedClients.delete(client);
      this.log.warn({ err: error, instance: client.instanceId }, 'could not subscribe to archive changes');
    });
  }

  /** Starts listening; resolves with the bound ports. */
  async listen(): Promise<{ plainPort: number | null; tlsPort: number | null }> {
    const plainPort = this.options.plainPort === undefined ? 143 : this.options.plainPort;
    const tlsPort = this.options.tlsPort === undefined ? 993 : this.options.tlsPort;
    let boundPlain: number | null = null;
    let boundTls: number | null = null;
    if (plainPort !== null) {
      const server = net.createServer((socket) => this.accept(socket, false));
      this.plainServer = server;
      boundPlain = await this.bind(server, plainPort);
    }
    if (tlsPort !== null) {
      const server = tls.createServer({ key: this.credentials.key, cert: this.credentials.cert, minVersion: MIN_TLS_VERSION });
      server.on('secureConnection', (socket) => this.accept(socket, true));
      server.on('tlsClientError', (error) => this.log.debug({ err: error.message }, 'TLS handshake failed'));
      this.tlsServer = server;
      boundTls = await this.bind(server, tlsPort);
    }
    this.log.info({ plainPort: boundPlain, tlsPort: boundTls }, 'IMAP server listening');
    return { plainPort: boundPlain, tlsPort: boundTls };
  }

  private bind(server: net.Server, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, this.options.host, () => {
        server.removeListener('error', reject);
        server.on('error', (error) => this.log.error({ err: error }, 'IMAP listener error'));
        resolve((server.address() as net.AddressInfo).port);
      });
    });
  }

  /** Reads the certificate again (operators replace the PEM files); new connections use it. */
  reloadCertificate(): void {
    const credentials = this.options.tls();
    const context = this.createContext(credentials);
    this.tlsServer?.setSecureContext({ key: credentials.key, cert: credentials.cert, minVersion: MIN_TLS_VERSION });
    this.credentials = credentials;
    this.context = context;
    this.log.info('IMAP certificate reloaded');
  }

  get connectionCount(): number {
    return this.sessions.size;
  }

  private accept(socket: net.Socket, isImplicitTls: boolean): void {
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 60_000);
    if (this.isShuttingDown) {
      socket.on('error', () => {});
      socket.end('* BYE Server shutting down.\r\n');
      return;
    }
    const address = socket.remoteAddress ?? 'unknown';
    const count = this.connectionsPerAddress.get(address) ?? 0;
    if (count >= this.limits.maxConnectionsPerAddress) {
      this.log.warn({ remote: address }, 'too many connections from one address');
      socket.on('error', () => {});
      socket.end('* BYE Too many connections from your address.\r\n');
      return;
    }
    this.connectionsPerAddress.set(address, count + 1);
    const session = new Session(this, socket, isImplicitTls);
    this.sessions.add(session);
    void session.closed.then(() => {
      this.sessions.delete(session);
      const left = (this.connectionsPerAddress.get(address) ?? 1) - 1;
      if (left <= 0) this.connectionsPerAddress.delete(address);
      else this.connectionsPerAddress.set(address, left);
    });
    session.start();
  }

  /** Stops accepting, sends `* BYE` to every client, and waits (bounded) for the connections to end. */
  async close(): Promise<void> {
    this.isShuttingDown = true;
    const closing: Promise<void>[] = [];
    for (const server of [this.plainServer, this.tlsServer]) {
      if (server !== null) closing.push(new Promise((resolve) => server.close(() => resolve())));
    }
    const sessions = [...this.sessions];
    await Promise.all(sessions.map((session) => session.close('Server shutting down.')));
    const grace = new Promise<void>((resolve) => setTimeout(resolve, this.limits.shutdownGraceMs).unref());
    await Promise.race([Promise.all(sessions.map((s) => s.closed)), grace]);
    await Promise.race([Promise.all(closing), grace]);
    this.log.info('IMAP server stopped');
  }
}
