/**
 * Worker thread body for index-writer.ts: adds ingest batches to one store's full-text index
 * through a connection of its own. Batches come in order and are written in order, each in one
 * transaction; after each one the result goes back on the result port and the shared counter of
 * finished batches moves on (what `IndexWriter.drainSync` waits for).
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { INSERT_FTS_SQL, openIndexDb } from './store-db.js';
import type { IndexJob, IndexResult } from './index-writer.js';
import { BACKGROUND_NICE, lowerThisThreadPriority } from '../../common/thread-priority.js';

// Background work, below the main thread: the ingest pipeline's critical path (thread-priority.ts).
lowerThisThreadPriority(BACKGROUND_NICE);

const { indexDir, done, results } = workerData as { indexDir: string; done: SharedArrayBuffer; results: MessagePort };
const finished = new Int32Array(done);
const db = openIndexDb(indexDir);
/**
 * FTS5 writes its pending terms out as a new segment whenever they pass `hashsize` (1 MB by
 * default), several times in one batch of 75 KB mail; with 8 MB a batch is one segment, and
 * ingest spends about 15 % less time in the index (fewer, larger segments to merge). Kept in the
 * index's own config table.
 */
const HASH_BYTES = 8 * 1024 * 1024;
if (db.prepare(`SELECT v FROM fts_config WHERE k = 'hashsize'`).pluck().get() !== HASH_BYTES) db.exec(`INSERT INTO fts (fts, rank) VALUES ('hashsize', ${HASH_BYTES})`);
const insert = db.prepare(INSERT_FTS_SQL);
const addAll = db.transaction((rows: IndexJob['rows']) => { for (const r of rows) insert.run(r); });

parentPort!.on('message', (m: IndexJob | { close: true }) => {
  if ('close' in m) {
    db.close();
    report({ seq: -1 });
    return;
  }
  let result: IndexResult;
  try {
    addAll(m.rows);
    result = { seq: m.seq };
  } catch (e) {
    result = { seq: m.seq, error: (e as Error).message };
  }
  report(result);
});

function report(r: IndexResult): void {
  results.postMessage(r);
  Atomics.add(finished, 0, 1);
  Atomics.notify(finished, 0);
}
