import { afterEach, describe, expect, it } from 'vitest';
import { AsyncStatusBoard } from '../src/management/api/async-status.js';

const describeFailure = (error: unknown) => ({ message: (error as Error).message, details: null });
const tick = (ms = 5) => new Promise((resolve) => setTimeout(resolve, ms));

describe('status board of long-running calls', () => {
  const boards: AsyncStatusBoard[] = [];
  const board = (options = {}) => {
    const created = new AsyncStatusBoard(options);
    boards.push(created);
    return created;
  };
  afterEach(() => boards.splice(0).forEach((b) => b.close()));

  it('answers running first, then the result, with growing status versions', async () => {
    const statuses = board();
    const first = statuses.start(async () => 42, describeFailure)!;
    expect(first).toMatchObject({ statusCode: 'running', statusVersion: 1, percentProgress: 0, result: null });
    const done = await statuses.waitForChange(first.token!, 1, 1_000);
    expect(done).toMatchObject({ statusCode: 'succeeded', result: 42, percentProgress: 100 });
    expect(done!.statusVersion).toBeGreaterThan(1);
  });

  it('reports a rejected job as failed with the described error', async () => {
    const statuses = board();
    const first = statuses.start(async () => {
      throw new Error('disk on fire');
    }, describeFailure)!;
    const done = await statuses.waitForChange(first.token!, 1, 1_000);
    expect(done).toMatchObject({ statusCode: 'failed', error: { message: 'disk on fire' } });
  });

  it('clamps progress to 0-100 and bumps the version only on a change', async () => {
    const statuses = board();
    let report: ((p: number | null, t?: string) => void) | undefined;
    const first = statuses.start(
      (job) =>
        new Promise((resolve) => {
          report = job.progress;
          job.signal.addEventListener('abort', () => resolve(null));
        }),
      describeFailure,
    )!;
    await tick();
    report!(150, 'too far');
    const after = statuses.current(first.token!)!;
    expect(after).toMatchObject({ percentProgress: 100, statusText: 'too far', statusVersion: 2 });
    report!(150, 'too far');
    expect(statuses.current(first.token!)!.statusVersion).toBe(2);
    report!(-3);
    expect(statuses.current(first.token!)).toMatchObject({ percentProgress: 0, statusText: 'too far', statusVersion: 3 });
    statuses.cancel(first.token!);
  });

  it('ends a cancelled job as cancelled even when it returns normally', async () => {
    const statuses = board();
    const first = statuses.start((job) => new Promise((resolve) => job.signal.addEventListener('abort', () => resolve('partial'))), describeFailure)!;
    await tick();
    statuses.cancel(first.token!);
    await tick();
    expect(statuses.current(first.token!)).toMatchObject({ statusCode: 'cancelled', result: 'partial', error: { message: 'The call was cancelled.' } });
  });

  it('never starts a job cancelled before it began', async () => {
    const statuses = board();
    let hasRun = false;
    const first = statuses.start(async () => {
      hasRun = true;
    }, describeFailure)!;
    statuses.cancel(first.token!);
    await tick();
    expect(hasRun).toBe(false);
    expect(statuses.current(first.token!)).toMatchObject({ statusCode: 'cancelled' });
  });

  it('keeps only the tail of a long log output', async () => {
    const statuses = board({ maxLogChars: 20 });
    const first = statuses.start(async (job) => {
      for (let i = 0; i < 10; i++) job.log(`line number ${i}`);
      return null;
    }, describeFailure)!;
    await tick(20);
    const done = statuses.current(first.token!)!;
    expect(done.logOutput!.length).toBeLessThanOrEqual(20);
    expect(done.logOutput!.endsWith('line number 9')).toBe(true);
  });

  it('refuses a new job when too many are running', () => {
    const statuses = board({ maxRunning: 2 });
    const forever = (job: { signal: AbortSignal }) => new Promise((_, reject) => job.signal.addEventListener('abort', () => reject(new Error('x'))));
    expect(statuses.start(forever, describeFailure)).not.toBeNull();
    expect(statuses.start(forever, describeFailure)).not.toBeNull();
    expect(statuses.start(forever, describeFailure)).toBeNull();
    expect(statuses.runningCount).toBe(2);
  });

  it('drops finished statuses after the retention time, and beyond the count bound', async () => {
    const statuses = board({ retainFinishedMs: 50, maxFinished: 2 });
    const tokens = [1, 2, 3].map((n) => statuses.start(async () => n, describeFailure)!.token!);
    await tick(20);
    expect(statuses.current(tokens[0]!)).toBeNull(); // oldest beyond maxFinished
    expect(statuses.current(tokens[2]!)).toMatchObject({ result: 3 });
    await tick(120);
    statuses.start(async () => 4, describeFailure);
    await tick(20);
    expect(statuses.current(tokens[2]!)).toBeNull();
  });

  it('wakes a waiting poll when the client goes away', async () => {
    const statuses = board();
    const first = statuses.start((job) => new Promise((resolve) => job.signal.addEventListener('abort', () => resolve(null))), describeFailure)!;
    const gone = new AbortController();
    const started = Date.now();
    const waiting = statuses.waitForChange(first.token!, first.statusVersion, 10_000, gone.signal);
    gone.abort();
    expect(await waiting).toMatchObject({ statusCode: 'running' });
    expect(Date.now() - started).toBeLessThan(1_000);
    statuses.cancel(first.token!);
  });

  it('caps the wait at maxWaitMs', async () => {
    const statuses = board({ maxWaitMs: 50 });
    const first = statuses.start((job) => new Promise((resolve) => job.signal.addEventListener('abort', () => resolve(null))), describeFailure)!;
    const started = Date.now();
    await statuses.waitForChange(first.token!, first.statusVersion, 60_000);
    expect(Date.now() - started).toBeLessThan(1_000);
    statuses.cancel(first.token!);
  });
});
