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

/** Words of a search for highlighting: plain words and phrase words; wildcards become patterns. */
export function highlightTerms(query: string | undefined): RegExp | null {
  if (!query) return null;
  const words = (query.match(/"[^"]*"|[^\s"]+/g) ?? []).flatMap((w) => w.replace(/^"|"$/g, '').split(/\s+/))
    .map((w) => w.replace(/^[^\p{L}\p{N}*?]+|[^\p{L}\p{N}*?]+$/gu, '')).filter((w) => w.replace(/[*?]/g, '').length > 0).slice(0, 20);
  if (!words.length) return null;
  const pats = words.map((w) => w.split('').map((ch) => ch === '*' ? '[\\p{L}\\p{N}]*' : ch === '?' ? '[\\p{L}\\p{N}]' : ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join(''));
  return new RegExp(`(${pats.join('|')})`, 'giu');
}

/** Escapes `text` and wraps matches in <mark>: works on text only, never on markup. */
export function highlight(text: string, re: RegExp | null): SafeHtml {
  if (!re) return new SafeHtml(escapeHtml(text));
  let out = '';
  let last = 0;
  for (const m of text.matchAll(re)) {
    if (!m[0]) continue;
    out += escapeHtml(text.slice(last, m.index)) + '<mark>' + escapeHtml(m[0]) + '</mark>';
    last = m.index! + m[0].length;
  }
  return new SafeHtml(out + escapeHtml(text.slice(last)));
}

/** For sanitize-html's textFilter: the text arrives HTML-escaped; match on the unescaped form. */
export function highlightEscaped(escaped: string, re: RegExp | null): string {
  if (!re) return escaped;
  const unescaped = escaped.replace(/&(amp|lt|gt|quot|#39|#x27|#96);/g, (m, e: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'", '#x27': "'", '#96': '`' } as Record<string, string>)[e] ?? m);
  return highlight(unescaped, re).value;
}
