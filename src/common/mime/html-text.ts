/**
 * HTML to plain text for the full-text index. A single forward scan (no
 * regular expressions over the document, so no backtracking on hostile
 * input): tags are dropped, script/style/head-like containers dropped with
 * their content, block-level tags become line breaks, character references
 * decoded (HTML 5 numeric and the common named ones), whitespace collapsed.
 */

const DROP_CONTENT = new Set(['script', 'style', 'noscript', 'template', 'svg', 'object', 'xml', 'head']);
const BLOCK = new Set([
  'address', 'article', 'aside', 'blockquote', 'br', 'dd', 'div', 'dl', 'dt', 'fieldset', 'figcaption', 'figure',
  'footer', 'form', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'header', 'hr', 'li', 'main', 'nav', 'ol', 'p', 'pre',
  'section', 'table', 'tbody', 'td', 'tfoot', 'th', 'thead', 'title', 'tr', 'ul',
]);

const NAMED: Record<string, string> = {
  amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0', copy: '\u00a9', reg: '\u00ae',
  trade: '\u2122', hellip: '\u2026', mdash: '\u2014', ndash: '\u2013', lsquo: '\u2018', rsquo: '\u2019',
  ldquo: '\u201c', rdquo: '\u201d', laquo: '\u00ab', raquo: '\u00bb', bull: '\u2022', middot: '\u00b7',
  euro: '\u20ac', pound: '\u00a3', yen: '\u00a5', cent: '\u00a2', sect: '\u00a7', deg: '\u00b0',
  auml: '\u00e4', ouml: '\u00f6', uuml: '\u00fc', Auml: '\u00c4', Ouml: '\u00d6', Uuml: '\u00dc', szlig: '\u00df',
  eacute: '\u00e9', egrave: '\u00e8', ecirc: '\u00ea', aacute: '\u00e1', agrave: '\u00e0', acirc: '\u00e2',
  iacute: '\u00ed', oacute: '\u00f3', uacute: '\u00fa', ntilde: '\u00f1', ccedil: '\u00e7', aring: '\u00e5',
  Eacute: '\u00c9', times: '\u00d7', divide: '\u00f7', shy: '', zwnj: '', zwj: '', ensp: ' ', emsp: ' ', thinsp: ' ',
};

/** Decode character references in a text run. */
export function decodeEntities(s: string): string {
  if (s.indexOf('&') === -1) return s;
  let out = '';
  let pos = 0;
  for (;;) {
    const amp = s.indexOf('&', pos);
    if (amp === -1) break;
    out += s.slice(pos, amp);
    let end = amp + 1;
    while (end < s.length && end - amp <= 32 && /[A-Za-z0-9#]/.test(s[end]!)) end++;
    const name = s.slice(amp + 1, end);
    let rep: string | undefined;
    if (name.startsWith('#')) {
      const num = name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
      if (Number.isFinite(num) && num > 0 && num <= 0x10ffff && !(num >= 0xd800 && num <= 0xdfff)) {
        rep = String.fromCodePoint(num);
      }
    } else {
      rep = NAMED[name];
    }
    if (rep === undefined) {
      out += '&';
      pos = amp + 1;
      continue;
    }
    out += rep;
    pos = s[end] === ';' ? end + 1 : end;
  }
  return out + s.slice(pos);
}

function tagName(html: string, start: number): { name: string; closing: boolean } {
  let i = start + 1;
  const closing = html[i] === '/';
  if (closing) i++;
  const nameStart = i;
  while (i < html.length && /[A-Za-z0-9]/.test(html[i]!)) i++;
  return { name: html.slice(nameStart, i).toLowerCase(), closing };
}

export function htmlToText(html: string): string {
  const parts: string[] = [];
  let pos = 0;
  const n = html.length;
  while (pos < n) {
    const lt = html.indexOf('<', pos);
    if (lt === -1) {
      parts.push(decodeEntities(html.slice(pos)));
      break;
    }
    if (lt > pos) parts.push(decodeEntities(html.slice(pos, lt)));
    if (html.startsWith('<!--', lt)) {
      const end = html.indexOf('-->', lt + 4);
      pos = end === -1 ? n : end + 3;
      continue;
    }
    const next = html[lt + 1];
    if (next === undefined || !/[A-Za-z/!?]/.test(next)) {
      parts.push('<'); // a bare "<" in text
      pos = lt + 1;
      continue;
    }
    const gt = html.indexOf('>', lt + 1);
    if (gt === -1) break; // unterminated tag: drop the rest
    const { name, closing } = tagName(html, lt);
    pos = gt + 1;
    if (!closing && DROP_CONTENT.has(name) && html[gt - 1] !== '/') {
      // skip to the matching end tag (case-insensitive search without regex)
      const endTag = '</' + name;
      let search = pos;
      let found = -1;
      while (search < n) {
        const cand = html.indexOf('</', search);
        if (cand === -1) break;
        if (html.slice(cand, cand + endTag.length).toLowerCase() === endTag) {
          found = cand;
          break;
        }
        search = cand + 2;
      }
      if (found === -1) {
        pos = n;
      } else {
        const close = html.indexOf('>', found);
        pos = close === -1 ? n : close + 1;
      }
      if (name === 'head') parts.push('\n');
      continue;
    }
    if (BLOCK.has(name)) parts.push('\n');
    else if (name === 'img') {
      // alt text is what a reader sees in place of the image
      const tag = html.slice(lt, gt);
      const m = /\balt\s*=\s*("([^"]{0,500})"|'([^']{0,500})')/i.exec(tag.length > 4000 ? '' : tag);
      if (m) parts.push(' ' + decodeEntities(m[2] ?? m[3] ?? '') + ' ');
    }
  }
  return collapse(parts.join(''));
}

/** Runs of spaces/tabs to one space, 3+ newlines to two, lines trimmed. */
function collapse(s: string): string {
  const lines = s.replace(/\r\n?/g, '\n').split('\n');
  const out: string[] = [];
  let blank = 0;
  for (const line of lines) {
    const t = line.replace(/[ \t\u00a0]+/g, ' ').trim();
    if (t === '') {
      if (++blank > 1) continue;
    } else blank = 0;
    out.push(t);
  }
  return out.join('\n').trim();
}
