/**
 * One RPC peer over any duplex byte stream: calls with JSON results, calls with streamed binary
 * results (credit-based flow control so many streams share one connection without one slow
 * reader stalling the rest), cancellation, and server-pushed events.
 */
import { Readable, type Duplex } from 'node:stream';
import { EventEmitter } from 'node:events';
import { FrameDecoder, FrameType, decodeWithData, encodeBinary, encodeJson, encodeRequestWithData, encodeResponseWithData, joined } from './frames.js';

/** Bytes a stream may send ahead of the reader's credit. */
const STREAM_WINDOW_BYTES = 512 * 1024;
const CHUNK_BYTES = 64 * 1024;

export interface RpcErrorInfo { code: string; message: string; details?: unknown }

export class RpcError extends Error {
  constructor(readonly code: string, message: string, readonly details?: unknown) { super(message); }
}

export type StreamSource = AsyncIterable<Buffer> | Iterable<Buffer>;
/** What a handler returns: a plain JSON value, or a stream marker. */
export class StreamResult {
  constructor(readonly meta: unknown, readonly source: StreamSource) {}
}
/** What a handler returns to answer with a JSON value and binary buffers in one frame (`callForData`). */
export class DataResult {
  constructor(readonly result: unknown, readonly data: Buffer[]) {}
}

/** `data`: the binary buffers sent with `callWithData`, in order (empty otherwise). */
export interface HandlerContext { signal: AbortSignal; peer: RpcPeer; data: Buffer[] }
export type Handler = (params: any, ctx: HandlerContext) => Promise<unknown> | unknown;

/** `handedOut`: the stream was given to the caller (its Response arrived); before that nobody listens to it. */
interface Pending { resolve(v: unknown, data?: Buffer[]): void; reject(e: Error): void; stream?: Readable & { onMeta?: (m: unknown) => void }; handedOut?: boolean }

export class RpcPeer extends EventEmitter {
  private decoder = new FrameDecoder();
  private nextId = 1;
  private pending = new Map<number, Pending>();
  private running = new Map<number, AbortController>();
  private credits = new Map<number, { window: number; wake?: () => void }>();
  private closed = false;
  private handlers = new Map<string, Handler>();

  constructor(readonly socket: Duplex, handlers?: Record<string, Handler>) {
    super();
    if (handlers) for (const [k, v] of Object.entries(handlers)) this.handlers.set(k, v);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('close', () => this.shutdown(new RpcError('DISCONNECTED', 'connection to peer closed')));
    socket.on('error', (e) => this.shutdown(new RpcError('DISCONNECTED', `connection to peer failed: ${e.message}`)));
  }

  get isClosed(): boolean { return this.closed; }

  handle(method: string, fn: Handler): void { this.handlers.set(method, fn); }

  call<T = unknown>(method: string, params: unknown = {}, timeoutMs = 0): Promise<T> {
    if (this.closed) return Promise.reject(new RpcError('DISCONNECTED', 'connection to peer closed'));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      if (timeoutMs > 0) timer = setTimeout(() => { this.pending.delete(id); this.write(encodeJson(FrameType.Cancel, { id })); reject(new RpcError('TIMEOUT', `${method} timed out after ${timeoutMs} ms`)); }, timeoutMs);
      this.pending.set(id, {
        resolve: (v) => { if (timer) clearTimeout(timer); resolve(v as T); },
        reject: (e) => { if (timer) clearTimeout(timer); reject(e); },
      });
      this.write(encodeJson(FrameType.Request, { id, method, params }));
    });
  }

  /** Like `call`, with binary buffers sent as they are (no JSON or base64 on either side). */
  callWithData<T = unknown>(method: string, params: unknown, buffers: Buffer[]): Promise<T> {
    if (this.closed) return Promise.reject(new RpcError('DISCONNECTED', 'connection to peer closed'));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: (v) => resolve(v as T), reject });
      this.socket.cork();
      for (const part of encodeRequestWithData({ id, method, params }, buffers)) this.write(part);
      this.socket.uncork();
    });
  }

  /** Calls a method whose handler answers with a `DataResult`: the JSON value and its buffers, in one frame. */
  callForData<T = unknown>(method: string, params: unknown = {}): Promise<{ result: T; data: Buffer[] }> {
    if (this.closed) return Promise.reject(new RpcError('DISCONNECTED', 'connection to peer closed'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: (v, data) => resolve({ result: v as T, data: data ?? [] }), reject });
      this.write(encodeJson(FrameType.Request, { id, method, params }));
    });
  }

  /** Calls a streaming method; resolves with the handler's meta value and a Readable of the bytes. */
  callStream(method: string, params: unknown = {}): Promise<{ meta: unknown; stream: Readable }> {
    if (this.closed) return Promise.reject(new RpcError('DISCONNECTED', 'connection to peer closed'));
    const id = this.nextId++;
    let consumed = 0;
    const stream = new Readable({
      highWaterMark: STREAM_WINDOW_BYTES,
      read: () => {
        if (consumed > 0) { this.write(encodeBinary(FrameType.Credit, id, null, consumed)); consumed = 0; }
      },
      destroy: (err, cb) => {
        if (this.pending.has(id)) { this.pending.delete(id); this.write(encodeJson(FrameType.Cancel, { id })); }
        cb(err);
      },
    }) as Readable & { onMeta?: (m: unknown) => void; onChunk?: (n: number) => void };
    (stream as any).onChunk = (n: number) => { consumed += n; };
    return new Promise((resolve, reject) => {
      this.pending.set(id, {
        resolve: (meta) => resolve({ meta, stream }),
        reject,
        stream,
      });
      this.write(encodeJson(FrameType.Request, { id, method, params, stream: true }));
    });
  }

  emitEvent(event: string, data: unknown): void { this.write(encodeJson(FrameType.Event, { event, data })); }

  close(): void { this.socket.end(); }

  private write(buf: Buffer): boolean {
    if (this.closed) return false;
    return this.socket.write(buf);
  }

  private onData(chunk: Buffer): void {
    let frames;
    try { frames = this.decoder.push(chunk); } catch (e) { this.socket.destroy(e as Error); return; }
    for (const f of frames) this.onFrame(f.type, f.parts);
  }

  private onFrame(type: FrameType, parts: Buffer[]): void {
    // Frames of message data are read where they arrived; the others are small and joined.
    if (type === FrameType.RequestWithData) {
      const { value, data } = decodeWithData<{ id: number; method: string; params: unknown }>(parts);
      void this.serve(value, data);
      return;
    }
    if (type === FrameType.ResponseWithData) {
      const { value, data } = decodeWithData<{ id: number; result: unknown }>(parts);
      const p = this.pending.get(value.id);
      if (!p || p.stream) return;
      this.pending.delete(value.id);
      p.resolve(value.result, data);
      return;
    }
    const payload = joined(parts);
    switch (type) {
      case FrameType.Request: { const m = JSON.parse(payload.toString('utf8')); void this.serve(m, []); break; }
      case FrameType.Response: {
        const m = JSON.parse(payload.toString('utf8'));
        const p = this.pending.get(m.id);
        if (!p) break;
        if (!p.stream) this.pending.delete(m.id);
        else p.handedOut = true;
        p.resolve(m.result);
        break;
      }
      case FrameType.Error: {
        const m = JSON.parse(payload.toString('utf8'));
        // id 0: the connection as a whole was refused (e.g. the instance is not running).
        if (m.id === 0) { this.shutdown(new RpcError(m.error.code, m.error.message)); break; }
        const p = this.pending.get(m.id);
        if (!p) break;
        this.pending.delete(m.id);
        const err = new RpcError(m.error.code, m.error.message, m.error.details);
        // A refused stream call rejects its promise; destroying a stream nobody has would raise an unhandled 'error'.
        if (p.stream && p.handedOut) p.stream.destroy(err);
        p.reject(err);
        break;
      }
      case FrameType.Chunk: {
        const id = payload.readUInt32BE(0);
        const p = this.pending.get(id);
        if (!p?.stream) break;
        const data = payload.subarray(4);
        (p.stream as any).onChunk(data.length);
        if (p.stream.push(data)) p.stream.read(0);
        break;
      }
      case FrameType.End: {
        const m = JSON.parse(payload.toString('utf8'));
        const p = this.pending.get(m.id);
        if (!p?.stream) break;
        this.pending.delete(m.id);
        p.stream.push(null);
        break;
      }
      case FrameType.Credit: {
        const id = payload.readUInt32BE(0);
        const c = this.credits.get(id);
        if (c) { c.window += payload.readUInt32BE(4); c.wake?.(); }
        break;
      }
      case FrameType.Cancel: {
        const m = JSON.parse(payload.toString('utf8'));
        this.running.get(m.id)?.abort();
        const c = this.credits.get(m.id);
        c?.wake?.();
        break;
      }
      case FrameType.Event: { const m = JSON.parse(payload.toString('utf8')); this.emit('event', m.event, m.data); break; }
      case FrameType.Hello: { this.emit('hello', JSON.parse(payload.toString('utf8'))); break; }
      default: this.socket.destroy(new Error(`unknown RPC frame type ${type}`));
    }
  }

  private async serve(m: { id: number; method: string; params: unknown; stream?: boolean }, data: Buffer[]): Promise<void> {
    const handler = this.handlers.get(m.method);
    if (!handler) { this.write(encodeJson(FrameType.Error, { id: m.id, error: { code: 'NO_SUCH_METHOD', message: `unknown method ${m.method}` } })); return; }
    const ac = new AbortController();
    this.running.set(m.id, ac);
    try {
      const result = await handler(m.params, { signal: ac.signal, peer: this, data });
      if (result instanceof DataResult) {
        // One system call for the header and all buffers, not one per buffer.
        this.socket.cork();
        for (const part of encodeResponseWithData({ id: m.id, result: result.result }, result.data)) this.write(part);
        this.socket.uncork();
      } else if (result instanceof StreamResult) {
        this.write(encodeJson(FrameType.Response, { id: m.id, result: result.meta }));
        await this.sendStream(m.id, result.source, ac.signal);
        if (!ac.signal.aborted) this.write(encodeJson(FrameType.End, { id: m.id }));
      } else {
        this.write(encodeJson(FrameType.Response, { id: m.id, result: result === undefined ? null : result }));
      }
    } catch (e) {
      const err = e as RpcError;
      const info: RpcErrorInfo = { code: typeof err.code === 'string' ? err.code : 'INTERNAL', message: err.message ?? String(e) };
      if (err.details !== undefined) info.details = err.details;
      if (!this.closed) this.write(encodeJson(FrameType.Error, { id: m.id, error: info }));
      if (info.code === 'INTERNAL') this.emit('handler-error', m.method, e);
    } finally {
      this.running.delete(m.id);
    }
  }

  private async sendStream(id: number, source: StreamSource, signal: AbortSignal): Promise<void> {
    const credit: { window: number; wake?: () => void } = { window: STREAM_WINDOW_BYTES };
    this.credits.set(id, credit);
    try {
      for await (const piece of source as AsyncIterable<Buffer>) {
        for (let off = 0; off < piece.length; off += CHUNK_BYTES) {
          if (signal.aborted || this.closed) return;
          const part = piece.subarray(off, Math.min(piece.length, off + CHUNK_BYTES));
          while (credit.window <= 0 && !signal.aborted && !this.closed) await new Promise<void>((r) => { credit.wake = r; });
          if (signal.aborted || this.closed) return;
          credit.window -= part.length;
          if (!this.write(encodeBinary(FrameType.Chunk, id, part))) await this.drained();
        }
      }
    } finally {
      this.credits.delete(id);
    }
  }

  /** Streams waiting for the socket to drain: one listener for all of them, however many streams share the connection. */
  private drainWaiters: (() => void)[] = [];
  private drained(): Promise<void> {
    return new Promise<void>((resolve) => {
      if (this.drainWaiters.push(resolve) === 1) {
        this.socket.once('drain', () => { const waiting = this.drainWaiters; this.drainWaiters = []; for (const w of waiting) w(); });
      }
    });
  }

  private shutdown(err: Error): void {
    if (this.closed) return;
    this.closed = true;
    for (const [, p] of this.pending) { if (p.handedOut) p.stream?.destroy(err); p.reject(err); }
    this.pending.clear();
    for (const [, ac] of this.running) ac.abort();
    for (const [, c] of this.credits) c.wake?.();
    const waiting = this.drainWaiters;
    this.drainWaiters = [];
    for (const w of waiting) w();
    this.emit('close', err);
  }
}

export function sendHello(socket: Duplex, hello: unknown): void {
  socket.write(encodeJson(FrameType.Hello, hello));
}
