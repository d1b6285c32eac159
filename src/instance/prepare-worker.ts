/** Worker thread body for prepare-pool.ts: prepares messages sent by the instance's main thread. */
import { parentPort } from 'node:worker_threads';
import { prepareMessageFull } from './prepare.js';

parentPort!.on('message', (m: { id: number; crlf: Uint8Array }) => {
  const crlf = Buffer.from(m.crlf.buffer, m.crlf.byteOffset, m.crlf.byteLength);
  prepareMessageFull(crlf).then(
    (p) => {
      // Decoded attachments and the metadata record go back moved, not copied (each has its own ArrayBuffer, or is copied into one).
      for (const r of p.runs) r.decoded = ownBuffer(r.decoded);
      p.imap = ownBuffer(p.imap);
      const moved = [...p.runs.map((r) => r.decoded.buffer as ArrayBuffer), p.imap.buffer as ArrayBuffer];
      parentPort!.postMessage({ id: m.id, ok: true, p }, moved);
    },
    (e: Error) => parentPort!.postMessage({ id: m.id, ok: false, message: e.message }),
  );
});

/** `b` itself when it is the whole of its ArrayBuffer (so moving that moves nothing else), else a copy that is. */
function ownBuffer(b: Buffer): Buffer {
  if (b.byteOffset === 0 && b.buffer.byteLength === b.length) return b;
  const own = Buffer.allocUnsafeSlow(b.length);
  b.copy(own);
  return own;
}
