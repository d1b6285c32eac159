/** Display formatting shared by the views: sizes, dates, addresses, highlighting. */
import { html, escapeHtml, SafeHtml } from './html.js';
import type { Translate } from './i18n.js';

export function formatSize(t: Translate, bytes: number): string {
  if (bytes < 1024) return t('size.bytes', { n: bytes });
  if (bytes < 1024 * 1024) return t('size.kb', { n: Math.round(bytes / 1024) });
  if (bytes < 1024 ** 3) return t('size.mb', { n: (bytes / 1024 ** 2).toFixed(1) });
  return t('size.gb', { n: (bytes / 1024 ** 3).toFixed(1) });
}

/** `<time>` in UTC; app.js rewrites the text into the browser's time zone. */
export function formatDate(locale: string, ms: number | null | undefined, unknown: string): SafeHtml {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms <= 0) return html`<time>${unknown}</time>`;
  const d = new Date(ms);
  const text = new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' }).format(d) + ' UTC';
  return html`<time datetime="${d.toISOString()}">${text}</time>`;
}

const MAX_HIGHLIGHT_WORDS = 20;
const MAX_HIGHLIGHT_WORD_CHARS = 60;
const MAX_HIGHLIGHT_STARS = 2;
/** Wildcard terms are tried on single words of the text, up to this length (bounds backtracking). */
const MAX_WILDCARD_MATCH_WORD_CHARS = 40;

/**
 * What to mark for a search: plain words (found as substrings, one linear regex) and wildcard
 * words (`*`, `?`), which like the index match whole words and are tried word by word — a
 * backtracking pattern over the whole text could be made to run for minutes by a crafted query.
 */
export interface Highlighter { plain: RegExp | null; wild: RegExp[] }

export function highlightTerms(query: string | undefined): Highlighter | null {
  if (!query) return null;
  const words = (query.match(/"[^"]*"|[^\s"]+/g) ?? []).flatMap((w) => w.replace(/^"|"$/g, '').split(/\s+/))
    .map((w) => w.replace(/^[^\p{L}\p{N}*?]+|[^\p{L}\p{N}*?]+$/gu, '').replace(/\*+/g, '*').slice(0, MAX_HIGHLIGHT_WORD_CHARS))
    .filter((w) => w.replace(/[*?]/g, '').length > 0 && (w.match(/\*/g)?.length ?? 0) <= MAX_HIGHLIGHT_STARS).slice(0, MAX_HIGHLIGHT_WORDS);
  if (!words.length) return null;
  const lit = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const plain = words.filter((w) => !/[*?]/.test(w));
  const wild = words.filter((w) => /[*?]/.test(w))
    .map((w) => new RegExp(`^${w.split('').map((ch) => (ch === '*' ? '[\\p{L}\\p{N}]*' : ch === '?' ? '[\\p{L}\\p{N}]' : lit(ch))).join('')}$`, 'iu'));
  return { plain: plain.length ? new RegExp(plain.map(lit).join('|'), 'giu') : null, wild };
}

/** Escapes `text` and wraps matches in <mark>: works on text only, never on markup. */
export function highlight(text: string, h: Highlighter | null): SafeHtml {
  if (!h) return new SafeHtml(escapeHtml(text));
  const ranges: [number, number][] = [];
  if (h.plain) for (const m of text.matchAll(h.plain)) if (m[0]) ranges.push([m.index!, m.index! + m[0].length]);
  if (h.wild.length) {
    for (const m of text.matchAll(/[\p{L}\p{N}]+/gu)) {
      if (m[0].length <= MAX_WILDCARD_MATCH_WORD_CHARS && h.wild.some((r) => r.test(m[0]))) ranges.push([m.index!, m.index! + m[0].length]);
    }
  }
  if (!ranges.length) return new SafeHtml(escapeHtml(text));
  ranges.sort((a, b) => a[0] - b[0]);
  let out = '';
  let last = 0;
  for (const [a, b] of ranges) {
    if (b <= last) continue;
    const start = Math.max(a, last);
    out += escapeHtml(text.slice(last, start)) + '<mark>' + escapeHtml(text.slice(start, b)) + '</mark>';
    last = b;
  }
  return new SafeHtml(out + escapeHtml(text.slice(last)));
}

/** For sanitize-html's textFilter: the text arrives HTML-escaped; match on the unescaped form. */
export function highlightEscaped(escaped: string, re: Highlighter | null): string {
  if (!re) return escaped;
  const unescaped = escaped.replace(/&(amp|lt|gt|quot|#39|#x27|#96);/g, (m, e: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'", '#x27': "'", '#96': '`' } as Record<string, string>)[e] ?? m);
  return highlight(unescaped, re).value;
}
