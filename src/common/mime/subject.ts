/**
 * RFC 5256 §2.1 base subject, stored at archive time for SORT (SUBJECT) and
 * THREAD (ORDEREDSUBJECT / REFERENCES): "Re:", "Fwd:", "[list]" prefixes,
 * "(fwd)" trailers and "[Fwd: ...]" wrappers removed, whitespace collapsed.
 * A hand-written scanner: every step removes characters, so the loop ends,
 * and no regular expression can backtrack on hostile subjects.
 */
import { decodeEncodedWords } from './rfc2047.js';

function isWsp(c: string | undefined): boolean {
  return c === ' ' || c === '\t';
}

/** subj-blob = "[" *BLOBCHAR "]" *WSP; returns the end index or -1. */
function blobEnd(s: string, i: number): number {
  if (s[i] !== '[') return -1;
  let j = i + 1;
  while (j < s.length && s[j] !== ']' && s[j] !== '[') j++;
  if (s[j] !== ']') return -1;
  j++;
  while (isWsp(s[j])) j++;
  return j;
}

/** subj-refwd = ("re" / ("fw" ["d"])) *WSP [subj-blob] ":"; end index or -1. */
function refwdEnd(s: string, i: number): number {
  const lower = s.slice(i, i + 3).toLowerCase();
  let j: number;
  if (lower.startsWith('re')) j = i + 2;
  else if (lower === 'fwd') j = i + 3;
  else if (lower.startsWith('fw')) j = i + 2;
  else return -1;
  while (isWsp(s[j])) j++;
  const b = blobEnd(s, j);
  if (b !== -1) j = b;
  return s[j] === ':' ? j + 1 : -1;
}

/** Step (3): subj-leader = (*subj-blob subj-refwd) / WSP. */
function leaderEnd(s: string): number {
  if (isWsp(s[0])) return 1;
  let i = 0;
  for (;;) {
    const r = refwdEnd(s, i);
    if (r !== -1) return r;
    const b = blobEnd(s, i);
    if (b === -1) return 0;
    i = b;
  }
}

/** Step (2): remove trailing "(fwd)" and whitespace, repeatedly. */
function stripTrailers(s: string): string {
  let end = s.length;
  for (;;) {
    if (end > 0 && isWsp(s[end - 1])) end--;
    else if (end >= 5 && s.slice(end - 5, end).toLowerCase() === '(fwd)') end -= 5;
    else break;
  }
  return s.slice(0, end);
}

export function baseSubject(rawSubject: string): string {
  // (1) decode, collapse whitespace
  let s = decodeEncodedWords(rawSubject).replace(/[\t\r\n ]+/g, ' ');
  for (;;) {
    s = stripTrailers(s);
    // (3)-(5): leaders and blobs, until nothing changes
    for (;;) {
      const lead = leaderEnd(s);
      if (lead > 0) {
        s = s.slice(lead);
        continue;
      }
      const b = blobEnd(s, 0);
      if (b !== -1 && b < s.length) {
        s = s.slice(b);
        continue;
      }
      break;
    }
    // (6) "[fwd:" ... "]"
    if (s.length >= 6 && s.slice(0, 5).toLowerCase() === '[fwd:' && s.endsWith(']')) {
      s = s.slice(5, -1);
      continue;
    }
    return s.trim();
  }
}
