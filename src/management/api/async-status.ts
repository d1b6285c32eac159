/**
 * Long-running calls (SPE "Long Running Processes"): the invoke answers at once with
 * `statusCode: "running"`, a `token` and a `statusVersion`; the client then posts
 * `/api/get-status` with `token`, `lastKnownStatusVersion` and `millisecondsTimeout`, and the
 * server holds the request until the status version differs from the one the client knows, or the
 * timeout passes (mssapi and the PowerShell library both rely on this: "the server will wait for
 * that time at most for a new status, therefore it is not necessary for our client process to wait
 * itself"). `/api/cancel-async` aborts the job through its AbortSignal; the job decides when to stop.
 *
 * Finished statuses stay readable for a while so a client that lost a response can ask again, then
 * are dropped; both the time and the count are bounded.
 */
import { randomBytes } from 'node:crypto';
import type { ApiError, Envelope, StatusCode } from './envelope.js';

/** What a long-running job sees. */
export interface JobContext {
  readonly signal: AbortSignal;
  /** percent 0-100 (null: unknown), optional status text; each change bumps statusVersion. */
  progress(percent: number | null, text?: string): void;
  /** A line of `logOutput`. */
  log(line: string): void;
}

export interface AsyncStatusOptions {
  /** How long a finished status stays readable (SPE keeps them for minutes; clients poll at once). */
  readonly retainFinishedMs?: number;
  /** Bound on finished statuses kept; the oldest go first. */
  readonly maxFinished?: number;
  /** Bound on jobs running at once, so a looping script cannot exhaust the server. */
  readonly maxRunning?: number;
  /** Upper bound on millisecondsTimeout: keeps proxies and load balancers from cutting the poll. */
  readonly maxWaitMs?: number;
  /** Lines kept in logOutput. */
  readonly maxLogChars?: number;
}

const DEFAULTS = {
  retainFinishedMs: 10 * 60_000,
  maxFinished: 1000,
  maxRunning: 100,
  maxWaitMs: 60_000,
  maxLogChars: 64 * 1024,
} as const;

const CANCELLED_ERROR: ApiError = Object.freeze({ message: 'The call was cancelled.', details: null });

interface Job {
  readonly token: string;
  readonly controller: AbortController;
  readonly waiters: Set<() => void>;
  version: number;
  statusCode: StatusCode;
  percentProgress: number | null;
  statusText: string | null;
  result: unknown;
  error: ApiError | null;
  logOutput: string | null;
  finishedAt: number | null;
}

export class AsyncStatusBoard {
  readonly #jobs = new Map<string, Job>();
  readonly #options: Required<AsyncStatusOptions>;
  readonly #pruneTimer: NodeJS.Timeout;
  #runningCount = 0;

  constructor(options: AsyncStatusOptions = {}) {
    this.#options = { ...DEFAULTS, ...options };
    this.#pruneTimer = setInterval(() => this.#prune(), Math.min(this.#options.retainFinishedMs, 60_000));
    this.#pruneTimer.unref();
  }

  get runningCount(): number {
    return this.#runningCount;
  }

  /**
   * Starts `run` and returns the first status ("running", version 1). `describeFailure` turns a
   * rejection into the `error` shown to the caller (the plugin's single error boundary).
   * Returns null when too many jobs are running.
   */
  start(run: (context: JobContext) => Promise<unknown>, describeFailure: (error: unknown) => ApiError): Envelope | null {
    if (this.#runningCount >= this.#options.maxRunning) return null;
    const job: Job = {
      token: randomBytes(16).toString('hex'),
      controller: new AbortController(),
      waiters: new Set(),
      version: 1,
      statusCode: 'running',
      percentProgress: 0,
      statusText: null,
      result: null,
      error: null,
      logOutput: null,
      finishedAt: null,
    };
    this.#jobs.set(job.token, job);
    this.#runningCount++;
    const context: JobContext = {
      signal: job.controller.signal,
      progress: (percent, text) => {
        if (job.statusCode !== 'running') return;
        const clamped = percent === null ? null : Math.max(0, Math.min(100, Math.round(percent)));
        const nextText = text ?? job.statusText;
        if (clamped === job.percentProgress && nextText === job.statusText) return;
        job.percentProgress = clamped;
        job.statusText = nextText;
        this.#bump(job);
      },
      log: (line) => {
        if (job.statusCode !== 'running') return;
        const joined = job.logOutput === null ? line : `${job.logOutput}\n${line}`;
        job.logOutput = joined.length > this.#options.maxLogChars ? joined.slice(-this.#options.maxLogChars) : joined;
        this.#bump(job);
      },
    };
    // The job starts on the next tick, so the caller always sees "running" first.
    setImmediate(() => {
      if (job.controller.signal.aborted) {
        this.#finish(job, 'cancelled', null, CANCELLED_ERROR);
        return;
      }
      // Once cancel-async was asked, the job ends "cancelled" however it returns: a job that
      // honours its signal by returning early (with a partial result) has not "succeeded".
      run(context).then(
        (result) => {
          if (job.controller.signal.aborted) this.#finish(job, 'cancelled', result, CANCELLED_ERROR);
          else this.#finish(job, 'succeeded', result, null);
        },
        (error: unknown) => {
          if (job.controller.signal.aborted) this.#finish(job, 'cancelled', null, CANCELLED_ERROR);
          else this.#finish(job, 'failed', null, describeFailure(error));
        },
      );
    });
    return snapshot(job);
  }

  /** null for an unknown (or expired) token. */
  current(token: string): Envelope | null {
    const job = this.#jobs.get(token);
    return job ? snapshot(job) : null;
  }

  /**
   * Answers once the status version differs from `lastKnownVersion` (at once if it already does,
   * or if the client gave none), or when the timeout passes, or when `abandon` fires (client gone).
   */
  async waitForChange(token: string, lastKnownVersion: number | undefined, timeoutMs: number, abandon?: AbortSignal): Promise<Envelope | null> {
    const job = this.#jobs.get(token);
    if (!job) return null;
    const waitMs = Math.max(0, Math.min(timeoutMs, this.#options.maxWaitMs));
    if (lastKnownVersion === undefined || job.version !== lastKnownVersion || job.statusCode !== 'running' || waitMs === 0) {
      return snapshot(job);
    }
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        job.waiters.delete(done);
        abandon?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, waitMs);
      job.waiters.add(done);
      abandon?.addEventListener('abort', done, { once: true });
    });
    return snapshot(job);
  }

  /** Asks the job to stop; answers its status as it is now. null for an unknown token. */
  cancel(token: string): Envelope | null {
    const job = this.#jobs.get(token);
    if (!job) return null;
    if (job.statusCode === 'running' && !job.controller.signal.aborted) {
      job.controller.abort(new Error('cancelled through /api/cancel-async'));
      job.statusText = 'Cancelling';
      this.#bump(job);
    }
    return snapshot(job);
  }

  /** Aborts every running job and forgets everything (server shutdown). */
  close(): void {
    clearInterval(this.#pruneTimer);
    for (const job of this.#jobs.values()) {
      if (job.statusCode === 'running') job.controller.abort(new Error('management server is shutting down'));
      for (const wake of [...job.waiters]) wake();
    }
  }

  #finish(job: Job, statusCode: StatusCode, result: unknown, error: ApiError | null): void {
    if (job.statusCode !== 'running') return;
    this.#runningCount--;
    job.statusCode = statusCode;
    job.result = result === undefined ? null : result;
    job.error = error === null ? null : { ...error };
    if (statusCode === 'succeeded') job.percentProgress = 100;
    job.finishedAt = Date.now();
    this.#bump(job);
    this.#prune();
  }

  #bump(job: Job): void {
    job.version++;
    for (const wake of [...job.waiters]) wake();
  }

  #prune(): void {
    const now = Date.now();
    const finished = [...this.#jobs.values()].filter((job) => job.finishedAt !== null);
    let excess = finished.length - this.#options.maxFinished;
    for (const job of finished) {
      const isExpired = now - (job.finishedAt ?? now) >= this.#options.retainFinishedMs;
      if (isExpired || excess > 0) {
        this.#jobs.delete(job.token);
        excess--;
      }
    }
  }
}

function snapshot(job: Job): Envelope {
  return {
    error: job.error,
    token: job.token,
    statusVersion: job.version,
    statusCode: job.statusCode,
    percentProgress: job.percentProgress,
    statusText: job.statusText,
    result: job.result,
    logOutput: job.logOutput,
  };
}
