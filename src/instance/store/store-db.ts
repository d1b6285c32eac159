/**
 * Metadata database and full-text index of one archive store (better-sqlite3, WAL).
 * `store.db` holds message rows (pre-serialised IMAP metadata, compressed) and the blob map;
 * `index.db` holds the FTS5 index, kept apart so it can be rebuilt or verified on its own.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import path from 'node:path';

export type Db = Database.Database;

/** 2: content blocks may refer to attachment bytes stored in another block (shared_runs); older Coffer cannot read them. */
const STORE_SCHEMA_VERSION = 2;

const STORE_SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
-- SHA-256 as 32 bytes (not 64 hex digits): it is stored three times per message.
CREATE TABLE IF NOT EXISTS blobs (
  sha256 BLOB PRIMARY KEY,
  pack INTEGER NOT NULL, offset INTEGER NOT NULL, length INTEGER NOT NULL,
  start INTEGER NOT NULL, raw_size INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS messages (
  id INTEGER PRIMARY KEY,
  folder_id INTEGER NOT NULL,
  uid INTEGER NOT NULL,
  modseq INTEGER NOT NULL,
  sha256 BLOB NOT NULL,
  flags TEXT NOT NULL,
  internal_date INTEGER NOT NULL,
  size INTEGER NOT NULL,
  sent_date INTEGER,
  -- Zone of the Date: header in minutes east of UTC: SENT* search keys use the sender's own day.
  sent_zone INTEGER NOT NULL DEFAULT 0,
  subject TEXT NOT NULL,
  from_ TEXT NOT NULL,
  message_id TEXT,
  has_attachments INTEGER NOT NULL,
  imap BLOB NOT NULL,
  UNIQUE (folder_id, uid)
);
CREATE INDEX IF NOT EXISTS messages_folder_sha ON messages (folder_id, sha256);
-- What an IMAP sync reads of every message (UID lists, flag searches such as SELECT's UNSEEN,
-- FETCH metadata), from the index alone: table rows carry the compressed IMAP metadata and are
-- fifty times wider, so a scan of them reads the whole folder from disk.
CREATE INDEX IF NOT EXISTS messages_folder_sync ON messages (folder_id, uid, modseq, flags, internal_date, size);
-- A folder's messages newest first (Web Access lists and pages folders by date).
CREATE INDEX IF NOT EXISTS messages_folder_date ON messages (folder_id, sent_date DESC, id DESC);
-- All messages newest first: archive-wide search walks it when a word is in many messages.
CREATE INDEX IF NOT EXISTS messages_date ON messages (sent_date DESC, id DESC);
-- Attachment bodies stored in the content area, by fingerprint, so a repeat is stored as a
-- reference (shared-runs.ts). A row only suggests a candidate: bytes are compared before use.
CREATE TABLE IF NOT EXISTS shared_runs (fingerprint BLOB PRIMARY KEY, pack INTEGER NOT NULL, pos INTEGER NOT NULL, len INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS expunged (folder_id INTEGER NOT NULL, uid INTEGER NOT NULL, modseq INTEGER NOT NULL, PRIMARY KEY (folder_id, uid)) WITHOUT ROWID;
`;

/**
 * Web Access message-list orders besides date, each an index so a folder of 100,000+ messages
 * pages by keyset in any of them: size; sender and subject case-insensitively (SQLite NOCASE:
 * ASCII letters fold, others compare by code point), the subject without up to two reply/forward
 * prefixes. Queries must use these very expressions (src/instance/folder-list.ts imports them).
 */
const stripSubjectPrefix = (x: string) =>
  `CASE WHEN lower(substr(${x}, 1, 3)) IN ('re:', 'aw:', 'wg:', 'sv:', 'fw:') THEN ltrim(substr(${x}, 4)) WHEN lower(substr(${x}, 1, 4)) = 'fwd:' THEN ltrim(substr(${x}, 5)) ELSE ${x} END`;
export const LIST_ORDER_KEYS = {
  // Date order walks messages_folder_date of STORE_SCHEMA.
  date: 'sent_date',
  size: 'size',
  from: 'from_ COLLATE NOCASE',
  subject: `(${stripSubjectPrefix(stripSubjectPrefix('ltrim(subject)'))}) COLLATE NOCASE`,
} as const;
const LIST_ORDER_INDEXES = `
CREATE INDEX IF NOT EXISTS messages_folder_size ON messages (folder_id, ${LIST_ORDER_KEYS.size}, id);
CREATE INDEX IF NOT EXISTS messages_folder_from ON messages (folder_id, ${LIST_ORDER_KEYS.from}, id);
CREATE INDEX IF NOT EXISTS messages_folder_subject ON messages (folder_id, ${LIST_ORDER_KEYS.subject}, id);
`;

/** One message's index entry: rowid (the message row's id), then the six text columns in this order. */
export const INSERT_FTS_SQL = 'INSERT INTO fts (rowid, subject, addresses, body, attachment_names, attachment_text, headers) VALUES (?, ?, ?, ?, ?, ?, ?)';

/** Token rules serve both engines: words for the web, verified substrings for IMAP SEARCH. */
const INDEX_SCHEMA = `
CREATE VIRTUAL TABLE IF NOT EXISTS fts USING fts5(
  subject, addresses, body, attachment_names, attachment_text, headers,
  content='', contentless_delete=1, detail='column',
  tokenize="unicode61 remove_diacritics 0"
);
CREATE VIRTUAL TABLE IF NOT EXISTS fts_vocab USING fts5vocab(fts, 'row');
`;

function tune(db: Db): void {
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('cache_size = -32000');
  db.pragma('busy_timeout = 5000');
  // Without a limit the WAL file keeps its largest size after checkpoints; archives grow in bursts.
  db.pragma('journal_size_limit = 4194304');
}

export function openStoreDb(databaseDir: string): Db {
  mkdirSync(databaseDir, { recursive: true });
  const db = new Database(path.join(databaseDir, 'store.db'));
  tune(db);
  db.exec(STORE_SCHEMA);
  db.exec(LIST_ORDER_INDEXES);
  const v = db.prepare(`SELECT value FROM meta WHERE key = 'schema'`).get() as { value: string } | undefined;
  if (v && Number(v.value) > STORE_SCHEMA_VERSION) throw new Error(`store database ${databaseDir} has schema ${v.value}, newer than this Coffer understands (${STORE_SCHEMA_VERSION})`);
  // Older stores gain the shared_runs table above; from now on their content may use it.
  if (!v || Number(v.value) < STORE_SCHEMA_VERSION) db.prepare(`INSERT INTO meta (key, value) VALUES ('schema', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`).run(String(STORE_SCHEMA_VERSION));
  return db;
}

export function openIndexDb(indexDir: string): Db {
  mkdirSync(indexDir, { recursive: true });
  const db = new Database(path.join(indexDir, 'index.db'));
  // Before WAL: SQLite fixes the vacuum mode when the file gets its first page, and switching to
  // WAL writes it; set later, a new index stayed at auto_vacuum = 0 and never gave pages back.
  // Existing files keep their mode until MaintainFileSystemDatabases (VACUUM) rewrites them.
  db.pragma('auto_vacuum = INCREMENTAL');
  tune(db);
  db.exec(INDEX_SCHEMA);
  return db;
}
