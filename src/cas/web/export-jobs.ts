/**
 * Large exports with progress: the export form creates a job here, the browser gets a progress
 * page that fetches the file once (`/export/<id>/download`, streamed as before) and polls
 * `/export/<id>/status` for how far the stream has come. Jobs live in this CAS process, bound to
 * the login that made them; a finished or abandoned job is forgotten after a while.
 */
import { randomBytes } from 'node:crypto';

export type ExportFormat = 'zip' | 'mbox';
export type ExportState = 'waiting' | 'running' | 'done' | 'failed';

export interface ExportItem { folderId: number; uid: number; date: number | null; subject: string }

export interface ExportJob {
  readonly id: string;
  /** Who may see and fetch it: the instance and the instance session of the login that made it. */
  readonly instanceId: string;
  readonly session: string;
  readonly userName: string;
  readonly format: ExportFormat;
  readonly scope: string;
  readonly fileName: string;
  /** The messages, produced lazily page by page; read once, by the download. */
  readonly items: AsyncIterable<ExportItem>;
  /** Messages expected (from the folder count or the search total; may grow while exporting). */
  total: number;
  done: number;
  state: ExportState;
  createdAtMs: number;
  finishedAtMs: number | null;
}

/** A waiting job nobody fetched is dropped after this long (the progress page fetches at once). */
const WAITING_TTL_MS = 10 * 60_000;
/** A finished job's status stays this long, so a progress page left open still shows the end. */
const FINISHED_TTL_MS = 30 * 60_000;
/** Open (waiting or running) exports per login: each holds an instance reader busy. */
export const MAX_OPEN_EXPORTS_PER_LOGIN = 2;
/** All jobs kept at most (finished ones go first). */
const MAX_JOBS = 1000;
const SWEEP_EVERY_MS = 60_000;

export class ExportJobs {
  private readonly jobs = new Map<string, ExportJob>();
  private readonly timer: NodeJS.Timeout;

  constructor() {
    this.timer = setInterval(() => this.sweep(), SWEEP_EVERY_MS);
    this.timer.unref();
  }

  close(): void { clearInterval(this.timer); this.jobs.clear(); }

  openCount(instanceId: string, session: string): number {
    let n = 0;
    for (const j of this.jobs.values()) if (j.instanceId === instanceId && j.session === session && (j.state === 'waiting' || j.state === 'running')) n++;
    return n;
  }

  create(p: Omit<ExportJob, 'id' | 'done' | 'state' | 'createdAtMs' | 'finishedAtMs'>): ExportJob {
    this.sweep();
    const job: ExportJob = { ...p, id: randomBytes(18).toString('base64url'), done: 0, state: 'waiting', createdAtMs: Date.now(), finishedAtMs: null };
    this.jobs.set(job.id, job);
    return job;
  }

  /** The job, only for the login that made it (anyone else is told it does not exist). */
  get(id: string, instanceId: string, session: string): ExportJob | undefined {
    const j = this.jobs.get(id);
    return j && j.instanceId === instanceId && j.session === session ? j : undefined;
  }

  finish(job: ExportJob, state: 'done' | 'failed'): void {
    job.state = state;
    job.finishedAtMs = Date.now();
    if (state === 'done') job.total = job.done;
  }

  /** Whole percent of messages written; 100 only once the file is complete. */
  static percent(job: ExportJob): number {
    if (job.state === 'done') return 100;
    if (job.total <= 0) return 0;
    return Math.min(99, Math.floor((job.done * 100) / job.total));
  }

  private sweep(now = Date.now()): void {
    for (const [id, j] of this.jobs) {
      if ((j.state === 'waiting' && now - j.createdAtMs > WAITING_TTL_MS) || (j.finishedAtMs !== null && now - j.finishedAtMs > FINISHED_TTL_MS)) this.jobs.delete(id);
    }
    if (this.jobs.size <= MAX_JOBS) return;
    for (const [id, j] of [...this.jobs].sort((a, b) => Number(a[1].finishedAtMs === null) - Number(b[1].finishedAtMs === null) || a[1].createdAtMs - b[1].createdAtMs)) {
      if (this.jobs.size <= MAX_JOBS) break;
      if (j.state !== 'running') this.jobs.delete(id);
    }
  }
}
