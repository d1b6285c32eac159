/**
 * Scheduling priority of the calling thread (Linux: each thread has its own nice value). Worker
 * threads that do background work (preparing and indexing ingested mail) run below the
 * instance's main thread, which writes what the prepare workers produce, hands the index worker
 * its rows, and serves IMAP and Web Access.
 * On two cores the main thread was runnable 95 % of the time during ingest but got two thirds of
 * a core, and for an eighth of the time it ran alone while the workers, having prepared all it had
 * not yet written, waited for it (a core idle). With the workers at nice 10 the cores stay busy:
 * ingest of generated mail +10 % (harness, alternating runs: 1,058–1,083 → 1,117–1,208/s).
 */
import { readlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** How much nicer background worker threads are than the process: the main thread gets about nine tenths of a core it shares with one. */
export const BACKGROUND_NICE = 10;

/**
 * Makes the calling thread `by` nicer than it is (at most 19): never raises a priority, so it needs
 * no privilege and keeps an operator's own `nice` for the process. A no-op where threads cannot
 * be named (not Linux).
 */
export function lowerThisThreadPriority(by: number): void {
  try {
    const tid = Number(path.basename(readlinkSync('/proc/thread-self')));
    if (!Number.isInteger(tid) || tid <= 0) return;
    const now = os.getPriority(tid);
    os.setPriority(tid, Math.min(19, now + by));
  } catch { /* not Linux, or not allowed: the priority stays */ }
}
