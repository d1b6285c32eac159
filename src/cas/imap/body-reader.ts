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

/** A read started ahead of its use; `done` once it has arrived (taking it then costs no wait). */
interface Ahead { start: number; end: number; pending: Promise<Opened>; done: boolean }

export class BodyReader {
  /** Reads started ahead, by UID (a message usually has one range; numbers key faster than strings). */
  private readonly opened = new Map<number, Ahead[]>();
  private queue: Queued[] = [];
  private queuedBytes = 0;
  private flushScheduled = false;

  constructor(
    private readonly login: SessionLogin,
    private readonly folderId: number,
  ) {}

  private find(uid: number, range: ByteRange): Ahead | undefined {
    const list = this.opened.get(uid);
    if (list === undefined) return undefined;
    for (const a of list) if (a.start === range.start && a.end === range.end) return a;
    return undefined;
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
    if (this.find(uid, range) !== undefined) return;
    const ahead: Ahead = { start: range.start, end: range.end, pending: this.read(uid, range), done: false };
    const finish = () => { ahead.done = true; };
    ahead.pending.then(finish, finish); // a failure is reported when taken
    const list = this.opened.get(uid);
    if (list === undefined) this.opened.set(uid, [ahead]);
    else list.push(ahead);
  }

  /** True when a read-ahead of this range has finished: `open` will not wait. */
  isReady(uid: number, range: ByteRange): boolean {
    return this.find(uid, range)?.done === true;
  }

  open(uid: number, range: ByteRange): Promise<Opened> {
    const ahead = this.find(uid, range);
    if (ahead === undefined) return this.read(uid, range);
    const list = this.opened.get(uid)!;
    if (list.length === 1) this.opened.delete(uid);
    else list.splice(list.indexOf(ahead), 1);
    return ahead.pending;
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
    for (const list of this.opened.values()) {
      for (const { pending } of list) pending.then(({ stream }) => (stream as { destroy?: () => void }).destroy?.()).catch(() => {});
    }
    this.opened.clear();
  }
}
