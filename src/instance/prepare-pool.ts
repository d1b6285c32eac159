/**
 * A small pool of worker threads that prepare messages (parse, serialise, compress metadata)
 * while the main thread writes the databases. One worker per spare core, at least one; if
 * workers cannot start, messages are prepared on the main thread.
 */
import { Worker } from 'node:worker_threads';
import os from 'node:os';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { prepareMessage, type PreparedMessage } from './prepare.js';
import type { Logger } from '../common/logger.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const WORKER = existsSync(path.join(HERE, 'prepare-worker.js')) ? path.join(HERE, 'prepare-worker.js') : path.join(HERE, '..', '..', 'dist', 'instance', 'prepare-worker.js');
/** More workers than cores only adds switching; the main thread needs its own core share. */
const MAX_WORKERS = 4;
/** A message (in practice a hostile PDF) that takes longer is prepared again without its PDF text. */
const PREPARE_TIMEOUT_MS = 30_000;

interface Job { resolve: (p: PreparedMessage) => void; reject: (e: Error) => void }

export class PreparePool {
  private workers: { w: Worker; busy: number }[] = [];
  private jobs = new Map<number, Job>();
  private nextId = 1;
  private closing = false;

  constructor(private log: Logger, size = Math.min(MAX_WORKERS, Math.max(1, os.availableParallelism() - 1))) {
    if (!existsSync(WORKER)) { log.warn({ worker: WORKER }, 'prepare worker not found; preparing messages on the main thread'); return; }
    for (let i = 0; i < size; i++) this.spawn();
  }

  private spawn(): void {
    const w = new Worker(WORKER);
    const entry = { w, busy: 0 };
    w.on('message', (m: { id: number; ok: boolean; p?: PreparedMessage; message?: string }) => {
      entry.busy--;
      const job = this.jobs.get(m.id);
      if (!job) return;
      this.jobs.delete(m.id);
      if (m.ok) { const p = m.p!; p.imap = Buffer.from(p.imap); job.resolve(p); } else job.reject(new Error(m.message));
    });
    w.on('error', (err) => this.log.error({ err }, 'prepare worker failed'));
    w.on('exit', () => {
      this.workers = this.workers.filter((x) => x !== entry);
      if (!this.closing) this.spawn();
      // Jobs of a dead worker are redone on the main thread rather than lost.
      for (const [id, job] of this.jobs) { if ((job as Job & { worker?: Worker }).worker === w) { this.jobs.delete(id); job.reject(new Error('prepare worker exited')); } }
    });
    w.unref();
    this.workers.push(entry);
  }

  prepare(crlf: Buffer): Promise<PreparedMessage> {
    const target = this.workers.sort((a, b) => a.busy - b.busy)[0];
    if (!target) return Promise.resolve(prepareMessage(crlf));
    const id = this.nextId++;
    target.busy++;
    return new Promise<PreparedMessage>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.log.warn({ job: id }, 'preparing a message took too long; restarting the worker and skipping PDF text');
        void target.w.terminate();
      }, PREPARE_TIMEOUT_MS);
      this.jobs.set(id, { resolve: (p) => { clearTimeout(timer); resolve(p); }, reject: (e) => { clearTimeout(timer); reject(e); }, worker: target.w } as Job);
      target.w.postMessage({ id, crlf });
    }).catch(() => prepareMessage(crlf));
  }

  async close(): Promise<void> { this.closing = true; await Promise.all(this.workers.map((x) => x.w.terminate())); this.workers = []; }
}
