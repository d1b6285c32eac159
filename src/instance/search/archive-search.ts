/**
 * Archive-wide search as Web Access offers it: words, "phrases", `*`/`?` wildcards, fields,
 * dates, sizes, attachments, folder scope; newest first with keyset paging, over every store.
 */
import type { ArchiveHit, ArchiveQuery } from '../api.js';
import type { Archive } from '../archive.js';
import { InstanceError } from '../errors.js';
import { quoteTerm, tokenize, type Columns } from './fts-query.js';
import type { ArchiveStore } from '../store/store.js';

const MAX_PAGE = 500;
const MAX_WILDCARD_TERMS = 500;
const STORE_KEY_FACTOR = 1e12;

/** Turns user text into an FTS5 expression: every word must appear; `*`/`?` expand through the vocabulary. */
function textExpr(store: ArchiveStore, text: string, cols: Columns | null): string | null {
  const parts: string[] = [];
  const words = text.match(/"[^"]*"|[^\s"]+/g) ?? [];
  for (const w of words) {
    if (w.startsWith('"')) {
      const toks = tokenize(w);
      // Phrases match their words (the index keeps no positions, to stay small).
      for (const t of toks) parts.push(quoteTerm(t));
      continue;
    }
    if (/[*?]/.test(w)) {
      const core = w.toLowerCase().replace(/[^\p{L}\p{N}\p{M}*?]+/gu, '');
      if (!/[\p{L}\p{N}\p{M}]/u.test(core)) continue;
      if (/^[^*?]+\*$/.test(core)) { parts.push(`${quoteTerm(core.slice(0, -1))} *`); continue; }
      const terms = store.index.prepare(`SELECT term FROM fts_vocab WHERE term GLOB ? LIMIT ${MAX_WILDCARD_TERMS}`).pluck().all(core) as string[];
      parts.push(terms.length ? `(${terms.map(quoteTerm).join(' OR ')})` : quoteTerm(core.replace(/[*?]/g, '')));
      continue;
    }
    for (const t of tokenize(w)) parts.push(quoteTerm(t));
  }
  if (!parts.length) return null;
  const expr = parts.join(' AND ');
  return cols ? `{${cols.join(' ')}} : (${expr})` : expr;
}

function dayStart(s: string, name: string): number {
  const t = Date.parse(`${s}T00:00:00Z`);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s) || Number.isNaN(t)) throw new InstanceError('INVALID_ARGUMENT', `${name}: expected a date as yyyy-mm-dd`);
  return t;
}

export function searchArchive(archive: Archive, readable: Set<string>, q: ArchiveQuery): { hits: ArchiveHit[]; total: number; next: { date: number; key: string } | null } {
  const limit = Math.min(Math.max(1, q.limit ?? 50), MAX_PAGE);
  let folders = archive.folders.all().filter((f) => readable.has(f.path.split('/')[0]!.toLowerCase()));
  if (q.folderId !== undefined) {
    const base = archive.folders.get(q.folderId);
    if (!base) throw new InstanceError('NOT_FOUND', 'no such folder');
    folders = folders.filter((f) => f.id === base.id || (q.includeSubfolders && f.path.startsWith(`${base.path}/`)));
  }
  const folderPath = new Map(folders.map((f) => [f.id, f.path]));
  if (folderPath.size === 0) return { hits: [], total: 0, next: null };
  const after = q.after ? { date: q.after.date, sk: keyToSort(q.after.key) } : null;
  const all: (ArchiveHit & { sk: number })[] = [];
  let total = 0;
  for (const store of archive.openStoresList()) {
    const fts: string[] = [];
    const add = (v: string | undefined, cols: Columns | null) => { if (v && v.trim()) { const e = textExpr(store, v, cols); if (e) fts.push(e); } };
    add(q.text, null);
    add(q.subject, ['subject']);
    add(q.body, ['body']);
    add(q.attachmentNames, ['attachment_names']);
    add(q.attachmentContents, ['attachment_text']);
    for (const k of ['from', 'to', 'cc', 'bcc'] as const) add(q[k], ['addresses']);
    const where: string[] = ['m.folder_id IN (SELECT value FROM json_each(@folders))'];
    const params: Record<string, unknown> = { folders: JSON.stringify([...folderPath.keys()]) };
    if (fts.length) { where.push('m.id IN (SELECT rowid FROM idx.fts WHERE fts MATCH @fts)'); params.fts = fts.map((e) => `(${e})`).join(' AND '); }
    // From is kept in the row and matched exactly; to/cc/bcc match through the index's address column.
    if (q.from && q.from.trim()) { where.push('instr(lower(m.from_), @from) > 0'); params.from = q.from.trim().toLowerCase(); }
    if (q.dateFrom) { where.push('m.sent_date >= @dateFrom'); params.dateFrom = dayStart(q.dateFrom, 'dateFrom'); }
    if (q.dateTo) { where.push('m.sent_date < @dateTo'); params.dateTo = dayStart(q.dateTo, 'dateTo') + 86_400_000; }
    if (q.minSize !== undefined) { where.push('m.size >= @minSize'); params.minSize = q.minSize; }
    if (q.maxSize !== undefined) { where.push('m.size <= @maxSize'); params.maxSize = q.maxSize; }
    if (q.hasAttachments !== undefined) { where.push('m.has_attachments = @hasAtt'); params.hasAtt = q.hasAttachments ? 1 : 0; }
    const base = `FROM messages m WHERE ${where.join(' AND ')}`;
    total += (store.db.prepare(`SELECT count(*) ${base}`).pluck().get(params) as number);
    let pageWhere = '';
    if (after) {
      pageWhere = ' AND (m.sent_date < @aDate OR (m.sent_date = @aDate AND m.id < @aId))';
      const afterStore = Math.floor(after.sk / STORE_KEY_FACTOR);
      params.aDate = after.date;
      params.aId = afterStore === store.id ? after.sk % STORE_KEY_FACTOR : afterStore > store.id ? Number.MAX_SAFE_INTEGER : 0;
    }
    const rows = store.db.prepare(`SELECT m.id, m.folder_id, m.uid, m.sent_date, m.from_, m.subject, m.size, m.has_attachments ${base}${pageWhere} ORDER BY m.sent_date DESC, m.id DESC LIMIT ${limit}`).all(params) as
      { id: number; folder_id: number; uid: number; sent_date: number; from_: string; subject: string; size: number; has_attachments: number }[];
    for (const r of rows) {
      all.push({ key: `${store.id}-${r.id}`, sk: store.id * STORE_KEY_FACTOR + r.id, folderId: r.folder_id, folderPath: folderPath.get(r.folder_id)!, uid: r.uid, date: r.sent_date, from: r.from_, subject: r.subject, size: r.size, hasAttachments: r.has_attachments === 1 });
    }
  }
  all.sort((a, b) => b.date - a.date || b.sk - a.sk);
  const page = all.slice(0, limit);
  const last = page[page.length - 1];
  return { hits: page.map(({ sk: _sk, ...h }) => h), total, next: page.length === limit && last ? { date: last.date, key: last.key } : null };
}

function keyToSort(key: string): number {
  const m = /^(\d+)-(\d+)$/.exec(key);
  if (!m) throw new InstanceError('INVALID_ARGUMENT', 'after.key: not a key from a previous page');
  return Number(m[1]) * STORE_KEY_FACTOR + Number(m[2]);
}
