/**
 * Message bytes for FETCH: opens byte ranges of stored messages through the instance interface,
 * reading ahead so the instance's latency overlaps the writing. Small ranges requested in the same
 * event-loop turn travel in one instance call (`readMessages`); large ones stream with
 * backpressure (`readMessage`).
 */
import type { ByteRange } from '../../common/mime/index.js';
import { RpcError } from '../../common/rpc/peer.js';
import { READ_BATCH_MAX_BYTES, READ_BATCH_MAX_ITEMS } from '../../instance/api.js';
import { BODY_BATCH_RANGE_BYTES } from './server-limits.js';
import type { SessionLogin } from './session.js';

const EMPTY = Buffer.alloc(0);

/** A streamed range, or a small one already read whole. */
interface Opened { stream: AsyncIterable<Buffer> | Buffer }
interface Queued { uid: number; range: ByteRange; resolve(o: Opened): void; reject(e: Error): void }

export class BodyReader {
  private readonly opened = new Map<string, Promise<Opened>>();
  /** Keys of `opened` whose read has finished (so taking them costs no wait). */
  private readonly finished = new Set<string>();
  private queue: Queued[] = [];
  private queuedBytes = 0;
  private flushScheduled = false;

  constructor(
    private readonly login: SessionLogin,
    private readonly folderId: number,
  ) {}

  private key(uid: number, range: ByteRange): string {
    return `${uid}:${range.start}:${range.end}`;
  }

  private read(uid: number, range: ByteRange): Promise<Opened> {
    if (range.end - range.start > BODY_BATCH_RANGE_BYTES) {
      return this.login.client.readMessage({ session: this.login.token, folderId: this.folderId, uid, start: range.start, end: range.end });
    }
    return new Promise<Opened>((resolve, reject) => {
      this.queue.push({ uid, range, resolve, reject });
      this.queuedBytes += range.end - range.start;
      if (this.queue.length >= READ_BATCH_MAX_ITEMS || this.queuedBytes + BODY_BATCH_RANGE_BYTES > READ_BATCH_MAX_BYTES) this.flush();
      else if (!this.flushScheduled) {
        // Everything FETCH asks for in this turn of the event loop goes in one call.
        this.flushScheduled = true;
        queueMicrotask(() => { this.flushScheduled = false; this.flush(); });
      }
    });
  }

  private flush(): void {
    const batch = this.queue;
    if (batch.length === 0) return;
    this.queue = [];
    this.queuedBytes = 0;
    const ranges = batch.map((q) => ({ uid: q.uid, start: q.range.start, end: q.range.end }));
    this.login.client.readMessages({ session: this.login.token, folderId: this.folderId, ranges }).then(
      (entries) => batch.forEach((q, i) => {
        const e = entries[i];
        if (e === undefined || 'missing' in e) q.reject(new RpcError('NOT_FOUND', `no message with UID ${q.uid} in this folder`));
        else q.resolve({ stream: e.data });
      }),
      (error: Error) => { for (const q of batch) q.reject(error); },
    );
  }

  /** Starts reading a range now; `open` later picks it up. */
  prefetch(uid: number, range: ByteRange): void {
    const key = this.key(uid, range);
    if (this.opened.has(key)) return;
    const pending = this.read(uid, range);
    const finish = () => { if (this.opened.get(key) === pending) this.finished.add(key); };
    pending.then(finish, finish); // a failure is reported when taken
    this.opened.set(key, pending);
  }

  /** True when a read-ahead of this range has finished: `open` will not wait. */
  isReady(uid: number, range: ByteRange): boolean {
    return this.finished.has(this.key(uid, range));
  }

  open(uid: number, range: ByteRange): Promise<Opened> {
    const key = this.key(uid, range);
    const pending = this.opened.get(key);
    if (pending === undefined) return this.read(uid, range);
    this.opened.delete(key);
    this.finished.delete(key);
    return pending;
  }

  async buffer(uid: number, range: ByteRange): Promise<Buffer> {
    if (range.end <= range.start) return EMPTY;
    const { stream } = await this.open(uid, range);
    if (Buffer.isBuffer(stream)) return stream;
    const parts: Buffer[] = [];
    for await (const part of stream) parts.push(part);
    return Buffer.concat(parts);
  }

  /** Cancels read-aheads that were never used (the FETCH failed or was cut short). */
  dispose(): void {
    for (const pending of this.opened.values()) {
      pending.then(({ stream }) => (stream as { destroy?: () => void }).destroy?.()).catch(() => {});
    }
    this.opened.clear();
    this.finished.clear();
  }
}
