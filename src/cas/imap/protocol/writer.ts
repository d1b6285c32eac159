/**
 * One response writer per connection.
 *
 * Every byte the server sends goes through `ResponseWriter`: writes are serialised (a FETCH
 * response holds the writer until it ends, so an untagged notification cannot land inside it),
 * each write waits for `drain` when the socket's buffer is full, a write that cannot drain within
 * the output-stall timeout is rejected, and every literal sends exactly the bytes it announced.
 */

import type { ProtocolError } from './errors.js';
import { DEFAULT_OUTPUT_STALL_TIMEOUT_MS } from './limits.js';
import { formatResponseCode, type ResponseCode } from './response-codes.js';
import type { WireChunk } from './quote.js';

/** The part of a socket the writer uses; `net.Socket` and `tls.TLSSocket` satisfy it. */
export interface WritableSink {
  write(chunk: Buffer): boolean;
  /** Optional batching (net/tls sockets): writes between cork and uncork leave as one. */
  cork?(): void;
  uncork?(): void;
  once(event: 'drain' | 'close' | 'error', listener: (...args: unknown[]) => void): unknown;
  removeListener(event: 'drain' | 'close' | 'error', listener: (...args: unknown[]) => void): unknown;
  readonly destroyed: boolean;
}

/** A literal whose announced size did not match its source: a bug in the code that computed the size. */
export interface LiteralSizeMismatch {
  readonly itemName: string;
  readonly announcedBytes: number;
  /** Bytes the source delivered (counting any beyond the announced size that were cut). */
  readonly sourceBytes: number;
}

export interface ResponseWriterOptions {
  /** How long one write may wait for `drain` before it is rejected with `OutputStallError`. */
  readonly outputStallTimeoutMs?: number;
  /** Called when a literal had to be padded or cut; the connection logs it as a bug. */
  readonly onLiteralSizeMismatch?: (mismatch: LiteralSizeMismatch) => void;
}

export type TaggedStatus = 'OK' | 'NO' | 'BAD';

/** The bytes of a literal: in memory, or streamed from a Readable or any async iterable. */
export type LiteralSource = Buffer | AsyncIterable<Buffer | Uint8Array | string>;

export class OutputStallError extends Error {
  override readonly name = 'OutputStallError';
  readonly code = 'OUTPUT_STALL';
  constructor(timeoutMs: number) {
    super(`Client did not read output for ${timeoutMs} ms`);
  }
}

export class ConnectionClosedError extends Error {
  override readonly name = 'ConnectionClosedError';
  readonly code = 'CONNECTION_CLOSED';
  constructor() {
    super('Connection closed while writing');
  }
}

const CRLF = Buffer.from('\r\n');
const PADDING_CHUNK_BYTES = 64 * 1024;

/** Response text must stay on one line and must not look like a response code. */
function sanitizeText(text: string, hasCode: boolean): string {
  const oneLine = text.replace(/[\r\n\0]/g, ' ');
  return !hasCode && oneLine.startsWith('[') ? ` ${oneLine}` : oneLine;
}

export class ResponseWriter {
  private readonly stallTimeoutMs: number;
  private readonly onMismatch: ((mismatch: LiteralSizeMismatch) => void) | undefined;
  private lock: Promise<void> = Promise.resolve();
  private writtenBytes = 0;

  constructor(
    private readonly sink: WritableSink,
    options: ResponseWriterOptions = {},
  ) {
    this.stallTimeoutMs = options.outputStallTimeoutMs ?? DEFAULT_OUTPUT_STALL_TIMEOUT_MS;
    this.onMismatch = options.onLiteralSizeMismatch;
  }

  /** Bytes handed to the socket so far. */
  get bytesWritten(): number {
    return this.writtenBytes;
  }

  /** `* text` */
  untagged(text: string): Promise<void> {
    return this.exclusive(() => this.writeRaw(Buffer.from(`* ${sanitizeText(text, false)}\r\n`, 'utf8')));
  }

  /**
   * Whole untagged responses already composed as bytes (each `* ...` through its CRLF), written
   * together: FETCH composes metadata and small messages' responses this way.
   */
  responses(buffers: readonly Buffer[]): Promise<void> {
    return this.exclusive(async () => {
      for (const b of buffers) await this.writeRaw(b);
    });
  }

  /**
   * `size` bytes from `source` for a literal: a short source is padded with spaces, a long one is
   * cut, and either is reported as a bug (the client is owed exactly what was announced).
   */
  exactLiteral(name: string, size: number, source: Buffer): Buffer {
    if (source.length === size) return source;
    this.reportMismatch({ itemName: name, announcedBytes: size, sourceBytes: source.length });
    if (source.length > size) return source.subarray(0, size);
    return Buffer.concat([source, Buffer.alloc(size - source.length, 0x20)]);
  }

  /** `* ` followed by wire chunks (quoted strings, literals) and CRLF, as one response. */
  untaggedChunks(chunks: readonly WireChunk[]): Promise<void> {
    return this.exclusive(async () => {
      await this.writeRaw(Buffer.from('* '));
      for (const chunk of chunks) await this.writeRaw(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk);
      await this.writeRaw(CRLF);
    });
  }

  /** `tag OK|NO|BAD [CODE] text` */
  tagged(tag: string, status: TaggedStatus, code: ResponseCode | undefined, text: string): Promise<void> {
    const codeText = code === undefined ? '' : `${formatResponseCode(code)} `;
    const line = `${tag} ${status} ${codeText}${sanitizeText(text, code !== undefined)}\r\n`;
    return this.exclusive(() => this.writeRaw(Buffer.from(line, 'utf8')));
  }

  /** Answers a command with a protocol error; with no valid tag the answer is untagged (`* BAD`). */
  taggedError(tag: string | null, error: ProtocolError): Promise<void> {
    if (tag === null) {
      const codeText = error.responseCode === undefined ? '' : `${formatResponseCode(error.responseCode)} `;
      return this.untagged(`${error.status} ${codeText}${sanitizeText(error.message, error.responseCode !== undefined)}`);
    }
    return this.tagged(tag, error.status, error.responseCode, error.message);
  }

  /** `+ text` (a continuation request, e.g. `+ Ready` for a synchronising literal). */
  continuation(text = 'Ready'): Promise<void> {
    return this.exclusive(() => this.writeRaw(Buffer.from(`+ ${sanitizeText(text, true)}\r\n`, 'utf8')));
  }

  /**
   * Starts `* n FETCH (`; the writer is held by the returned builder until `end()`, so nothing else
   * is written inside the response.
   */
  async fetch(sequenceNumber: number): Promise<FetchResponseBuilder> {
    const release = await this.acquire();
    try {
      await this.writeRaw(Buffer.from(`* ${sequenceNumber} FETCH (`, 'latin1'));
    } catch (error) {
      release();
      throw error;
    }
    return new FetchResponseBuilder(this, release);
  }

  /** Runs `task` holding the writer. */
  private async exclusive(task: () => Promise<void>): Promise<void> {
    const release = await this.acquire();
    try {
      await task();
    } finally {
      release();
    }
  }

  private acquire(): Promise<() => void> {
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const previous = this.lock;
    this.lock = previous.then(() => held);
    return previous.then(() => release);
  }

  /** Writes bytes, waiting for `drain` when the sink is full. Used by the FETCH builder. */
  async writeRaw(chunk: Buffer): Promise<void> {
    if (this.sink.destroyed) throw new ConnectionClosedError();
    if (chunk.length === 0) return;
    this.writtenBytes += chunk.length;
    this.corkUntilIdle();
    if (this.sink.write(chunk)) return;
    await this.waitForDrain();
  }

  private corked = false;

  /**
   * Holds writes until the event loop has run what is ready, then sends them together: a FETCH of
   * many small messages writes several pieces per message, and each write on a TLS socket would
   * otherwise be its own record and system call. A full buffer still waits for `drain` (which
   * follows the uncork).
   */
  private corkUntilIdle(): void {
    if (this.corked || !this.sink.cork || !this.sink.uncork) return;
    this.corked = true;
    this.sink.cork();
    setImmediate(() => {
      this.corked = false;
      this.sink.uncork!();
    });
  }

  private waitForDrain(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const cleanup = () => {
        clearTimeout(timer);
        this.sink.removeListener('drain', onDrain);
        this.sink.removeListener('close', onClose);
        this.sink.removeListener('error', onClose);
      };
      const onDrain = () => {
        cleanup();
        resolve();
      };
      const onClose = () => {
        cleanup();
        reject(new ConnectionClosedError());
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new OutputStallError(this.stallTimeoutMs));
      }, this.stallTimeoutMs);
      this.sink.once('drain', onDrain);
      this.sink.once('close', onClose);
      this.sink.once('error', onClose);
    });
  }

  /** @internal */
  reportMismatch(mismatch: LiteralSizeMismatch): void {
    this.onMismatch?.(mismatch);
  }
}

/** Writes the items of one message's FETCH response, then `)` CRLF. */
export class FetchResponseBuilder {
  private isFirstItem = true;
  private isEnded = false;

  constructor(
    private readonly writer: ResponseWriter,
    private readonly release: () => void,
  ) {}

  /** Writes items already serialised (`NAME value` joined by spaces). */
  async items(bytes: Buffer): Promise<void> {
    this.assertOpen();
    const separator = this.separator();
    if (separator) await this.writer.writeRaw(Buffer.from(separator));
    await this.writer.writeRaw(bytes);
  }

  /** Writes `NAME value`, e.g. `item('FLAGS', '(\\Seen)')` or `item('ENVELOPE', chunksJoined)`. */
  async item(name: string, value: WireChunk | readonly WireChunk[]): Promise<void> {
    this.assertOpen();
    await this.writer.writeRaw(Buffer.from(`${this.separator()}${name} `, 'latin1'));
    const chunks = Array.isArray(value) ? (value as readonly WireChunk[]) : [value as WireChunk];
    for (const chunk of chunks) await this.writer.writeRaw(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk);
  }

  /**
   * Writes `NAME {size}` CRLF and exactly `size` bytes from `source`: a short source is padded
   * with spaces, a long one is cut, and either is reported as a bug. If the source fails, the
   * literal is still completed with padding (the client is owed `size` bytes) and the error is
   * rethrown so the caller can end the response and log it.
   */
  async literal(name: string, size: number, source: LiteralSource): Promise<void> {
    this.assertOpen();
    if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`Invalid literal size ${size}`);
    await this.writer.writeRaw(Buffer.from(`${this.separator()}${name} {${size}}\r\n`, 'latin1'));
    if (Buffer.isBuffer(source)) {
      // Cut or padded, and reported, exactly as a composed literal is.
      await this.writer.writeRaw(this.writer.exactLiteral(name, size, source));
      return;
    }
    let sent = 0;
    let sourceBytes = 0;
    let failure: unknown = null;
    try {
      for await (const piece of source) {
        const bytes = typeof piece === 'string' ? Buffer.from(piece, 'utf8') : Buffer.isBuffer(piece) ? piece : Buffer.from(piece);
        sourceBytes += bytes.length;
        if (sent >= size) {
          if (sourceBytes > size) break; // cut: stop reading the source at once
          continue;
        }
        const body = bytes.subarray(0, size - sent);
        await this.writer.writeRaw(body);
        sent += body.length;
        if (sourceBytes > size) break;
      }
    } catch (error) {
      if (error instanceof OutputStallError || error instanceof ConnectionClosedError) throw error;
      failure = error;
    }
    while (sent < size) {
      const padding = Buffer.alloc(Math.min(PADDING_CHUNK_BYTES, size - sent), 0x20);
      await this.writer.writeRaw(padding);
      sent += padding.length;
    }
    if (sourceBytes !== size) this.writer.reportMismatch({ itemName: name, announcedBytes: size, sourceBytes });
    if (failure !== null) throw failure;
  }

  /** Writes `)` CRLF and releases the writer. Safe to call more than once. */
  async end(): Promise<void> {
    if (this.isEnded) return;
    this.isEnded = true;
    try {
      await this.writer.writeRaw(Buffer.from(')\r\n'));
    } finally {
      this.release();
    }
  }

  /**
   * Releases the writer without finishing the line, for when the connection is being closed
   * after a failed write. Never use it on a healthy connection: the client would see a broken response.
   */
  abandon(): void {
    if (this.isEnded) return;
    this.isEnded = true;
    this.release();
  }

  private separator(): string {
    if (this.isFirstItem) {
      this.isFirstItem = false;
      return '';
    }
    return ' ';
  }

  private assertOpen(): void {
    if (this.isEnded) throw new Error('FETCH response already ended');
  }
}
