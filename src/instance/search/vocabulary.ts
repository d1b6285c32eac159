/**
 * The full-text index's vocabulary of one store, in memory, for substring lookups.
 * IMAP SEARCH is substring search, so a needle inside words ("voice" in "invoices") is answered by
 * finding every indexed term that contains it. FTS5's own vocabulary table computes document
 * counts for each term it yields (~1 µs a term), so a scan of it costs more than the rest of a
 * search; here the terms are kept as one newline-separated string, where a substring scan runs at
 * memory speed.
 *
 * Keeping it current: when documents were only added since the copy was read (new mail, the
 * common case), the copy still describes every older document, so it is used at once and the
 * documents above `newerThan` count as unknown (callers read them); a fresh copy is read in the
 * background, a chunk per event-loop turn. Code that rewrites documents already indexed (index
 * rebuilds, store maintenance.ts) calls `forgetVocabulary`; any other change with no new
 * documents (deletions, `optimize`) also reads it again before answering.
 */
import type { Db } from '../store/store-db.js';
import { statement } from '../store/statements.js';

/** Terms read per event-loop turn by the background refresh (a few milliseconds each). */
const REFRESH_CHUNK = 5_000;

interface Stamp { changes: number; maxRowid: number }
interface Loaded { terms: string; at: Stamp; refreshing: boolean }

const loaded = new WeakMap<Db, Loaded>();

/** Writes on the index connection (every row inserted or deleted counts one) and its highest document. */
function stampOf(index: Db): Stamp {
  return {
    changes: statement(index, 'SELECT total_changes()', 'pluck').get() as number,
    maxRowid: (statement(index, 'SELECT rowid FROM fts ORDER BY rowid DESC LIMIT 1', 'pluck').get() as number | undefined) ?? 0,
  };
}

function readAll(index: Db): string {
  return `\n${(index.prepare('SELECT term FROM fts_vocab').pluck().all() as string[]).join('\n')}\n`;
}

/** Reads the vocabulary again, a chunk at a time, then swaps it in as of `at`. */
function refreshInBackground(index: Db, entry: Loaded, at: Stamp): void {
  entry.refreshing = true;
  const parts: string[] = [];
  let last = '';
  const next = statement(index, `SELECT term FROM fts_vocab WHERE term > ? ORDER BY term LIMIT ${REFRESH_CHUNK}`, 'pluck');
  const step = () => {
    try {
      if (!index.open || loaded.get(index) !== entry) return;
      const chunk = next.all(last) as string[];
      if (chunk.length > 0) {
        parts.push(chunk.join('\n'));
        last = chunk[chunk.length - 1]!;
        setImmediate(step);
        return;
      }
      loaded.set(index, { terms: `\n${parts.join('\n')}\n`, at, refreshing: false });
    } catch {
      entry.refreshing = false; // the next lookup reads it whole
    }
  };
  setImmediate(step);
}

/** The first document id the vocabulary copy may not describe, or null when it describes all. */
export function vocabularyNewerThan(index: Db): number | null {
  // Not read yet: a search that needs it reads it whole (and current), so nothing is newer; a
  // search that does not (flags, dates) must not pay for reading it.
  return loaded.has(index) ? vocabulary(index).newerThan : null;
}

/** Drops the copy: documents already indexed were rewritten, so it may lack their new terms. */
export function forgetVocabulary(index: Db): void { loaded.delete(index); }

/** The terms, and the first document they may not describe (null: they describe all). */
function vocabulary(index: Db): { terms: string; newerThan: number | null } {
  const now = stampOf(index);
  const hit = loaded.get(index);
  if (hit && hit.at.changes === now.changes && hit.at.maxRowid === now.maxRowid) return { terms: hit.terms, newerThan: null };
  // New documents since the copy was read, and no rewrite of older ones (forgetVocabulary).
  if (hit && now.maxRowid > hit.at.maxRowid) {
    if (!hit.refreshing) refreshInBackground(index, hit, now);
    return { terms: hit.terms, newerThan: hit.at.maxRowid };
  }
  const terms = readAll(index);
  loaded.set(index, { terms, at: now, refreshing: false });
  return { terms, newerThan: null };
}

/**
 * Indexed terms containing `part` (or, with `suffixOnly`, ending with it), and the first document
 * id they may not cover (`newerThan`: documents above it must be read); null when there are more
 * than `limit` terms, which makes the index no better than reading the messages.
 */
export function termsContaining(index: Db, part: string, limit: number, suffixOnly = false): { terms: string[]; newerThan: number | null } | null {
  const { terms, newerThan } = vocabulary(index);
  if (part === '' || part.includes('\n')) return { terms: [], newerThan };
  const found: string[] = [];
  let from = 0;
  for (;;) {
    const at = terms.indexOf(part, from);
    if (at < 0) break;
    const start = terms.lastIndexOf('\n', at) + 1;
    const end = terms.indexOf('\n', at + part.length);
    from = end; // one term is taken once, however often the part occurs in it
    const term = terms.slice(start, end);
    if (suffixOnly && !term.endsWith(part)) continue;
    found.push(term);
    if (found.length > limit) return null;
  }
  return { terms: found, newerThan };
}
