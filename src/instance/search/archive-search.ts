/**
 * Archive-wide search as Web Access offers it: words, "phrases", `*`/`?` wildcards, fields,
 * dates, sizes, attachments, folder scope; newest first with keyset paging, over every store.
 */
import type { ArchiveHit, ArchiveQuery } from '../api.js';
import type { Archive } from '../archive.js';
import { InstanceError } from '../errors.js';
import { quoteTerm, tokenize, type Columns } from './fts-query.js';
import type { ArchiveStore } from '../store/store.js';
import { statement } from '../store/statements.js';

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
  // Every folder of the instance in scope (a user searching everything they own): no folder test.
  const wholeInstance = folderPath.size === archive.folders.all().length;
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
    const where: string[] = [wholeInstance ? '1' : 'm.folder_id IN (SELECT value FROM json_each(@folders))'];
    const params: Record<string, unknown> = wholeInstance ? {} : { folders: JSON.stringify([...folderPath.keys()]) };
    // From is kept in the row and matched exactly; to/cc/bcc match through the index's address column.
    if (q.from && q.from.trim()) { where.push('instr(lower(m.from_), @from) > 0'); params.from = q.from.trim().toLowerCase(); }
    if (q.dateFrom) { where.push('m.sent_date >= @dateFrom'); params.dateFrom = dayStart(q.dateFrom, 'dateFrom'); }
    if (q.dateTo) { where.push('m.sent_date < @dateTo'); params.dateTo = dayStart(q.dateTo, 'dateTo') + 86_400_000; }
    if (q.minSize !== undefined) { where.push('m.size >= @minSize'); params.minSize = q.minSize; }
    if (q.maxSize !== undefined) { where.push('m.size <= @maxSize'); params.maxSize = q.maxSize; }
    if (q.hasAttachments !== undefined) { where.push('m.has_attachments = @hasAtt'); params.hasAtt = q.hasAttachments ? 1 : 0; }
    // Last, so the date walk can leave it out and test it chunk by chunk.
    if (fts.length) { where.push('m.id IN (SELECT rowid FROM idx.fts WHERE fts MATCH @fts)'); params.fts = fts.map((e) => `(${e})`).join(' AND '); }
    const base = `FROM messages m WHERE ${where.join(' AND ')}`;
    // Hits of the text alone, from the index: cheap, and the answer when nothing else restricts.
    const textHits = params.fts === undefined ? null : (statement(store.index, 'SELECT count(*) FROM fts WHERE fts MATCH ?', 'pluck').get(params.fts) as number);
    const onlyText = textHits !== null && where.length === 2 && wholeInstance;
    total += onlyText ? textHits : (store.db.prepare(`SELECT count(*) ${base}`).pluck().get(params) as number);
    let aId: number | null = null;
    if (after) {
      const afterStore = Math.floor(after.sk / STORE_KEY_FACTOR);
      aId = afterStore === store.id ? after.sk % STORE_KEY_FACTOR : afterStore > store.id ? Number.MAX_SAFE_INTEGER : 0;
    }
    const rows = textHits !== null && shouldWalk(store, textHits, limit)
      ? walkByDate(store, where.slice(0, -1), params, after ? { date: after.date, id: aId! } : null, limit)
      : pageByHits(store, base, params, after ? { date: after.date, id: aId! } : null, limit);
    for (const r of rows) {
      all.push({ key: `${store.id}-${r.id}`, sk: store.id * STORE_KEY_FACTOR + r.id, folderId: r.folder_id, folderPath: folderPath.get(r.folder_id)!, uid: r.uid, date: r.sent_date, from: r.from_, subject: r.subject, size: r.size, hasAttachments: r.has_attachments === 1 });
    }
  }
  all.sort((a, b) => b.date - a.date || b.sk - a.sk);
  const page = all.slice(0, limit);
  const last = page[page.length - 1];
  return { hits: page.map(({ sk: _sk, ...h }) => h), total, next: page.length === limit && last ? { date: last.date, key: last.key } : null };
}

type Row = { id: number; folder_id: number; uid: number; sent_date: number; from_: string; subject: string; size: number; has_attachments: number };
const ROW_COLUMNS = 'm.id, m.folder_id, m.uid, m.sent_date, m.from_, m.subject, m.size, m.has_attachments';
/**
 * Whether a page is found by walking messages newest first rather than sorting every hit: when
 * hits are dense enough that a page is expected within WALK_MAX_ROWS messages. Sorting costs
 * ~1 µs a hit (half a second for a common word in a million messages); a walk costs ~3 µs a
 * message read. COFFER_SEARCH_WALK_ABOVE_HITS forces a threshold (tests run both plans).
 */
const WALK_MAX_ROWS = 20_000;
const FORCED_WALK_THRESHOLD = process.env.COFFER_SEARCH_WALK_ABOVE_HITS === undefined ? null : Number(process.env.COFFER_SEARCH_WALK_ABOVE_HITS);
const WALK_CHUNK = 2_000;

function shouldWalk(store: ArchiveStore, hits: number, limit: number): boolean {
  if (FORCED_WALK_THRESHOLD !== null) return hits > FORCED_WALK_THRESHOLD;
  const messages = (statement(store.db, 'SELECT max(id) FROM messages', 'pluck').get() as number | null) ?? 0;
  return hits > 0 && (limit * messages) / hits <= WALK_MAX_ROWS;
}

/** Few hits: take them all from the index, newest first. */
function pageByHits(store: ArchiveStore, base: string, params: Record<string, unknown>, after: { date: number; id: number } | null, limit: number): Row[] {
  const keyset = after ? ' AND (m.sent_date, m.id) < (@aDate, @aId)' : '';
  return store.db.prepare(`SELECT ${ROW_COLUMNS} ${base}${keyset} ORDER BY m.sent_date DESC, m.id DESC LIMIT ${limit}`)
    .all(after ? { ...params, aDate: after.date, aId: after.id } : params) as Row[];
}

/**
 * Many hits (a common word): messages are read newest first, a chunk at a time, and each chunk
 * keeps the ones the index matches. The index is asked for the chunk's id range from the top
 * down (FTS5 seeks there; a BETWEEN would scan the whole doclist), which is narrow when mail was
 * archived roughly in date order, as it usually is; a wide range only costs more, never misses.
 */
function walkByDate(store: ArchiveStore, conditions: string[], params: Record<string, unknown>, after: { date: number; id: number } | null, limit: number): Row[] {
  const found: number[] = [];
  let cursor = after;
  const { fts, ...rowParams } = params;
  const below = statement(store.index, 'SELECT rowid FROM fts WHERE fts MATCH ? AND rowid <= ? ORDER BY rowid DESC LIMIT ?', 'pluck');
  while (found.length < limit) {
    const keyset = cursor ? ' AND (m.sent_date, m.id) < (@aDate, @aId)' : '';
    const chunk = store.db.prepare(`SELECT m.id, m.sent_date FROM messages m INDEXED BY messages_date WHERE ${conditions.join(' AND ')}${keyset} ORDER BY m.sent_date DESC, m.id DESC LIMIT ${WALK_CHUNK}`)
      .raw().all(cursor ? { ...rowParams, aDate: cursor.date, aId: cursor.id } : rowParams) as [number, number][];
    if (chunk.length === 0) break;
    let lo = Infinity, hi = -Infinity;
    for (const [id] of chunk) { if (id < lo) lo = id; if (id > hi) hi = id; }
    const hits = new Set(below.all(fts, hi, hi - lo + 1) as number[]);
    for (const [id] of chunk) {
      if (!hits.has(id)) continue;
      found.push(id);
      if (found.length === limit) break;
    }
    const [lastId, lastDate] = chunk[chunk.length - 1]!;
    cursor = { date: lastDate, id: lastId };
  }
  if (found.length === 0) return [];
  const rows = store.db.prepare(`SELECT ${ROW_COLUMNS} FROM messages m WHERE m.id IN (SELECT value FROM json_each(?))`).all(JSON.stringify(found)) as Row[];
  const order = new Map(found.map((id, i) => [id, i]));
  return rows.sort((a, b) => order.get(a.id)! - order.get(b.id)!);
}

function keyToSort(key: string): number {
  const m = /^(\d+)-(\d+)$/.exec(key);
  if (!m) throw new InstanceError('INVALID_ARGUMENT', 'after.key: not a key from a previous page');
  return Number(m[1]) * STORE_KEY_FACTOR + Number(m[2]);
}
