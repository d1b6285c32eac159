/**
 * Attachments stored once per store (shared-runs.ts): a repeated attachment body is written as a
 * reference to the bytes already in the content area, in the same block or another one, in the
 * same batch, a later one or after a restart. Every message must still read back as imported,
 * through VerifyStore, CompactStore (which rewrites content, also when the message that first
 * brought the attachment is gone) and RecoverStore, and a wrong fingerprint row must not make a
 * reference to the wrong bytes.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { readdirSync, statSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { startEngine, type Engine } from './helpers/engine.js';
import type { InstanceClient } from '../src/instance/client.js';
import { seededRandom } from '../src/common/random.js';
import { ContentArea, compressBlockSync, sealBlocks, type BlobLocation } from '../src/instance/store/content-pack.js';
import { openStoreDb } from '../src/instance/store/store-db.js';
import { storedRuns } from '../src/instance/prepare.js';
import type { SharedRun } from '../src/instance/store/shared-runs.js';
import { createHash } from 'node:crypto';

/** Incompressible bytes (as a JPEG or a zip file is), deterministic. */
function noise(seed: number, size: number): Buffer {
  const r = seededRandom(seed);
  const b = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) b[i] = Math.floor(r() * 256);
  return b;
}

function base64Lines(b: Buffer): string {
  return b.toString('base64').replace(/.{76}/g, '$&\r\n').replace(/\r\n$/, '');
}

/** A message with its own headers and text carrying the given attachments. */
function mail(n: number, attachments: Buffer[]): Buffer {
  const parts = attachments.map((a, k) => `--b${n}\r\nContent-Type: image/jpeg; name="p${k}.jpg"\r\nContent-Transfer-Encoding: base64\r\n\r\n${base64Lines(a)}\r\n`).join('');
  return Buffer.from(`From: a${n}@example.com\r\nTo: b@example.com\r\nSubject: photo ${n}\r\nDate: Mon, 01 Jan 2024 10:${String(n % 60).padStart(2, '0')}:00 +0000\r\nMessage-ID: <${n}@example.com>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b${n}"\r\n\r\n--b${n}\r\nContent-Type: text/plain\r\n\r\nSee the attached photo, number ${n}.\r\n${parts}--b${n}--\r\n`);
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('content area: repeated attachment bodies are stored once', () => {
  const dirs: string[] = [];
  afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

  it('refers to the earlier bytes in the same block, in an earlier block and in an earlier write, and reads every message back', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'coffer-runs-'));
    dirs.push(dir);
    const photo = noise(1, 60_000), other = noise(2, 40_000);
    // 1, 2 (photo again: a reference inside the block) and 3 fill the first block; 4 (photo twice,
    // other) is the second; 5 comes in a later write.
    const first = [mail(1, [photo]), mail(2, [photo, other]), mail(3, [Buffer.alloc(600_000, 7)]), mail(4, [photo, photo, other])];
    const later = [mail(5, [other, photo])];
    // The store's table of committed runs, as ArchiveStore keeps it in store.db.
    const committed = new Map<string, SharedRun>();
    const area = new ContentArea(dir, (f) => committed.get(f.toString('hex')));
    const blobs = (list: Buffer[]) => list.map((raw) => ({ sha256: sha(raw), raw, runs: storedRuns(raw) }));
    const where1 = area.writeBlocks(sealBlocks(blobs(first)).map(compressBlockSync), []);
    const runs1 = area.takeNewRuns();
    for (const r of runs1) committed.set(r.fingerprint.toString('hex'), r.run);
    const where2 = area.writeBlocks(sealBlocks(blobs(later)).map(compressBlockSync), []);
    // photo and other are each written once; the page of 7s is compressible (in the brotli stream, never shared).
    expect(runs1.map((r) => r.run.len).sort()).toEqual([40_000, 60_000]);
    expect(area.takeNewRuns()).toEqual([]);
    const stored = area.totalBytes();
    // Two copies of the attachments (decoded) plus text and headers; without sharing it would be eight.
    expect(stored).toBeLessThan(100_000 + 40_000 + 20_000);
    area.close();
    const reopened = new ContentArea(dir, (f) => committed.get(f.toString('hex')));
    for (const raw of [...first, ...later]) {
      const loc = where1.get(sha(raw)) ?? where2.get(sha(raw))!;
      expect(sha(reopened.readBlob(loc))).toBe(sha(raw));
    }
    const scanned = [...reopened.scan()].filter((r) => r.magic === 'blob').map((r) => (r.magic === 'blob' ? sha(r.data) : ''));
    expect(scanned.sort()).toEqual([...first, ...later].map(sha).sort());
    reopened.close();
  });
});

describe('content area: many repeats in random batches', () => {
  it('reads every message back after writes of random batches sharing ten attachments (seeded)', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'coffer-runs-random-'));
    try {
      const r = seededRandom(99);
      // Ten attachments: some below the size worth sharing, some large.
      const pool = Array.from({ length: 10 }, (_, k) => noise(100 + k, k < 2 ? 1500 : 3000 + Math.floor(r() * 120_000)));
      const committed = new Map<string, SharedRun>();
      const area = new ContentArea(dir, (f) => committed.get(f.toString('hex')));
      const where = new Map<string, BlobLocation>();
      let n = 0, rawBytes = 0;
      for (let batch = 0; batch < 12; batch++) {
        const list = Array.from({ length: 1 + Math.floor(r() * 25) }, () => mail(n++, Array.from({ length: Math.floor(r() * 4) }, () => pool[Math.floor(r() * pool.length)]!)));
        const blobs = list.map((raw) => ({ sha256: sha(raw), raw, runs: storedRuns(raw) }));
        const locs = area.writeBlocks(sealBlocks(blobs).map(compressBlockSync), []);
        for (const raw of list) { where.set(sha(raw), locs.get(sha(raw))!); rawBytes += raw.length; }
        // Most batches commit their runs; some "fail" before (their runs are never recorded).
        const fresh = area.takeNewRuns();
        if (r() < 0.8) for (const f of fresh) committed.set(f.fingerprint.toString('hex'), f.run);
      }
      area.close();
      const reopened = new ContentArea(dir, (f) => committed.get(f.toString('hex')));
      for (const [h, loc] of where) expect(sha(reopened.readBlob(loc))).toBe(h);
      const scanned = [...reopened.scan()].flatMap((rec) => (rec.magic === 'blob' ? [sha(rec.data)] : []));
      expect(new Set(scanned)).toEqual(new Set(where.keys()));
      // Stored at a fraction of the raw size: the large attachments are kept a few times at most.
      expect(reopened.totalBytes()).toBeLessThan(rawBytes / 3);
      reopened.close();
    } finally { rmSync(dir, { recursive: true, force: true }); }
  });
});

describe('store schema 2', () => {
  it('a store of schema 1 gains the fingerprint table; a store newer than this Coffer is refused by name', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'coffer-schema-'));
    try {
      const db = openStoreDb(dir);
      db.exec(`DROP TABLE shared_runs; UPDATE meta SET value = '1' WHERE key = 'schema'`);
      db.close();
      const again = openStoreDb(dir);
      expect(again.prepare(`SELECT value FROM meta WHERE key = 'schema'`).pluck().get()).toBe('2');
      expect(again.prepare('SELECT count(*) FROM shared_runs').pluck().get()).toBe(0);
      again.prepare(`UPDATE meta SET value = '3' WHERE key = 'schema'`).run();
      again.close();
      expect(() => openStoreDb(dir)).toThrow(/has schema 3, newer than this Coffer understands \(2\)/);
    } finally { rmSync(dir, { recursive: true, force: true }); }
  });
});

describe('archive store: shared attachments through ingest, restart and maintenance', () => {
  let engine: Engine;
  afterAll(async () => { await engine?.close(); });
  const photo = noise(11, 120_000), doc = noise(12, 80_000);
  const messages = Array.from({ length: 12 }, (_, n) => mail(n, n % 3 === 2 ? [doc, photo] : [n % 2 ? photo : doc]));
  interface StoreInfo { id: number; contentPath: string; databasePath: string }
  const contentBytes = (s: StoreInfo) => { const d = path.join(s.contentPath, 'content'); return readdirSync(d).reduce((n, f) => n + statSync(path.join(d, f)).size, 0); };

  const readAll = async (acme: InstanceClient) => {
    const auth = await acme.authenticate({ user: 'jane', password: 'pw', channel: 'imap' });
    if (!auth.ok) throw new Error(auth.message);
    const f = (await acme.listFolders({ session: auth.session })).find((x) => x.path === 'jane/Photos')!;
    const { uids } = await acme.folderUids({ session: auth.session, folderId: f.id });
    return Promise.all(uids.map(async (uid) => sha(await acme.readMessageBuffer({ session: auth.session, folderId: f.id, uid }))));
  };

  it('stores each attachment once across batches and restarts, and VerifyStore, CompactStore and RecoverStore keep every message', async () => {
    engine = await startEngine();
    let acme = await engine.startInstance('acme');
    await acme.management('CreateUser', { userName: 'jane', privileges: 'login', password: 'pw' });
    expect((await acme.ingest('jane', messages.slice(0, 6).map((raw, i) => ({ name: `m${i}`, folder: 'Photos', raw })))).imported).toBe(6);
    acme.close();
    await engine.supervisor.stop('acme');
    await engine.supervisor.start('acme');
    acme = await engine.connect('acme');
    // After the restart the fingerprint table finds the attachments of the first batch.
    expect((await acme.ingest('jane', messages.slice(6).map((raw, i) => ({ name: `m${i + 6}`, folder: 'Photos', raw })))).imported).toBe(6);
    const store = (await acme.management<StoreInfo[]>('GetStores', {}))[0]!;
    const rawBytes = messages.reduce((n, m) => n + m.length, 0);
    // 16 attachment bodies of 80–120 KB, each stored once: two of them, plus a little text.
    expect(contentBytes(store)).toBeLessThan(photo.length + doc.length + 30_000);
    expect(rawBytes).toBeGreaterThan(2_000_000);
    expect(await readAll(acme)).toEqual(messages.map(sha));
    expect((await acme.management<{ problems: string[] }>('VerifyStore', { id: store.id, includeIndexes: true })).problems).toEqual([]);

    // The messages that first brought each attachment go (their rows and blobs): compaction drops
    // their blocks, so the others' references must be resolved, and sharing starts afresh.
    acme.close();
    await engine.supervisor.stop('acme');
    const db = new Database(path.join(store.databasePath, 'store.db'));
    const gone = [messages[0]!, messages[1]!].map(sha);
    for (const s of gone) {
      db.prepare('DELETE FROM messages WHERE sha256 = unhex(?)').run(s);
      db.prepare('DELETE FROM blobs WHERE sha256 = unhex(?)').run(s);
    }
    db.close();
    await engine.supervisor.start('acme');
    acme = await engine.connect('acme');
    const compacted = await acme.management<{ bytesBefore: number; bytesAfter: number }>('CompactStore', { id: store.id });
    expect(compacted.bytesAfter).toBeLessThan(photo.length + doc.length + 30_000);
    const kept = messages.map(sha).filter((s) => !gone.includes(s));
    expect(await readAll(acme)).toEqual(kept);
    expect((await acme.management<{ problems: string[] }>('VerifyStore', { id: store.id, includeIndexes: false })).problems).toEqual([]);

    // The table after compaction describes the new content: a new repeat is shared.
    const extra = mail(100, [photo, doc]);
    await acme.ingest('jane', [{ name: 'extra', folder: 'Photos', raw: extra }]);
    expect(contentBytes(store)).toBeLessThan(compacted.bytesAfter + 10_000);
    expect(await readAll(acme)).toEqual([...kept, sha(extra)]);

    // RecoverStore rebuilds the metadata from content alone; the references still resolve.
    await acme.management('SetStoreRequestedState', { id: store.id, requestedState: 'disabled' });
    const recovered = await acme.management<{ messages: number; problems: string[] }>('RecoverStore', { id: store.id });
    expect(recovered.problems).toEqual([]);
    expect(recovered.messages).toBe(kept.length + 1);
    await acme.management('SetStoreRequestedState', { id: store.id, requestedState: 'current' });
    expect((await readAll(acme)).sort()).toEqual([...kept, sha(extra)].sort());
  }, 60_000);

  it('a fingerprint row pointing at other bytes is not used: the repeat is stored in full and reads back', async () => {
    let acme = await engine.connect('acme');
    const store = (await acme.management<StoreInfo[]>('GetStores', {}))[0]!;
    // RecoverStore started the table empty: this photo is stored, and its row written.
    const fresh = noise(13, 90_000);
    await acme.ingest('jane', [{ name: 'fresh', folder: 'Photos', raw: mail(150, [fresh]) }]);
    acme.close();
    await engine.supervisor.stop('acme');
    const db = new Database(path.join(store.databasePath, 'store.db'));
    // Every row now points 1,000 bytes further on: same length, other bytes.
    expect(db.prepare('UPDATE shared_runs SET pos = pos + 1000').run().changes).toBeGreaterThan(0);
    db.close();
    await engine.supervisor.start('acme');
    acme = await engine.connect('acme');
    const before = contentBytes(store);
    const again = mail(200, [fresh]);
    await acme.ingest('jane', [{ name: 'again', folder: 'Photos', raw: again }]);
    expect(contentBytes(store)).toBeGreaterThan(before + fresh.length);
    expect((await readAll(acme)).includes(sha(again))).toBe(true);
    // The copy stored in full replaced the wrong row: the next repeat refers to it.
    const afterAgain = contentBytes(store);
    const third = mail(201, [fresh]);
    await acme.ingest('jane', [{ name: 'third', folder: 'Photos', raw: third }]);
    expect(contentBytes(store)).toBeLessThan(afterAgain + 10_000);
    expect((await readAll(acme)).includes(sha(third))).toBe(true);
    expect((await acme.management<{ problems: string[] }>('VerifyStore', { id: store.id, includeIndexes: false })).problems).toEqual([]);
  }, 60_000);
});
