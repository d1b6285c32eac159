/**
 * The archive of one instance: its stores (one `current` for new mail), ingest, and reads that
 * span stores. Single-threaded by design: one instance process serialises all writes.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { Logger } from '../common/logger.js';
import { normalizeLineEndings } from '../common/mime/index.js';
import { PreparePool } from './prepare-pool.js';
import type { PreparedMessage, ImapMeta } from './prepare.js';
import { FolderTree, Settings, normalizeFolderPath, type Db, type FolderRow } from './instance-db.js';
import { ArchiveStore, MESSAGE_COLUMNS, rowToMessage, type NewMessageRow, type StoreState, type StoredMessage, STORE_STATES } from './store/store.js';
import { decompressText } from './store/codec.js';
import { statement, uidRuns } from './store/statements.js';
import { MetaCache } from './meta-cache.js';
import { InstanceError } from './errors.js';
import type { IngestItem, IngestResult, ChangeEvent } from './api.js';
import { BLOCK_TARGET_BYTES, compressBlock, compressBlockSync, sealBlocks, type CompressedBlock, type NewBlob, type RecoveryRecord } from './store/content-pack.js';

/** Quiet time after the last ingest batch before WAL files are checkpointed and truncated. */
const IDLE_CHECKPOINT_MS = 1000;

export interface StoreRow { id: number; name: string; database_path: string; content_path: string; index_path: string; requested_state: StoreState; created_at: number }

export type { ImapMeta } from './prepare.js';

/** Where a new message goes: its folder's identity and the UID and MODSEQ reserved for it. */
export interface MessageIdentity { uid: number; modseq: number; uidValidity: number; folderPath: string }

export interface AutoCreateConfig { sizeThreshold: string | null; baseDirectory: string; contentBaseDirectory: string; indexBaseDirectory: string }

/** `"500 MB"`, `"10GB"`, `"1000000"` (bytes) → bytes; null means never. */
export function parseSizeThreshold(s: string | null): number | null {
  if (s === null || s.trim() === '') return null;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|TB)?\s*$/i.exec(s);
  if (!m) throw new InstanceError('INVALID_ARGUMENT', `sizeThreshold: expected a size such as "500 MB" or "10 GB", got ${JSON.stringify(s)}`);
  const unit = (m[2] ?? 'B').toUpperCase();
  const mult = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4 }[unit as 'B']!;
  return Math.round(Number(m[1]) * mult);
}

/** One message of a batch on its way to the store. */
interface IngestCandidate { item: IngestItem; crlf: Buffer; sha: string; folderPath: string; prepared: Promise<PreparedMessage> }
type ReadyMessage = IngestCandidate & { ready: PreparedMessage };
/** A chunk whose new content is being compressed. */
interface StagedChunk { messages: ReadyMessage[]; compressed: Promise<CompressedBlock[]> }

/**
 * A batch is written in chunks of about this many messages or bytes (whichever comes first), so
 * the first chunk is written while later ones are still being prepared; larger chunks would leave
 * the main thread idle, smaller ones pay the per-commit cost (a pack fsync, two transactions) too often.
 */
const COMMIT_CHUNK_MESSAGES = 100;
const COMMIT_CHUNK_BYTES = 12 * 1024 * 1024;

export class Archive {
  readonly folders: FolderTree;
  readonly settings: Settings;
  private stores = new Map<number, ArchiveStore>();
  private storeErrors = new Map<number, string>();
  private listeners = new Set<(e: ChangeEvent) => void>();
  private pool: PreparePool;
  /** Settles when the batch now writing has written its last chunk. */
  private commitTail: Promise<void> = Promise.resolve();

  constructor(readonly db: Db, readonly baseDir: string, private log: Logger) {
    this.settings = new Settings(db);
    this.folders = new FolderTree(db, this.settings);
    this.pool = new PreparePool(log);
    this.openStores();
    if (this.storeRows().length === 0) this.createStore({ name: 'Store 1', requestedState: 'current' });
    // Folder counters are written after each batch's rows; after a crash between the two, count again.
    if (!this.settings.read<boolean>('closedCleanly', true)) {
      this.log.warn('instance was not closed cleanly; recounting folders');
      this.recountFolders();
      this.uncleanStart = true;
    }
    this.settings.write('closedCleanly', false);
  }

  /** Not closed cleanly last time: index entries of the last batch may be missing (maintenance.ts indexMissingAfterCrash). */
  uncleanStart = false;

  onChange(fn: (e: ChangeEvent) => void): () => void { this.listeners.add(fn); return () => this.listeners.delete(fn); }
  private emit(e: ChangeEvent): void { for (const fn of this.listeners) { try { fn(e); } catch (err) { this.log.error({ err }, 'change listener failed'); } } }

  storeRows(): StoreRow[] { return this.db.prepare('SELECT * FROM stores ORDER BY id').all() as StoreRow[]; }

  private openStore(row: StoreRow): void {
    if (row.requested_state === 'disabled') return;
    try {
      this.stores.set(row.id, new ArchiveStore(row.id, { databasePath: row.database_path, contentPath: row.content_path, indexPath: row.index_path }, this.log));
      this.storeErrors.delete(row.id);
    } catch (e) {
      this.storeErrors.set(row.id, (e as Error).message);
      this.log.error({ store: row.id, err: e }, 'archive store could not be opened');
    }
  }

  private openStores(): void { for (const row of this.storeRows()) this.openStore(row); }

  /** Stores whose content is visible to users (not disabled, opened without error). */
  openStoresList(): ArchiveStore[] { return [...this.stores.values()]; }

  /** Closes a store so maintenance can replace its files; `reopenStore` brings it back. */
  detachOpenStore(id: number): void { this.stores.get(id)?.close(); this.stores.delete(id); }

  reopenStore(id: number): void {
    const row = this.storeRows().find((r) => r.id === id);
    if (row && !this.stores.has(id)) this.openStore(row);
  }

  /** Forgets a store (DetachStore); its files stay where they are. */
  detachStore(id: number): void {
    const row = this.storeRows().find((r) => r.id === id);
    if (!row) throw new InstanceError('NOT_FOUND', `archive store ${id} does not exist`);
    if (row.requested_state === 'current') throw new InstanceError('INVALID_STATE', `archive store ${id} is the current store; make another store current first`);
    this.detachOpenStore(id);
    this.db.prepare('DELETE FROM stores WHERE id = ?').run(id);
    this.recountFolders();
  }

  /** After MergeStore: the source leaves the instance; if it was current, the target takes over. */
  detachStoreForMerge(sourceId: number, targetId: number): void {
    const row = this.storeRows().find((r) => r.id === sourceId);
    if (row?.requested_state === 'current') this.setStoreState(targetId, 'current');
    this.detachStore(sourceId);
  }

  storeError(id: number): string | null { return this.storeErrors.get(id) ?? null; }

  store(id: number): ArchiveStore {
    const s = this.stores.get(id);
    if (!s) throw new InstanceError('STORE_UNAVAILABLE', this.storeErrors.has(id) ? `archive store ${id} is in error: ${this.storeErrors.get(id)}` : `archive store ${id} is not open (disabled or unknown)`);
    return s;
  }

  currentStore(): ArchiveStore {
    const row = this.db.prepare(`SELECT * FROM stores WHERE requested_state = 'current'`).get() as StoreRow | undefined;
    if (!row) throw new InstanceError('INVALID_STATE', 'no archive store is set to current; set one with SetStoreRequestedState');
    return this.store(row.id);
  }

  createStore(p: { name: string; databasePath?: string | null; contentPath?: string | null; indexPath?: string | null; requestedState?: StoreState | null }): StoreRow {
    const state = p.requestedState ?? 'normal';
    if (!STORE_STATES.includes(state)) throw new InstanceError('INVALID_ARGUMENT', `requestedState: expected one of ${STORE_STATES.join(', ')}`);
    const id = ((this.db.prepare('SELECT max(id) AS m FROM stores').get() as { m: number | null }).m ?? 0) + 1;
    const dbPath = p.databasePath ? path.resolve(this.baseDir, p.databasePath) : path.join(this.baseDir, 'stores', `store-${String(id).padStart(4, '0')}`);
    const row: StoreRow = { id, name: p.name, database_path: dbPath, content_path: p.contentPath ? path.resolve(this.baseDir, p.contentPath) : dbPath, index_path: p.indexPath ? path.resolve(this.baseDir, p.indexPath) : dbPath, requested_state: state, created_at: Date.now() };
    this.db.transaction(() => {
      if (state === 'current') this.db.prepare(`UPDATE stores SET requested_state = 'normal' WHERE requested_state = 'current'`).run();
      this.db.prepare('INSERT INTO stores (id, name, database_path, content_path, index_path, requested_state, created_at) VALUES (@id, @name, @database_path, @content_path, @index_path, @requested_state, @created_at)').run(row);
    })();
    this.openStore(row);
    return row;
  }

  setStoreState(id: number, state: StoreState): void {
    if (!STORE_STATES.includes(state)) throw new InstanceError('INVALID_ARGUMENT', `requestedState: expected one of ${STORE_STATES.join(', ')}`);
    const row = this.storeRows().find((r) => r.id === id);
    if (!row) throw new InstanceError('NOT_FOUND', `archive store ${id} does not exist`);
    this.db.transaction(() => {
      if (state === 'current') this.db.prepare(`UPDATE stores SET requested_state = 'normal' WHERE requested_state = 'current'`).run();
      this.db.prepare('UPDATE stores SET requested_state = ? WHERE id = ?').run(state, id);
    })();
    if (state === 'disabled') { this.stores.get(id)?.close(); this.stores.delete(id); }
    else if (!this.stores.has(id)) this.openStore({ ...row, requested_state: state });
    this.recountFolders();
  }

  /** Folder counters follow the stores that are visible. */
  recountFolders(): void {
    const totals = new Map<number, { n: number; size: number }>();
    for (const s of this.stores.values()) {
      for (const r of s.db.prepare('SELECT folder_id, count(*) AS n, sum(size) AS size FROM messages GROUP BY folder_id').all() as { folder_id: number; n: number; size: number }[]) {
        const t = totals.get(r.folder_id) ?? { n: 0, size: 0 };
        t.n += r.n; t.size += r.size;
        totals.set(r.folder_id, t);
      }
    }
    this.db.transaction(() => { for (const f of this.folders.all()) { const t = totals.get(f.id); this.folders.setCounts(f.id, t?.n ?? 0, t?.size ?? 0); } })();
  }

  autoCreateConfig(): AutoCreateConfig {
    return this.settings.read<AutoCreateConfig>('storeAutoCreate', { sizeThreshold: null, baseDirectory: path.join(this.baseDir, 'stores'), contentBaseDirectory: '', indexBaseDirectory: '' });
  }

  setAutoCreateConfig(c: AutoCreateConfig): void {
    parseSizeThreshold(c.sizeThreshold);
    this.settings.write('storeAutoCreate', c);
  }

  /** Rolls over to a new current store when the current one passes the configured size. */
  private maybeRollStore(): void {
    const cfg = this.autoCreateConfig();
    const limit = parseSizeThreshold(cfg.sizeThreshold);
    if (limit === null) return;
    const cur = this.currentStore();
    if (cur.diskBytes() < limit) return;
    const n = this.storeRows().length + 1;
    const stamp = new Date().toISOString().slice(0, 10);
    const dir = path.join(cfg.baseDirectory || path.join(this.baseDir, 'stores'), `store-${String(n).padStart(4, '0')}-${stamp}`);
    const row = this.createStore({
      name: `Store ${n} (${stamp})`, databasePath: dir,
      contentPath: cfg.contentBaseDirectory ? path.join(cfg.contentBaseDirectory, path.basename(dir)) : null,
      indexPath: cfg.indexBaseDirectory ? path.join(cfg.indexBaseDirectory, path.basename(dir)) : null,
      requestedState: 'current',
    });
    this.log.info({ store: row.id, previous: cur.id, limit }, 'current archive store passed its size threshold; created a new current store');
  }

  /**
   * Archives a batch into `<userArchive>/<item.folder>`; duplicates (same bytes, same folder) are
   * skipped. Messages are prepared in worker threads and written in chunks, in arrival order, as
   * soon as a chunk is prepared: the main thread writes one chunk while the workers prepare the
   * next. `beforeCommit` lets the caller hold the writing part (freeze). Each chunk is written
   * without awaiting, and the chunks of concurrent batches never interleave.
   */
  async ingest(userArchive: string, items: IngestItem[], beforeCommit: () => Promise<void> = async () => {}): Promise<IngestResult> {
    const result: IngestResult = { imported: 0, duplicates: 0, broken: 0, errors: [] };
    if (items.length === 0) return result;
    const candidates: IngestCandidate[] = [];
    const seen = new Set<string>();
    for (const item of items) {
      try {
        const folderPath = normalizeFolderPath(`${userArchive}/${item.folder}`);
        const crlf = normalizeLineEndings(item.raw);
        const sha = createHash('sha256').update(crlf).digest('hex');
        const folder = this.folders.find(folderPath);
        const key = `${folderPath}\u0000${sha}`;
        if (seen.has(key) || (folder && this.isArchived(folder.id, sha))) { result.duplicates++; continue; }
        seen.add(key);
        candidates.push({ item, crlf, sha, folderPath, prepared: this.pool.prepare(crlf) });
      } catch (e) {
        result.errors.push({ name: item.name, message: (e as Error).message });
      }
    }
    // One batch writes at a time; the next one's messages are prepared meanwhile.
    const previous = this.commitTail;
    let release!: () => void;
    this.commitTail = new Promise<void>((r) => { release = r; });
    try {
      await previous;
      // Two chunks in flight: one compressing (libuv's thread pool) while the one before is written.
      let staged: StagedChunk | null = null;
      const stagedContent = new Set<string>();
      for (let i = 0; i < candidates.length;) {
        const chunk: ReadyMessage[] = [];
        let bytes = 0;
        let blockBytes = 0;
        for (; i < candidates.length; i++) {
          const c = candidates[i]!;
          try { chunk.push({ ...c, ready: await c.prepared }); } catch (e) { result.errors.push({ name: c.item.name, message: (e as Error).message }); }
          bytes += c.crlf.length;
          blockBytes += c.crlf.length;
          // A chunk ends where a content block ends (blocks fill to BLOCK_TARGET_BYTES), so that
          // chunks do not leave part-filled blocks behind: those compress worse.
          if (blockBytes < BLOCK_TARGET_BYTES) continue;
          blockBytes = 0;
          if (chunk.length >= COMMIT_CHUNK_MESSAGES || bytes >= COMMIT_CHUNK_BYTES) { i++; break; }
        }
        const next = this.stageChunk(chunk, stagedContent);
        if (staged) await this.writeChunk(staged, beforeCommit, result);
        staged = next;
      }
      if (staged) await this.writeChunk(staged, beforeCommit, result);
    } finally {
      release();
    }
    return result;
  }

  /** Starts compressing the content of a chunk that is not in the current store yet. */
  private stageChunk(messages: ReadyMessage[], stagedContent: Set<string>): StagedChunk {
    const store = this.currentStore();
    const blobs: NewBlob[] = [];
    for (const m of messages) {
      if (stagedContent.has(m.sha) || store.hasBlob(m.sha)) continue;
      stagedContent.add(m.sha);
      blobs.push({ sha256: m.sha, raw: m.crlf, runs: m.ready.runs });
    }
    const compressed = Promise.all(sealBlocks(blobs).map(compressBlock));
    compressed.catch(() => { /* reported by writeChunk */ });
    return { messages, compressed };
  }

  /** Writes a staged chunk: UIDs, content, rows and index in one step, without awaiting in between. */
  private async writeChunk(chunk: StagedChunk, beforeCommit: () => Promise<void>, result: IngestResult): Promise<void> {
    let blocks: CompressedBlock[];
    try { blocks = await chunk.compressed; } catch (e) {
      this.log.error({ err: e }, 'compressing content in the thread pool failed; compressing on the main thread');
      blocks = [];
    }
    await beforeCommit();
    this.maybeRollStore();
    const store = this.currentStore();
    const ready: (ReadyMessage & { folder: FolderRow })[] = [];
    for (const c of chunk.messages) {
      const folder = this.folders.ensure(c.folderPath);
      // A batch that arrived meanwhile may have archived the same message.
      if (this.isArchived(folder.id, c.sha)) { result.duplicates++; continue; }
      if (c.ready.problems.length) { result.broken++; this.log.warn({ name: c.item.name, problems: c.ready.problems.slice(0, 5) }, 'message stored with problems'); }
      ready.push({ ...c, folder });
    }
    if (ready.length === 0) return;
    // Content that is neither staged nor in the store (the store changed, or compression failed) is compressed here.
    const staged = new Set<string>();
    for (const b of blocks) for (const e of b.sealed.entries) if (e.k === 'b') staged.add(e.sha256);
    const missing: NewBlob[] = [];
    for (const p of ready) if (!staged.has(p.sha) && !store.hasBlob(p.sha)) { staged.add(p.sha); missing.push({ sha256: p.sha, raw: p.crlf, runs: p.ready.runs }); }
    if (missing.length) blocks = [...blocks, ...sealBlocks(missing).map(compressBlockSync)];
    // UIDs and MODSEQs are reserved (and committed) before the messages: a crash leaves gaps, never reuse.
    const byFolder = new Map<number, typeof ready>();
    for (const p of ready) { const l = byFolder.get(p.folder.id) ?? []; l.push(p); byFolder.set(p.folder.id, l); }
    const uidOf = new Map<(typeof ready)[number], MessageIdentity>();
    this.db.transaction(() => {
      for (const [folderId, list] of byFolder) {
        const f = this.folders.get(folderId)!;
        const r = this.folders.reserveUids(folderId, list.length);
        list.forEach((p, i) => uidOf.set(p, { uid: r.firstUid + i, modseq: r.firstModseq + i, uidValidity: f.uid_validity, folderPath: f.path }));
      }
    })();
    const recovery: RecoveryRecord[] = [];
    const rows: NewMessageRow[] = [];
    for (const p of ready) {
      const id = uidOf.get(p)!;
      const flags = p.item.flags ?? ['\\Seen'];
      const internalDate = p.item.internalDate ?? Date.now();
      recovery.push({ kind: 'message', sha256: p.sha, folder: id.folderPath, uid: id.uid, flags, internalDate, archivedAt: Date.now(), uidValidity: id.uidValidity });
      rows.push(this.rowFor(p.ready, p.sha, p.folder.id, id, flags, internalDate));
    }
    store.commitBlocks(blocks, recovery, rows);
    this.db.transaction(() => { for (const r of rows) this.folders.addCounts(r.folderId, 1, r.size); })();
    for (const r of rows) this.emit({ kind: 'exists', folderId: r.folderId, uid: r.uid, modseq: r.modseq });
    result.imported += rows.length;
    this.scheduleIdleCheckpoint();
  }

  /** Whether this content is already a message of the folder, in any open store. */
  private isArchived(folderId: number, sha: string): boolean {
    return this.openStoresList().some((s) => s.hasMessageInFolder(folderId, sha));
  }

  rowFor(p: PreparedMessage, sha: string, folderId: number, id: MessageIdentity, flags: string[], internalDate: number): NewMessageRow {
    return {
      folderId, uid: id.uid, modseq: id.modseq, sha256: sha, flags, internalDate, size: p.size,
      sentDate: p.sentDate ?? internalDate, // no Date: header → INTERNALDATE, as Dovecot does for SENT* keys
      sentZone: p.sentDate === null ? 0 : p.sentZone,
      subject: p.subject, from: p.from, messageId: p.messageId, hasAttachments: p.hasAttachments,
      imap: p.imap, folderPath: id.folderPath, uidValidity: id.uidValidity, fts: p.fts,
    };
  }

  /** Messages of a folder across stores, ascending UID; with `uids`, only those (as range scans). */
  folderMessages(folderId: number, uids?: number[]): { store: ArchiveStore; msg: StoredMessage }[] {
    const out: { store: ArchiveStore; msg: StoredMessage }[] = [];
    const runs = uids ? uidRuns(uids) : null;
    for (const s of this.stores.values()) {
      if (runs === null) {
        for (const r of statement(s.db, `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE folder_id = ?`).all(folderId) as Parameters<typeof rowToMessage>[0][]) out.push({ store: s, msg: rowToMessage(r) });
        continue;
      }
      const range = statement(s.db, `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE folder_id = ? AND uid BETWEEN ? AND ?`);
      for (const [a, b] of runs) for (const r of range.all(folderId, a, b) as Parameters<typeof rowToMessage>[0][]) out.push({ store: s, msg: rowToMessage(r) });
    }
    return out.sort((a, b) => a.msg.uid - b.msg.uid);
  }

  folderUids(folderId: number): { uids: number[]; modseqs: number[] } {
    const all: [number, number][] = [];
    for (const s of this.stores.values()) for (const r of statement(s.db, 'SELECT uid, modseq FROM messages WHERE folder_id = ?', 'raw').all(folderId) as [number, number][]) all.push(r);
    all.sort((a, b) => a[0] - b[0]);
    return { uids: all.map((r) => r[0]), modseqs: all.map((r) => r[1]) };
  }

  private readonly metaCache = new MetaCache();

  imapMeta(store: ArchiveStore, messageId: number): ImapMeta {
    return this.metaCache.get(store, messageId, () => {
      const r = statement(store.db, 'SELECT imap FROM messages WHERE id = ?').get(messageId) as { imap: Buffer } | undefined;
      if (!r) throw new InstanceError('NOT_FOUND', 'message not found');
      const json = decompressText(r.imap);
      return { meta: JSON.parse(json) as ImapMeta, bytes: json.length };
    });
  }

  locate(folderId: number, uid: number): { store: ArchiveStore; msg: StoredMessage } {
    for (const s of this.stores.values()) {
      const r = statement(s.db, `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE folder_id = ? AND uid = ?`).get(folderId, uid) as Parameters<typeof rowToMessage>[0] | undefined;
      if (r) return { store: s, msg: rowToMessage(r) };
    }
    throw new InstanceError('NOT_FOUND', `no message with UID ${uid} in this folder`);
  }

  readRaw(folderId: number, uid: number): Buffer {
    const { store, msg } = this.locate(folderId, uid);
    return store.readRaw(msg.sha256);
  }

  private idleTimer: NodeJS.Timeout | null = null;

  /** When ingest pauses, fold the WAL files back so the disk holds only the databases. */
  private scheduleIdleCheckpoint(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      this.idleTimer = null;
      try { this.checkpoint(); } catch (err) { this.log.warn({ err }, 'idle checkpoint failed'); }
    }, IDLE_CHECKPOINT_MS);
    this.idleTimer.unref();
  }

  close(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    void this.pool.close();
    for (const s of this.stores.values()) s.drainIndex();
    // Messages an index failure left out are indexed at the next start (indexMissingAfterCrash).
    this.settings.write('closedCleanly', ![...this.stores.values()].some((s) => s.indexIncomplete));
    for (const s of this.stores.values()) s.close();
    this.stores.clear();
  }

  /** Resolves when every committed message is in its store's full-text index (index-writer.ts). */
  async indexSettled(): Promise<void> { await Promise.all(this.openStoresList().map((s) => s.indexSettled())); }

  checkpoint(): void { for (const s of this.stores.values()) s.checkpoint(); this.db.pragma('wal_checkpoint(TRUNCATE)'); }
}

