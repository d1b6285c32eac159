/**
 * Entry point of an instance child process, started by the Instance Host with an IPC channel.
 * Environment: COFFER_INSTANCE_ID, COFFER_INSTANCE_BASE, COFFER_INSTANCE_TOKEN, COFFER_SAFE_MODE.
 */
import { createLogger } from '../common/logger.js';
import { InstanceProcess } from './process.js';
import { takeInstanceLock } from './lock.js';
import { indexMissingAfterCrash } from './store/maintenance.js';

type HostMessage = { type: 'stop' } | { type: 'freeze' } | { type: 'thaw' } | { type: 'safeMode'; on: boolean };

async function main(): Promise<void> {
  const instanceId = process.env.COFFER_INSTANCE_ID ?? '';
  const baseDir = process.env.COFFER_INSTANCE_BASE ?? '';
  const token = process.env.COFFER_INSTANCE_TOKEN ?? '';
  delete process.env.COFFER_INSTANCE_TOKEN;
  const log = createLogger(process.env.COFFER_LOG_LEVEL ?? 'info', { role: 'instance', instance: instanceId });
  if (!instanceId || !baseDir || !token || !process.send) {
    log.fatal('instance process must be started by the Instance Host');
    process.exit(2);
  }
  // One process per base directory: an orphan of a killed Instance Host must be gone before a new one opens the archive.
  const release = await takeInstanceLock(baseDir, log);
  const inst = new InstanceProcess({ instanceId, baseDir, token, safeMode: process.env.COFFER_SAFE_MODE === '1', log });
  const indexed = await indexMissingAfterCrash(inst.archive);
  if (indexed > 0) log.warn({ messages: indexed }, 'indexed messages that a crash had left out of the full-text index');
  const port = await inst.listen();
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    try { await inst.close(); } catch (err) { log.error({ err }, 'error while closing instance'); }
    release();
    process.exit(code);
  };
  process.on('message', (m: HostMessage) => {
    try {
      if (m.type === 'stop') void stop(0);
      else if (m.type === 'freeze') { inst.freeze(); process.send!({ type: 'frozen' }); }
      else if (m.type === 'thaw') { inst.thaw(); process.send!({ type: 'thawed' }); }
      else if (m.type === 'safeMode') inst.safeMode = m.on;
    } catch (err) { log.error({ err }, 'lifecycle message failed'); process.send!({ type: 'error', message: (err as Error).message }); }
  });
  // The Instance Host going away (even by kill -9) closes the IPC channel: stop cleanly, never run orphaned.
  process.on('disconnect', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));
  process.on('SIGINT', () => void stop(0));
  process.send!({ type: 'ready', port });
  log.info({ port }, 'instance ready');
}

main().catch((err) => {
  // Reported to the Instance Host through stderr and the exit code; it records startStopError.
  process.stderr.write(`instance failed to start: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
