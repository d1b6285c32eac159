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

/**
 * One `readMessages` call: its ranges, then their bytes (or why not) once it has answered. The
 * messages of a batch share its one promise: a download of 10,000 small messages allocates a
 * few dozen promises, not tens of thousands that outlive the young generation.
 */
class Batch {
  readonly ranges: { uid: number; start: number; end: number }[] = [];
  bytes = 0;
  settled = false;
  results: (Buffer | Error)[] = [];
  private settle!: () => void;
  /** Resolves once `results` holds the answer (a batch can be waited on before it is sent). */
  readonly done = new Promise<void>((resolve) => { this.settle = resolve; });

  answer(results: (Buffer | Error)[]): void {
    this.results = results;
    this.settled = true;
    this.settle();
  }
}

/** A read started ahead of its use: an entry of a batch, or a stream of its own. */
interface Ahead { start: number; end: number; batch: Batch | null; index: number; stream: Promise<Opened> | null }

export class BodyReader {
  /** Reads started ahead, by UID (a message usually has one range; numbers key faster than strings). */
  private readonly opened = new Map<number, Ahead[]>();
  private filling: Batch | null = null;

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

  /** Starts a read: large ranges stream on their own, small ones join the batch being filled. */
  private read(uid: number, range: ByteRange): Ahead {
    if (range.end - range.start > BODY_BATCH_RANGE_BYTES) {
      const stream = this.login.client.readMessage({ session: this.login.token, folderId: this.folderId, uid, start: range.start, end: range.end });
      stream.catch(() => {}); // reported when taken
      return { start: range.start, end: range.end, batch: null, index: 0, stream };
    }
    let batch = this.filling;
    if (batch === null) {
      batch = this.filling = new Batch();
      // Everything FETCH asks for in this turn of the event loop goes in one call.
      queueMicrotask(() => this.send(batch!));
    }
    batch.ranges.push({ uid, start: range.start, end: range.end });
    batch.bytes += range.end - range.start;
    const ahead: Ahead = { start: range.start, end: range.end, batch, index: batch.ranges.length - 1, stream: null };
    if (batch.ranges.length >= READ_BATCH_MAX_ITEMS || batch.bytes + BODY_BATCH_RANGE_BYTES > READ_BATCH_MAX_BYTES) this.send(batch);
    return ahead;
  }

  private send(batch: Batch): void {
    if (this.filling !== batch) return; // already sent (it filled up)
    this.filling = null;
    this.login.client.readMessages({ session: this.login.token, folderId: this.folderId, ranges: batch.ranges }).then(
      (entries) => batch.answer(batch.ranges.map((r, i) => {
        const e = entries[i];
        return e === undefined || 'missing' in e ? new RpcError('NOT_FOUND', `no message with UID ${r.uid} in this folder`) : e.data;
      })),
      (error: Error) => batch.answer(batch.ranges.map(() => error)),
    );
  }

  private static result(ahead: Ahead): Buffer {
    const r = ahead.batch!.results[ahead.index];
    if (r === undefined) throw new Error('read of a message body lost its answer');
    if (r instanceof Error) throw r;
    return r;
  }

  /** Starts reading a range now; `open` later picks it up. */
  prefetch(uid: number, range: ByteRange): void {
    if (this.find(uid, range) !== undefined) return;
    const ahead = this.read(uid, range);
    const list = this.opened.get(uid);
    if (list === undefined) this.opened.set(uid, [ahead]);
    else list.push(ahead);
  }

  /** True when a read-ahead of this range has finished: `open` will not wait. */
  isReady(uid: number, range: ByteRange): boolean {
    const ahead = this.find(uid, range);
    return ahead !== undefined && (ahead.batch === null || ahead.batch.settled);
  }

  /** Takes a read-ahead out of the table (or starts the read now). */
  private take(uid: number, range: ByteRange): Ahead {
    const ahead = this.find(uid, range);
    if (ahead === undefined) return this.read(uid, range);
    const list = this.opened.get(uid)!;
    if (list.length === 1) this.opened.delete(uid);
    else list.splice(list.indexOf(ahead), 1);
    return ahead;
  }

  /**
   * A small range's bytes when they have arrived (throws what the read failed with), else
   * undefined. The read-ahead stays until `release`: two items of one message may ask for the
   * same range (TEXT and 1 of a single-part message).
   */
  readyBytes(uid: number, range: ByteRange): Buffer | undefined {
    if (range.end <= range.start) return EMPTY;
    const ahead = this.find(uid, range);
    if (ahead === undefined || ahead.batch === null || !ahead.batch.settled) return undefined;
    return BodyReader.result(ahead);
  }

  /** Forgets the read-aheads of a message that has been written. */
  release(uid: number): void {
    this.opened.delete(uid);
  }

  open(uid: number, range: ByteRange): Promise<Opened> {
    const ahead = this.take(uid, range);
    if (ahead.stream !== null) return ahead.stream;
    return ahead.batch!.done.then(() => ({ stream: BodyReader.result(ahead) }));
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
      for (const { stream } of list) stream?.then(({ stream: s }) => (s as { destroy?: () => void }).destroy?.()).catch(() => {});
    }
    this.opened.clear();
  }
}
