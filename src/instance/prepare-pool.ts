/**
 * A small pool of worker threads that prepare messages (parse, serialise, compress metadata,
 * PDF text) while the main thread writes the databases. One worker per core; each works on one
 * message at a time (the next waits in its port), and a time limit measures that message alone. A message
 * over the limit (in practice a hostile PDF) costs its worker, which is replaced, and is prepared
 * again on the main thread without PDF text. If workers cannot start, the main thread does it all.
 */
import { Worker } from 'node:worker_threads';
import os from 'node:os';
import v8 from 'node:v8';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { prepareMessage, type PreparedMessage } from './prepare.js';
import type { Logger } from '../common/logger.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const WORKER = existsSync(path.join(HERE, 'prepare-worker.js')) ? path.join(HERE, 'prepare-worker.js') : path.join(HERE, '..', '..', 'dist', 'instance', 'prepare-worker.js');
/**
 * More workers than cores only adds switching. One per core, not one per spare core: the main
 * thread's share (database writes) is smaller than preparing, and it waits while workers prepare.
 */
const MAX_WORKERS = 4;
/** Time one message may take in a worker before the worker is replaced. */
const PREPARE_TIMEOUT_MS = 30_000;

/**
 * Messages handed to one worker at a time: the next ones wait in the worker's port, so the worker
 * goes on without a round trip through the main thread, which spends tens of milliseconds at a
 * time writing a chunk (content, fsync, rows) without turning its event loop. With 2 workers sat
 * idle for most of each write; with 16 (5 to 8 ms of 75 KB mail) still for part of it, and about
 * a fifth of two cores went unused during ingest; 64 keeps them going through a write.
 */
const JOBS_PER_WORKER = 64;

interface Job { id: number; crlf: Buffer; resolve: (p: PreparedMessage) => void }
/** `jobs[0]` is the message the worker is on (its timer runs), the rest wait in order. */
interface Slot { w: Worker; jobs: Job[]; timer: NodeJS.Timeout | null }

/**
 * TurboFan's budget for inlining into one function, a quarter of V8's default (920 bytes of
 * bytecode). The parser's large functions (collectEnvelope, parseUnsafe, extract, htmlToText)
 * were compiled with everything inlined, and again after each deoptimisation: compiling cost each
 * new worker about 2.5 s of CPU on V8's background threads over the first 7,000 messages, as much
 * as parsing them. With the smaller budget compiling costs half that, and warm parsing is as fast
 * (measured on the corpus and generated mail). V8 flags are per process: this applies to the
 * instance's main thread too, whose hot paths are in SQLite and zlib.
 */
const MAX_INLINED_BYTECODE_CUMULATIVE = 230;
let inliningBudgetSet = false;

export class PreparePool {
  private slots: Slot[] = [];
  private queue: Job[] = [];
  private nextId = 1;
  private closing = false;

  constructor(private log: Logger, private size = Math.min(MAX_WORKERS, Math.max(1, os.availableParallelism()))) {
    if (!existsSync(WORKER)) { log.warn({ worker: WORKER }, 'prepare worker not found; preparing messages on the main thread'); this.size = 0; return; }
    if (!inliningBudgetSet) { v8.setFlagsFromString(`--max-inlined-bytecode-size-cumulative=${MAX_INLINED_BYTECODE_CUMULATIVE}`); inliningBudgetSet = true; }
    for (let i = 0; i < size; i++) this.spawn();
  }

  private spawn(): void {
    const slot: Slot = { w: new Worker(WORKER), jobs: [], timer: null };
    slot.w.on('message', (m: { id: number; ok: boolean; p?: PreparedMessage }) => {
      const job = slot.jobs[0];
      if (!job || job.id !== m.id) return;
      slot.jobs.shift();
      this.startTimer(slot);
      if (m.ok) {
        // Structured clone delivers Uint8Arrays; the store wants Buffers (views, no copy).
        const p = m.p!;
        p.imap = Buffer.from(p.imap.buffer, p.imap.byteOffset, p.imap.byteLength);
        for (const r of p.runs) r.decoded = Buffer.from(r.decoded.buffer, r.decoded.byteOffset, r.decoded.byteLength);
        job.resolve(p);
      }
      else job.resolve(prepareMessage(job.crlf));
      this.dispatch();
    });
    slot.w.on('error', (err) => this.log.error({ err }, 'prepare worker failed'));
    slot.w.on('exit', () => {
      this.slots = this.slots.filter((s) => s !== slot);
      if (slot.timer) clearTimeout(slot.timer);
      // The message it was working on is prepared on the main thread rather than lost; the ones
      // waiting behind it go back to the front of the queue.
      const [current, ...waiting] = slot.jobs;
      slot.jobs = [];
      this.queue.unshift(...waiting);
      if (current) current.resolve(prepareMessage(current.crlf));
      if (!this.closing) { this.spawn(); this.dispatch(); }
    });
    slot.w.unref();
    this.slots.push(slot);
  }

  /** Times the message the worker is on now, from when it could start it. */
  private startTimer(slot: Slot): void {
    if (slot.timer) clearTimeout(slot.timer);
    slot.timer = null;
    const job = slot.jobs[0];
    if (!job) return;
    slot.timer = setTimeout(() => {
      this.log.warn({ job: job.id }, 'preparing a message took too long; replacing the worker and indexing it without PDF text');
      void slot.w.terminate();
    }, PREPARE_TIMEOUT_MS);
  }

  private dispatch(): void {
    for (let round = 0; round < JOBS_PER_WORKER; round++) {
      for (const slot of this.slots) {
        if (slot.jobs.length > round || this.queue.length === 0) continue;
        const job = this.queue.shift()!;
        slot.jobs.push(job);
        if (slot.jobs.length === 1) this.startTimer(slot);
        // A message is often a view into a whole RPC frame (tens of MB): posting the view would clone
        // that entire buffer. Copy just the message into its own buffer and hand that over.
        const own = Buffer.allocUnsafeSlow(job.crlf.length); // an ArrayBuffer of its own, not zero-filled first
        job.crlf.copy(own);
        slot.w.postMessage({ id: job.id, crlf: own }, [own.buffer]);
      }
    }
  }

  prepare(crlf: Buffer): Promise<PreparedMessage> {
    if (this.size === 0) return Promise.resolve(prepareMessage(crlf));
    return new Promise<PreparedMessage>((resolve) => {
      this.queue.push({ id: this.nextId++, crlf, resolve });
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.slots.map((s) => s.w.terminate()));
    this.slots = [];
  }
}
