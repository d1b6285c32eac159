/** Worker thread body for prepare-pool.ts: prepares messages sent by the instance's main thread. */
import { parentPort } from 'node:worker_threads';
import { prepareMessageFull } from './prepare.js';
import { BACKGROUND_NICE, lowerThisThreadPriority } from '../common/thread-priority.js';

// Background work: the main thread writes what this thread produces (thread-priority.ts).
lowerThisThreadPriority(BACKGROUND_NICE);

// One message at a time, in arrival order (PDF text awaits; the next message waits for it), so
// that results come back in order and the pool's time limit measures one message.
let done: Promise<void> = Promise.resolve();
parentPort!.on('message', (m: { id: number; crlf: Uint8Array }) => {
  done = done.then(() => prepareOne(m)).catch((e: Error) => parentPort!.postMessage({ id: m.id, ok: false, message: e.message }));
});

function prepareOne(m: { id: number; crlf: Uint8Array }): Promise<void> {
  const crlf = Buffer.from(m.crlf.buffer, m.crlf.byteOffset, m.crlf.byteLength);
  return prepareMessageFull(crlf).then(
    (p) => {
      // Decoded attachments and the metadata record go back moved, not copied (each has its own ArrayBuffer, or is copied into one).
      for (const r of p.runs) r.decoded = ownBuffer(r.decoded);
      p.imap = ownBuffer(p.imap);
      const moved = [...p.runs.map((r) => r.decoded.buffer as ArrayBuffer), p.imap.buffer as ArrayBuffer];
      parentPort!.postMessage({ id: m.id, ok: true, p }, moved);
    },
    (e: Error) => parentPort!.postMessage({ id: m.id, ok: false, message: e.message }),
  );
}

/** `b` itself when it is the whole of its ArrayBuffer (so moving that moves nothing else), else a copy that is. */
function ownBuffer(b: Buffer): Buffer {
  if (b.byteOffset === 0 && b.buffer.byteLength === b.length) return b;
  const own = Buffer.allocUnsafeSlow(b.length);
  b.copy(own);
  return own;
}
