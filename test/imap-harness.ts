/**
 * Shared set-up for the IMAP tests: a real Instance Host with instance `acme`, users and an
 * imported corpus subset, the real IMAP server on port 0 (143-style plain and 993-style TLS), and
 * a raw IMAP client that speaks over a real socket and returns whole lines.
 */
import { readFileSync, readdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { createLogger } from '../src/common/logger.js';
import { generateSelfSigned, type RoleCertificate } from '../src/common/certs.js';
import { normalizeLineEndings } from '../src/common/mime/index.js';
import type { InstanceClient } from '../src/instance/client.js';
import { ImapServer, type ImapServerLimits } from '../src/cas/imap/server.js';
import { startEngine, type Engine } from './helpers/engine.js';

export const CORPUS = path.resolve(__dirname, '../../shared/corpus');

export function corpusFiles(dir: string, limit = Infinity): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (out.length >= limit) return;
      if (entry.isDirectory()) {
        if (!entry.name.startsWith('_')) walk(path.join(d, entry.name));
      } else if (entry.name.endsWith('.eml')) out.push(path.join(d, entry.name));
    }
  };
  walk(dir);
  return out;
}

export const crlf = (b: Buffer): Buffer => normalizeLineEndings(b);

export interface Harness {
  engine: Engine;
  acme: InstanceClient;
  server: ImapServer;
  plainPort: number;
  tlsPort: number;
  certificate: RoleCertificate;
  /** Distinct imported messages of jane/Inbox in CRLF form. */
  inbox: Buffer[];
  close(): Promise<void>;
}

export interface HarnessOptions {
  inboxFiles?: string[];
  limits?: Partial<ImapServerLimits>;
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const engine = await startEngine();
  const acme = await engine.startInstance('acme');
  await acme.management('CreateUser', { userName: 'jane', privileges: 'login', password: 'pw-jane' });
  await acme.management('CreateUser', { userName: 'bob', privileges: 'login', password: 'pw-bob' });
  await acme.management('CreateUser', { userName: 'carol', privileges: 'login', password: 'pw-carol' });
  await acme.management('SetUserPrivilegesOnFolder', { userName: 'jane', folder: 'bob', privileges: 'read' });
  const files = options.inboxFiles ?? corpusFiles(path.join(CORPUS, 'fixtures/nodemailer-mailparser'), 30);
  const items = files.map((file, k) => ({ name: file, folder: 'Inbox', raw: readFileSync(file), internalDate: Date.UTC(2024, 0, 1 + k, 12, 0, 0) }));
  await acme.ingest('jane', items);
  await acme.ingest('jane', [{ name: 'sent', folder: 'Sent Items', raw: Buffer.from('From: jane@example.com\r\nTo: x@example.com\r\nSubject: sent one\r\n\r\nhello\r\n'), flags: ['\\Seen'] }]);
  await acme.ingest('bob', [{ name: 'bob1', folder: 'Inbox', raw: Buffer.from('From: bob@example.com\r\nSubject: for bob\r\n\r\nbob body\r\n'), flags: [] }]);
  await acme.ingest('carol', [{ name: 'carol1', folder: 'Inbox', raw: Buffer.from('From: carol@example.com\r\nSubject: secret carol\r\n\r\nnot for jane\r\n') }]);
  const seen = new Set<string>();
  const inbox: Buffer[] = [];
  for (const item of items) {
    const bytes = crlf(item.raw);
    const key = bytes.toString('base64');
    if (!seen.has(key)) {
      seen.add(key);
      inbox.push(bytes);
    }
  }
  const certificate = generateSelfSigned('localhost');
  const server = new ImapServer({
    resolveInstance: async (id) => {
      if (id.toLowerCase() === 'acme' || id === 'acme-alias') return { ok: true, instanceId: 'acme', client: acme };
      if (id === 'stopped') return { ok: false, reason: 'unavailable', message: 'Instance stopped is not running. Please try again later.' };
      return { ok: false, reason: 'unknown', message: 'unknown instance' };
    },
    tls: () => ({ key: certificate.keyPem, cert: certificate.certPem }),
    productName: () => 'Coffer',
    log: createLogger(process.env.IMAP_TEST_LOG ?? 'silent'),
    host: '127.0.0.1',
    plainPort: 0,
    tlsPort: 0,
    limits: { authFailureDelayMs: 20, maxAuthFailureDelayMs: 200, shutdownGraceMs: 500, ...options.limits },
  });
  const ports = await server.listen();
  return {
    engine,
    acme,
    server,
    plainPort: ports.plainPort!,
    tlsPort: ports.tlsPort!,
    certificate,
    inbox,
    async close() {
      await server.close();
      await engine.close();
    },
  };
}

/** A raw IMAP client over a real socket: sends lines, returns whole response lines. */
export class RawImapClient {
  private buffer = Buffer.alloc(0);
  private waiters: (() => void)[] = [];
  isClosed = false;

  private constructor(public socket: net.Socket) {
    this.listen(socket);
  }

  private listen(socket: net.Socket): void {
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.wake();
    });
    socket.on('close', () => {
      this.isClosed = true;
      this.wake();
    });
    socket.on('error', () => {});
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  static async connectTls(port: number): Promise<RawImapClient> {
    const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false });
    await new Promise<void>((resolve, reject) => {
      socket.once('secureConnect', resolve);
      socket.once('error', reject);
    });
    return new RawImapClient(socket);
  }

  static async connectPlain(port: number): Promise<RawImapClient> {
    const socket = net.connect({ host: '127.0.0.1', port });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new RawImapClient(socket);
  }

  /** Upgrades to TLS after a STARTTLS OK. */
  async startTls(): Promise<void> {
    const plain = this.socket;
    plain.removeAllListeners('data');
    const secure = tls.connect({ socket: plain, rejectUnauthorized: false });
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', resolve);
      secure.once('error', reject);
    });
    this.buffer = Buffer.alloc(0);
    this.socket = secure;
    this.listen(secure);
  }

  private async waitForData(timeoutMs: number): Promise<void> {
    if (this.isClosed) throw new Error(`connection closed; unread: ${JSON.stringify(this.buffer.toString('latin1'))}`);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timeout; unread: ${JSON.stringify(this.buffer.toString('latin1').slice(0, 2000))}`)), timeoutMs);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Reads one response line; a literal `{n}` at its end is included with its bytes and the rest of the line. */
  async readLine(timeoutMs = 10_000): Promise<string> {
    for (;;) {
      const end = this.completeResponseEnd();
      if (end !== -1) {
        // latin1 keeps every byte: literals may hold any octets.
        const line = this.buffer.subarray(0, end - 2).toString('latin1');
        this.buffer = this.buffer.subarray(end);
        return line;
      }
      await this.waitForData(timeoutMs);
    }
  }

  /** Offset just past the CRLF that ends the first response, or -1. */
  private completeResponseEnd(): number {
    let position = 0;
    for (;;) {
      const lf = this.buffer.indexOf('\r\n', position);
      if (lf === -1) return -1;
      const match = /\{(\d+)\}$/.exec(this.buffer.toString('latin1', Math.max(position, lf - 24), lf));
      if (match === null) return lf + 2;
      const size = Number(match[1]);
      if (this.buffer.length < lf + 2 + size) return -1;
      position = lf + 2 + size;
    }
  }

  write(text: string | Buffer): void {
    this.socket.write(text);
  }

  /** Sends `tag command` and returns every line up to and including the tagged response. */
  async command(tag: string, text: string, timeoutMs = 10_000): Promise<string[]> {
    this.write(`${tag} ${text}\r\n`);
    return this.readUntilTagged(tag, timeoutMs);
  }

  async readUntilTagged(tag: string, timeoutMs = 10_000): Promise<string[]> {
    const lines: string[] = [];
    for (;;) {
      const line = await this.readLine(timeoutMs);
      lines.push(line);
      if (line.startsWith(`${tag} `)) return lines;
    }
  }

  async login(user = 'jane@acme', password = 'pw-jane'): Promise<void> {
    const lines = await this.command('L1', `LOGIN ${user} ${password}`);
    if (!lines[lines.length - 1]!.startsWith('L1 OK')) throw new Error(lines.join('\n'));
  }

  close(): void {
    this.socket.destroy();
  }
}
