/**
 * The full-text index's vocabulary of one store, in memory, for substring lookups.
 * IMAP SEARCH is substring search, so a needle inside words ("voice" in "invoices") is answered by
 * finding every indexed term that contains it. FTS5's own vocabulary table computes document
 * counts for each term it yields (~1 µs a term), so a scan of it costs more than the rest of a
 * search; here the terms are kept as one newline-separated string, where a substring scan runs at
 * memory speed. The string is read again whenever the index has changed (new mail, a rebuild):
 * that read costs what a single scan of FTS5's vocabulary did before.
 */
import type { Db } from '../store/store-db.js';
import { statement } from '../store/statements.js';

interface Loaded { terms: string; stamp: string }

const loaded = new WeakMap<Db, Loaded>();

/** Changes to the index connection, and its rows: any write to the index shows in one of them. */
function stampOf(index: Db): string {
  const changes = statement(index, 'SELECT total_changes()').pluck().get() as number;
  const docs = statement(index, 'SELECT rowid FROM fts ORDER BY rowid DESC LIMIT 1').pluck().get() as number | undefined;
  return `${changes}:${docs ?? 0}`;
}

function vocabulary(index: Db): string {
  const stamp = stampOf(index);
  const hit = loaded.get(index);
  if (hit && hit.stamp === stamp) return hit.terms;
  const list = index.prepare('SELECT term FROM fts_vocab').pluck().all() as string[];
  const terms = `\n${list.join('\n')}\n`;
  loaded.set(index, { terms, stamp });
  return terms;
}

/**
 * Indexed terms containing `part` (or, with `suffixOnly`, ending with it); null when there are
 * more than `limit`, which makes the index no better than reading the messages.
 */
export function termsContaining(index: Db, part: string, limit: number, suffixOnly = false): string[] | null {
  if (part === '' || part.includes('\n')) return [];
  const terms = vocabulary(index);
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
  return found;
}
