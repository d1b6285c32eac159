/**
 * `<base>/instance.lock` holds the pid of the process that has the archive open. A second process
 * for the same base directory waits briefly for the first to finish closing (an orphan of a killed
 * Instance Host closes as soon as it notices), then refuses with a clear error.
 */
import { openSync, writeSync, closeSync, readFileSync, unlinkSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../common/logger.js';

/** How long a new instance process waits for an old one of the same archive to exit. */
const WAIT_FOR_PREVIOUS_MS = 15_000;

function isAlive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch (e) { return (e as NodeJS.ErrnoException).code === 'EPERM'; }
}

export async function takeInstanceLock(baseDir: string, log: Logger): Promise<() => void> {
  mkdirSync(baseDir, { recursive: true });
  const file = path.join(baseDir, 'instance.lock');
  const until = Date.now() + WAIT_FOR_PREVIOUS_MS;
  for (;;) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => { try { if (readFileSync(file, 'utf8') === String(process.pid)) unlinkSync(file); } catch { /* already gone */ } };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    let holder = NaN;
    try { holder = Number(readFileSync(file, 'utf8')); } catch { continue; }
    if (!Number.isInteger(holder) || !isAlive(holder)) {
      log.warn({ stalePid: holder }, 'removing the lock of an instance process that is gone');
      try { unlinkSync(file); } catch { /* raced with another cleaner */ }
      continue;
    }
    if (Date.now() > until) throw new Error(`the archive in ${baseDir} is open in another process (pid ${holder}); stop it first`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
