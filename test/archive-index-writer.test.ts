/**
 * The full-text index of ingested mail is written by a worker thread with its own connection
 * (store/index-writer.ts). These tests use a real index file and the real worker: what it is given
 * is in the file once `settled()` resolves or `drainSync()` returns; a worker that cannot work
 * leaves its batches to the main thread, so nothing is left out; and SEARCH right after ingest
 * finds the messages just archived.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { IndexWriter, type IndexRow } from '../src/instance/store/index-writer.js';
import { openIndexDb } from '../src/instance/store/store-db.js';
import { startEngine, type Engine } from './helpers/engine.js';

const row = (id: number, word: string): IndexRow => [id, `subject ${id}`, 'a@example.com', `body ${word}`, '', '', 'Subject: x'];
const matches = (dir: string, word: string): number[] => {
  const db = openIndexDb(dir);
  try { return db.prepare('SELECT rowid FROM fts WHERE fts MATCH ? ORDER BY rowid').pluck().all(word) as number[]; } finally { db.close(); }
};

describe('full-text index writer', () => {
  const dirs: string[] = [];
  const tmp = () => { const d = mkdtempSync(path.join(os.tmpdir(), 'coffer-index-')); dirs.push(d); return d; };
  let engine: Engine | null = null;
  afterAll(async () => { await engine?.close(); for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

  it('writes batches in a worker: in the index file when settled() resolves and when drainSync() returns', async () => {
    const dir = tmp();
    openIndexDb(dir).close();
    const here: IndexRow[][] = [];
    const w = new IndexWriter(dir, (rows) => here.push(rows), null);
    w.add([row(1, 'alpha'), row(2, 'beta')]);
    w.add([row(3, 'alpha')]);
    expect(w.idle).toBe(false);
    await w.settled();
    expect(w.idle).toBe(true);
    expect(matches(dir, 'alpha')).toEqual([1, 3]);
    w.add(Array.from({ length: 500 }, (_, i) => row(10 + i, 'gamma')));
    w.drainSync();
    expect(matches(dir, 'gamma')).toHaveLength(500);
    w.close();
    expect(here).toEqual([]); // the worker did it all
  });

  it('stops an idle worker and starts another for the next batch', async () => {
    const dir = tmp();
    openIndexDb(dir).close();
    const here: IndexRow[][] = [];
    const w = new IndexWriter(dir, (rows) => here.push(rows), null, 50);
    w.add([row(1, 'alpha')]);
    await w.settled();
    expect(w.running).toBe(true);
    await new Promise((r) => setTimeout(r, 300));
    expect(w.running).toBe(false);
    w.add([row(2, 'alpha')]);
    expect(w.running).toBe(true);
    await w.settled();
    expect(matches(dir, 'alpha')).toEqual([1, 2]);
    w.close();
    expect(here).toEqual([]);
  });

  it('indexes on the main thread what a failed worker could not: nothing is left out', async () => {
    const notADir = path.join(tmp(), 'file');
    writeFileSync(notADir, 'a file where the index directory should be'); // the worker cannot open its database
    const here: IndexRow[][] = [];
    const errors: string[] = [];
    const w = new IndexWriter(notADir, (rows) => here.push(rows), { error: (_o, msg) => errors.push(msg) });
    w.add([row(1, 'alpha')]);
    w.add([row(2, 'beta')]);
    await w.settled();
    expect(here.flat().map((r) => r[0])).toEqual([1, 2]);
    expect(errors.some((m) => /index worker/.test(m))).toBe(true);
    w.add([row(3, 'gamma')]); // after a failure everything goes to the main thread at once
    expect(here.flat().map((r) => r[0])).toEqual([1, 2, 3]);
    w.close();
  });

  it('SEARCH right after an ingest finds every message it archived', async () => {
    engine = await startEngine();
    const acme = await engine.startInstance('acme');
    await acme.management('CreateUser', { userName: 'jane', privileges: 'login', password: 'pw-jane-1' });
    const auth = await acme.authenticate({ user: 'jane', password: 'pw-jane-1', channel: 'imap' });
    if (!auth.ok) throw new Error(auth.message);
    for (let round = 0; round < 3; round++) {
      const items = Array.from({ length: 200 }, (_, i) => ({
        name: `m${round}-${i}`, folder: 'Inbox',
        raw: Buffer.from(`From: a@example.com\r\nSubject: r${round} n${i}\r\nDate: Mon, 01 Jan 2024 10:00:00 +0000\r\n\r\nzephyrword${round} ${'filler '.repeat(200)}\r\n`),
      }));
      expect((await acme.ingest('jane', items)).imported).toBe(200);
      const inbox = (await acme.listFolders({ session: auth.session })).find((f) => f.path === 'jane/Inbox')!;
      expect(await acme.search({ session: auth.session, folderId: inbox.id, criteria: { key: 'body', value: `zephyrword${round}` } })).toHaveLength(200);
      const web = await acme.searchArchive({ session: auth.session, query: { text: `zephyrword${round}`, limit: 10 } });
      expect(web.total).toBe(200);
    }
    const report = await acme.management<{ problems: string[] }[]>('VerifyStores', { includeIndexes: true });
    expect(report.flatMap((r) => r.problems)).toEqual([]);
    acme.close();
  });
});
