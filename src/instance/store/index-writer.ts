/**
 * Adds ingested messages to a store's full-text index in a worker thread (index-worker.ts), with
 * a connection of its own, so that the instance's main thread goes on with the next batch.
 * Tokenising and the FTS5 segment writes at each commit were about a third of the main thread's
 * time on ingest of 75 KB mail, and the main thread was what held ingest back.
 *
 * Order: a batch's message rows are committed first, then handed here, so the index only ever
 * names committed messages; a crash in between leaves rows without index entries, which the next
 * start indexes (maintenance.ts indexMissingAfterCrash), as before.
 * Readers: SEARCH awaits `settled()`, so it sees every message whose rows are committed. Writes
 * to the index from the main thread (maintenance, checkpoints, closing) call `drainSync()` first:
 * it waits, blocking, until the worker has finished what it was given (at most a batch or two).
 * Anything the worker could not index (an error, a worker that died or stopped answering, no
 * worker file) is indexed on the main thread instead, so nothing is left out.
 */
import { Worker, MessageChannel, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** rowid, subject, addresses, body, attachment_names, attachment_text, headers: the columns of `fts`. */
export type IndexRow = [number, string, string, string, string, string, string];
export interface IndexJob { seq: number; rows: IndexRow[] }
export interface IndexResult { seq: number; error?: string }

interface Log { error(obj: object, msg: string): void }

const HERE = path.dirname(fileURLToPath(import.meta.url));
const WORKER = existsSync(path.join(HERE, 'index-worker.js')) ? path.join(HERE, 'index-worker.js') : path.join(HERE, '..', '..', '..', 'dist', 'instance', 'store', 'index-worker.js');
/** A worker that finishes nothing for this long is given up, and its batches indexed here. */
const STALLED_MS = 30_000;
/** A worker with nothing to do for this long is stopped (its memory given back); the next batch starts another. */
const IDLE_STOP_MS = 60_000;

export class IndexWriter {
  private worker: Worker | null = null;
  private results: MessagePort | null = null;
  /** Answers the worker has sent, counted by the worker: what `drainSync` waits on. */
  private finished = new Int32Array(new SharedArrayBuffer(4));
  private nextSeq = 1;
  /** Batches given to the worker and not yet answered, kept to index here if it fails. */
  private pending = new Map<number, IndexRow[]>();
  private waiters: (() => void)[] = [];
  /** After a worker failure everything is indexed on the main thread: no respawning in a loop. */
  private workerFailed = !existsSync(WORKER);

  private idleTimer: NodeJS.Timeout | null = null;

  constructor(private indexDir: string, private indexHere: (rows: IndexRow[]) => void, private log: Log | null, private idleStopMs = IDLE_STOP_MS) {}

  /** Queues rows of committed messages for the index. */
  add(rows: IndexRow[]): void {
    if (rows.length === 0) return;
    if (this.idleTimer) { clearTimeout(this.idleTimer); this.idleTimer = null; }
    const w = this.workerFailed ? null : (this.worker ?? this.spawn());
    if (!w) { this.indexHere(rows); return; }
    const seq = this.nextSeq++;
    this.pending.set(seq, rows);
    w.postMessage({ seq, rows } satisfies IndexJob);
  }

  /** Some committed messages could not be indexed: the instance is not to be marked as closed cleanly. */
  incomplete = false;

  /** Whether every batch handed over is in the index. */
  get idle(): boolean { return this.pending.size === 0; }

  /** Whether a worker thread is running (tests). */
  get running(): boolean { return this.worker !== null; }

  /** Resolves once every batch handed over so far is in the index. */
  settled(): Promise<void> {
    if (this.pending.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Blocks until the worker has finished every batch it was given (or is given up on). */
  drainSync(): void {
    for (;;) {
      this.takeResults();
      if (this.pending.size === 0) return;
      const seen = Atomics.load(this.finished, 0);
      if (Atomics.wait(this.finished, 0, seen, STALLED_MS) === 'timed-out') {
        this.takeResults();
        if (this.pending.size) this.giveUp(`the index worker finished nothing for ${STALLED_MS / 1000} s`);
        return;
      }
    }
  }

  /** Finishes the queue, then closes the worker's connection and the worker. */
  close(): void {
    if (this.idleTimer) { clearTimeout(this.idleTimer); this.idleTimer = null; }
    this.drainSync();
    const w = this.worker;
    if (!w) return;
    const seen = Atomics.load(this.finished, 0);
    w.postMessage({ close: true });
    // Its connection closed before the store's own, so the last one to close removes the WAL file.
    Atomics.wait(this.finished, 0, seen, 5_000);
    this.stopWorker();
  }

  private spawn(): Worker | null {
    try {
      const { port1, port2 } = new MessageChannel();
      const w = new Worker(WORKER, { workerData: { indexDir: this.indexDir, done: this.finished.buffer, results: port2 }, transferList: [port2] });
      port1.on('message', (r: IndexResult) => this.handle(r));
      port1.unref();
      w.on('error', (err) => this.log?.error({ err }, 'full-text index worker failed; indexing on the main thread'));
      w.on('exit', () => { if (this.worker === w) this.giveUp('the index worker stopped'); });
      w.unref();
      this.worker = w;
      this.results = port1;
      return w;
    } catch (err) {
      this.log?.error({ err }, 'full-text index worker could not start; indexing on the main thread');
      this.workerFailed = true;
      return null;
    }
  }

  /** Handles the worker's answers that have arrived and not been delivered yet. */
  private takeResults(): void {
    for (let m = this.results && receiveMessageOnPort(this.results); m; m = this.results && receiveMessageOnPort(this.results)) this.handle(m.message as IndexResult);
  }

  private handle(r: IndexResult): void {
    const rows = this.pending.get(r.seq);
    this.pending.delete(r.seq);
    if (r.error && rows) {
      this.log?.error({ error: r.error, messages: rows.length }, 'full-text index worker could not add a batch; adding it on the main thread');
      this.indexHereOrLog(rows);
    }
    if (this.pending.size === 0) {
      for (const w of this.waiters.splice(0)) w();
      this.stopWhenIdle();
    }
  }

  private stopWhenIdle(): void {
    if (this.idleTimer || !this.worker) return;
    this.idleTimer = setTimeout(() => {
      this.idleTimer = null;
      if (this.pending.size === 0) this.close();
    }, this.idleStopMs);
    this.idleTimer.unref();
  }

  /** The worker is gone or stuck: what it had not finished is indexed here, and so is everything after. */
  private giveUp(reason: string): void {
    this.log?.error({ reason, batches: this.pending.size }, 'full-text index worker given up; indexing on the main thread');
    this.workerFailed = true;
    this.stopWorker();
    const rows = [...this.pending.values()];
    this.pending.clear();
    for (const r of rows) this.indexHereOrLog(r);
    for (const w of this.waiters.splice(0)) w();
  }

  /** Called from event handlers: a failure is logged and remembered (`incomplete`), so that the next start indexes what is missing. */
  private indexHereOrLog(rows: IndexRow[]): void {
    try { this.indexHere(rows); } catch (err) {
      this.incomplete = true;
      this.log?.error({ err, messages: rows.length }, 'messages could not be added to the full-text index');
    }
  }

  private stopWorker(): void {
    const w = this.worker;
    this.worker = null;
    this.results?.close();
    this.results = null;
    if (w) void w.terminate();
  }
}
