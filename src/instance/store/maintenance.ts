/**
 * Store maintenance behind VerifyStore, RecoverStore, CompactStore and index rebuilds. Each takes a
 * progress callback and an AbortSignal so the Management API can report and cancel it.
 */
import { createHash } from 'node:crypto';
import { existsSync, renameSync, rmSync } from 'node:fs';
import { prepareMessage, prepareMessageFull, storedRuns, type PreparedMessage } from '../prepare.js';
import { ContentArea, type BlobLocation, type RecoveryRecord } from './content-pack.js';
import { ArchiveStore, MESSAGE_COLUMNS, rowToMessage } from './store.js';
import { INSERT_FTS_SQL } from './store-db.js';
import type { Archive } from '../archive.js';
import { InstanceError } from '../errors.js';
import { forgetVocabulary } from '../search/vocabulary.js';

export type Progress = (percent: number, text?: string) => void;

export interface VerifyReport { storeId: number; messages: number; blobs: number; problems: string[] }

function checkAbort(signal?: AbortSignal): void {
  if (signal?.aborted) throw new InstanceError('CANCELLED', 'cancelled by request');
}

/** Checks every content block (readable, decompresses) and every message's SHA-256 and size. */
function verifyContent(store: ArchiveStore, progress: Progress, signal?: AbortSignal): VerifyReport {
  const problems: string[] = [];
  const blobs = new Map((store.db.prepare('SELECT lower(hex(sha256)) AS sha256, raw_size FROM blobs').all() as { sha256: string; raw_size: number }[]).map((b) => [b.sha256, b.raw_size]));
  const seen = new Set<string>();
  let i = 0;
  for (const rec of store.content.scan()) {
    if (rec.magic === 'corrupt') { problems.push(`content pack ${rec.pack} is damaged at offset ${rec.offset}: ${rec.reason}`); continue; }
    if (rec.magic !== 'blob' || !blobs.has(rec.sha256) || seen.has(rec.sha256)) continue;
    if (++i % 500 === 0) { checkAbort(signal); progress(Math.round((i / Math.max(1, blobs.size)) * 80), `checked ${i} of ${blobs.size} messages' content`); }
    const sha = createHash('sha256').update(rec.data).digest('hex');
    if (sha !== rec.sha256) { problems.push(`content ${rec.sha256}: hash mismatch (found ${sha})`); continue; }
    if (rec.data.length !== blobs.get(rec.sha256)) problems.push(`content ${rec.sha256}: size ${rec.data.length}, expected ${blobs.get(rec.sha256)}`);
    seen.add(rec.sha256);
  }
  // Every blob row must also be readable where its row says it is (the scan may have found another copy).
  for (const b of store.db.prepare('SELECT lower(hex(sha256)) FROM blobs').pluck().all() as string[]) {
    try { const raw = store.readRaw(b); if (createHash('sha256').update(raw).digest('hex') !== b) problems.push(`content ${b}: hash mismatch at its recorded location`); }
    catch (e) { problems.push(`content ${b}: ${(e as Error).message}`); }
  }
  return { storeId: store.id, messages: 0, blobs: blobs.size, problems };
}

/** Full verification with folder paths from the instance (recovery records name folders by path). */
export function verifyArchiveStore(archive: Archive, store: ArchiveStore, includeIndexes: boolean, progress: Progress = () => {}, signal?: AbortSignal): VerifyReport {
  const report = verifyContent(store, progress, signal);
  const recovery = effectiveRecoveryKeys(store);
  const known = new Set(store.db.prepare('SELECT lower(hex(sha256)) FROM blobs').pluck().all() as string[]);
  store.drainIndex(); // rows and index entries as of one moment
  const rows = store.db.prepare('SELECT id, folder_id, uid, lower(hex(sha256)) AS sha256 FROM messages').all() as { id: number; folder_id: number; uid: number; sha256: string }[];
  report.messages = rows.length;
  for (const r of rows) {
    const f = archive.folders.get(r.folder_id);
    if (!f) { report.problems.push(`message ${r.id}: folder ${r.folder_id} does not exist`); continue; }
    if (!known.has(r.sha256)) report.problems.push(`message ${f.path} UID ${r.uid}: content ${r.sha256} missing`);
    if (!recovery.has(`${f.path}\u0000${r.uid}`)) report.problems.push(`message ${f.path} UID ${r.uid}: no recovery record`);
    if (r.uid >= f.uid_next) report.problems.push(`message ${f.path} UID ${r.uid}: UID not below the folder's UIDNEXT ${f.uid_next}`);
  }
  if (includeIndexes) {
    checkAbort(signal);
    const indexed = new Set(store.index.prepare('SELECT rowid FROM fts').pluck().all() as number[]);
    let missing = 0;
    for (const r of rows) if (!indexed.has(r.id)) missing++;
    if (missing) report.problems.push(`full-text index: ${missing} messages are not indexed (rebuild the index)`);
    const ids = new Set(rows.map((r) => r.id));
    let stale = 0;
    for (const id of indexed) if (!ids.has(id)) stale++;
    if (stale) report.problems.push(`full-text index: ${stale} entries point at no message (rebuild the index)`);
  }
  progress(100, `${report.messages} messages checked, ${report.problems.length} problems`);
  return report;
}

/** `folder\0uid` of every message recovery record, with later folder renames applied (as RecoverStore does). */
function effectiveRecoveryKeys(store: ArchiveStore): Set<string> {
  const keys = new Set<string>();
  for (const rec of store.content.scan(0, 0, false)) {
    if (rec.magic !== 'recovery') continue;
    const h = rec.header;
    if (h.kind === 'message') keys.add(`${h.folder}\u0000${h.uid}`);
    else if (h.kind === 'rename' && h.to) {
      for (const k of [...keys]) {
        const folder = k.slice(0, k.indexOf('\u0000'));
        if (folder === h.folder || folder.startsWith(`${h.folder}/`)) { keys.delete(k); keys.add(h.to + k.slice(h.folder.length)); }
      }
    }
  }
  return keys;
}

/** Rebuilds the metadata database and index of a store from its content area alone. */
export function recoverStore(archive: Archive, storeId: number, progress: Progress = () => {}, signal?: AbortSignal): { messages: number; problems: string[] } {
  const row = archive.storeRows().find((r) => r.id === storeId);
  if (!row) throw new InstanceError('NOT_FOUND', `archive store ${storeId} does not exist`);
  const paths = { databasePath: row.database_path, contentPath: row.content_path, indexPath: row.index_path };
  archive.detachOpenStore(storeId);
  ArchiveStore.removeMetadata(paths);
  const store = new ArchiveStore(storeId, paths);
  const problems: string[] = [];
  try {
    const blobs = new Map<string, { pack: number; offset: number; length: number; start: number; rawSize: number }>();
    const messages = new Map<string, RecoveryRecord>();
    for (const rec of store.content.scan()) {
      if (rec.magic === 'corrupt') { problems.push(`content pack ${rec.pack} damaged at offset ${rec.offset}: ${rec.reason}`); continue; }
      if (rec.magic === 'blob') { if (!blobs.has(rec.sha256)) blobs.set(rec.sha256, rec.loc); continue; }
      const h = rec.header;
      if (h.kind === 'rename' && h.to) {
        const from = h.folder, to = h.to;
        for (const [k, m] of [...messages]) {
          if (m.folder !== from && !m.folder.startsWith(`${from}/`)) continue;
          messages.delete(k);
          const moved = { ...m, folder: to + m.folder.slice(from.length) };
          messages.set(`${moved.folder}\u0000${moved.sha256}`, moved);
        }
        continue;
      }
      const key = `${h.folder}\u0000${h.sha256}`;
      // One message per (folder, content): a rerun after a crash may have written the same one twice.
      if (h.kind === 'delete') messages.delete(key);
      else if (!messages.has(key)) messages.set(key, h);
    }
    const list = [...messages.values()];
    let done = 0;
    const batch: Parameters<ArchiveStore['commitBatch']>[1] = [];
    const flush = () => { if (batch.length) { store.commitBatch([], batch.splice(0)); } };
    store.db.transaction(() => { for (const [sha, b] of blobs) store.db.prepare('INSERT OR IGNORE INTO blobs (sha256, pack, offset, length, start, raw_size) VALUES (unhex(?), ?, ?, ?, ?, ?)').run(sha, b.pack, b.offset, b.length, b.start, b.rawSize); })();
    for (const h of list) {
      if (++done % 200 === 0) { checkAbort(signal); progress(Math.round((done / list.length) * 95), `recovered ${done} of ${list.length} messages`); }
      const b = blobs.get(h.sha256);
      if (!b) { problems.push(`message ${h.folder} UID ${h.uid}: content ${h.sha256} missing`); continue; }
      const raw = store.readRaw(h.sha256);
      const folder = archive.folders.ensure(h.folder);
      if (h.uid >= folder.uid_next) archive.folders.reserveUids(folder.id, h.uid - folder.uid_next + 1);
      const modseq = archive.folders.reserveUids(folder.id, 0).firstModseq;
      batch.push(archive.rowFor(prepareMessage(raw), h.sha256, folder.id, { uid: h.uid, modseq: Math.max(1, modseq - 1), uidValidity: folder.uid_validity, folderPath: folder.path }, h.flags ?? ['\\Seen'], h.internalDate ?? Date.now()));
      if (batch.length >= 200) flush();
    }
    flush();
    progress(100, `recovered ${list.length} messages`);
    return { messages: list.length, problems };
  } finally {
    store.close();
    archive.reopenStore(storeId);
    archive.recountFolders();
  }
}

/** Rewrites the content area without blobs no message uses and without recovery records of removed messages. */
export function compactStore(archive: Archive, storeId: number, progress: Progress = () => {}, signal?: AbortSignal): { bytesBefore: number; bytesAfter: number } {
  const store = archive.store(storeId);
  const before = store.content.totalBytes();
  const used = new Set(store.db.prepare('SELECT DISTINCT lower(hex(sha256)) FROM messages').pluck().all() as string[]);
  const dir = store.content.dir;
  const tmpDir = `${dir}.compacting`;
  if (existsSync(tmpDir)) rmSync(tmpDir, { recursive: true });
  const out = new ContentArea(tmpDir);
  const moved = new Map<string, { location: () => BlobLocation }>();
  let n = 0;
  for (const rec of store.content.scan()) {
    if (++n % 1000 === 0) { checkAbort(signal); progress(Math.min(90, Math.round(n / 100)), `copied ${n} records`); }
    if (rec.magic === 'blob' && used.has(rec.sha256) && !moved.has(rec.sha256)) moved.set(rec.sha256, out.addBlob(rec.sha256, Buffer.from(rec.data), storedRuns(rec.data)));
  }
  // Recovery records are written afresh from the rows: current folder names, no records of removed messages.
  for (const r of store.db.prepare(`SELECT ${MESSAGE_COLUMNS} FROM messages`).all() as Parameters<typeof rowToMessage>[0][]) {
    const m = rowToMessage(r);
    const f = archive.folders.get(m.folderId);
    if (f) out.addRecovery({ kind: 'message', sha256: m.sha256, folder: f.path, uid: m.uid, flags: m.flags, internalDate: m.internalDate, archivedAt: Date.now(), uidValidity: f.uid_validity });
  }
  out.flush();
  // The new area shared repeated attachments among its own blocks; the table now describes it.
  const runs = out.takeNewRuns();
  out.close();
  store.db.transaction(() => {
    const upd = store.db.prepare('UPDATE blobs SET pack = ?, offset = ?, length = ?, start = ? WHERE sha256 = unhex(?)');
    for (const [sha, m] of moved) { const l = m.location(); upd.run(l.pack, l.offset, l.length, l.start, sha); }
    store.db.prepare('DELETE FROM shared_runs').run();
    store.recordSharedRuns(runs);
    store.db.prepare('DELETE FROM blobs WHERE sha256 NOT IN (SELECT sha256 FROM messages)').run();
    store.db.prepare(`DELETE FROM meta WHERE key = 'content_end'`).run();
  })();
  store.content.close();
  const old = `${dir}.old`;
  if (existsSync(old)) rmSync(old, { recursive: true });
  renameSync(dir, old);
  renameSync(tmpDir, dir);
  rmSync(old, { recursive: true });
  const after = store.content.totalBytes();
  progress(100, `content area ${before} → ${after} bytes`);
  return { bytesBefore: before, bytesAfter: after };
}

/** (Re)indexes the given message rows from their content, PDF text included. */
export async function indexRows(store: ArchiveStore, ids: number[]): Promise<void> {
  const ins = store.index.prepare(INSERT_FTS_SQL);
  const del = store.index.prepare('DELETE FROM fts WHERE rowid = ?');
  const shaOf = store.db.prepare('SELECT lower(hex(sha256)) FROM messages WHERE id = ?').pluck();
  const prepared: [number, PreparedMessage][] = [];
  for (const id of ids) {
    const sha = shaOf.get(id) as string | undefined;
    if (sha) prepared.push([id, await prepareMessageFull(store.readRaw(sha))]);
  }
  store.drainIndex(); // the worker may be writing (ingest), also while PDFs were read above
  store.index.transaction(() => {
    for (const [id, p] of prepared) { del.run(id); ins.run(id, p.fts.subject, p.fts.addresses, p.fts.body, p.fts.attachmentNames, p.fts.attachmentText, p.fts.headers); }
  })();
  forgetVocabulary(store.index); // rewritten documents may hold new terms
}

/**
 * After a crash: a batch's message rows are committed before its index entries, so the last
 * batch may be missing from the full-text index; those messages are indexed now (before the
 * instance reports ready), and search finds them as it would have.
 */
export async function indexMissingAfterCrash(archive: Archive): Promise<number> {
  if (!archive.uncleanStart) return 0;
  let n = 0;
  for (const store of archive.openStoresList()) {
    store.drainIndex();
    const ids = store.db.prepare('SELECT id FROM messages WHERE id NOT IN (SELECT rowid FROM idx.fts) ORDER BY id').pluck().all() as number[];
    for (let i = 0; i < ids.length; i += 200) await indexRows(store, ids.slice(i, i + 200));
    n += ids.length;
  }
  archive.uncleanStart = false;
  return n;
}

/** Drops and rebuilds the full-text index of a store from its messages. */
export async function rebuildIndex(archive: Archive, storeId: number, progress: Progress = () => {}, signal?: AbortSignal): Promise<{ messages: number }> {
  const store = archive.store(storeId);
  store.drainIndex();
  const ids = store.db.prepare('SELECT id FROM messages ORDER BY id').pluck().all() as number[];
  store.index.exec(`DELETE FROM fts`);
  forgetVocabulary(store.index);
  let n = 0;
  for (let i = 0; i < ids.length; i += 500) {
    checkAbort(signal);
    // The same text as at archive time, PDF attachments included.
    await indexRows(store, ids.slice(i, i + 500));
    n = Math.min(ids.length, i + 500);
    progress(Math.round((n / Math.max(1, ids.length)) * 100), `indexed ${n} of ${ids.length} messages`);
  }
  return { messages: n };
}

