/** Worker thread body for prepare-pool.ts: prepares messages sent by the instance's main thread. */
import { parentPort } from 'node:worker_threads';
import { prepareMessageFull } from './prepare.js';

parentPort!.on('message', (m: { id: number; crlf: Uint8Array }) => {
  const crlf = Buffer.from(m.crlf.buffer, m.crlf.byteOffset, m.crlf.byteLength);
  prepareMessageFull(crlf).then(
    (p) => parentPort!.postMessage({ id: m.id, ok: true, p }),
    (e: Error) => parentPort!.postMessage({ id: m.id, ok: false, message: e.message }),
  );
});
