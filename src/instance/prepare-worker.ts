/** Worker thread body for prepare-pool.ts: prepares messages sent by the instance's main thread. */
import { parentPort } from 'node:worker_threads';
import { prepareMessage } from './prepare.js';

parentPort!.on('message', (m: { id: number; crlf: Uint8Array }) => {
  try {
    const crlf = Buffer.from(m.crlf.buffer, m.crlf.byteOffset, m.crlf.byteLength);
    const p = prepareMessage(crlf);
    parentPort!.postMessage({ id: m.id, ok: true, p });
  } catch (e) {
    parentPort!.postMessage({ id: m.id, ok: false, message: (e as Error).message });
  }
});
