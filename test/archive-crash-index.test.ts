/**
 * A batch's message rows are committed before its full-text index entries; a crash between the
 * two leaves the last batch unindexed. The next start indexes those messages before the instance
 * reports ready. The crash is reproduced exactly: the index entries of the last messages are
 * removed from a stopped instance's files and the clean-close mark is cleared, as a kill -9 leaves them.
 */
import { describe, it, expect, afterAll } from 'vitest';
import path from 'node:path';
import Database from 'better-sqlite3';
import { startEngine, type Engine } from './helpers/engine.js';

describe('full-text index after a crash between a batch and its index entries', () => {
  let engine: Engine;
  afterAll(async () => { await engine?.close(); });

  it('indexes the messages left out at the next start: VerifyStores is clean and SEARCH finds them', async () => {
    engine = await startEngine();
    let acme = await engine.startInstance('acme');
    await acme.management('CreateUser', { userName: 'jane', privileges: 'login', password: 'pw-jane-1' });
    const raw = (i: number) => Buffer.from(`From: a@example.com\r\nSubject: note ${i}\r\nDate: Mon, 01 Jan 2024 10:00:00 +0000\r\n\r\nword${i} quasarflux${i % 2 ? 'odd' : 'even'}\r\n`);
    expect((await acme.ingest('jane', Array.from({ length: 30 }, (_, i) => ({ name: `m${i}`, folder: 'Inbox', raw: raw(i) })))).imported).toBe(30);
    acme.close();
    await engine.supervisor.stop('acme');

    const base = path.join(engine.dataDir, 'instances', 'acme');
    const index = new Database(path.join(base, 'stores', 'store-0001', 'index.db'));
    const removed = index.prepare('DELETE FROM fts WHERE rowid > (SELECT max(rowid) - 12 FROM fts)').run().changes;
    index.close();
    expect(removed).toBe(12);
    const db = new Database(path.join(base, 'instance.db'));
    db.prepare(`UPDATE settings SET value = 'false' WHERE key = 'closedCleanly'`).run();
    db.close();

    await engine.supervisor.start('acme');
    acme = await engine.connect('acme');
    const report = await acme.management<{ problems: string[] }[]>('VerifyStores', { includeIndexes: true });
    expect(report.flatMap((r) => r.problems)).toEqual([]);
    const auth = await acme.authenticate({ user: 'jane', password: 'pw-jane-1', channel: 'imap' });
    if (!auth.ok) throw new Error(auth.message);
    const inbox = (await acme.listFolders({ session: auth.session })).find((f) => f.path === 'jane/Inbox')!;
    expect(await acme.search({ session: auth.session, folderId: inbox.id, criteria: { key: 'body', value: 'word29' } })).toHaveLength(1);
    expect(await acme.search({ session: auth.session, folderId: inbox.id, criteria: { key: 'body', value: 'fluxodd' } })).toHaveLength(15);
    const web = await acme.searchArchive({ session: auth.session, query: { text: 'word28' } });
    expect(web.total).toBe(1);
  }, 60_000);
});
