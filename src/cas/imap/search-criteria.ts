/**
 * Translates a parsed SEARCH key tree into the instance's `SearchCriterion`.
 *
 * Sequence numbers become UID ranges against the selected mailbox's map; `\Recent`, NEW and OLD
 * are answered here (nothing in an archive is ever recent: RECENT matches nothing, OLD everything).
 */
import type { SearchCriterion } from '../../instance/api.js';
import type { SearchDate, SearchKey } from './protocol/index.js';
import type { SelectedMailbox } from './selected-mailbox.js';

const NOTHING: SearchCriterion = { key: 'not', of: { key: 'all' } };
const EVERYTHING: SearchCriterion = { key: 'all' };

const HEADER_KEYS = new Set(['from', 'to', 'cc', 'bcc', 'subject']);

function day(date: SearchDate): string {
  return `${String(date.year).padStart(4, '0')}-${String(date.month).padStart(2, '0')}-${String(date.day).padStart(2, '0')}`;
}

function uidRanges(mailbox: SelectedMailbox, indexes: readonly number[]): [number, number][] {
  // Consecutive indexes form one UID range: no UID between two neighbours is in the map.
  const ranges: [number, number][] = [];
  let k = 0;
  while (k < indexes.length) {
    const first = indexes[k]!;
    let last = first;
    while (k + 1 < indexes.length && indexes[k + 1] === last + 1) last = indexes[++k]!;
    ranges.push([mailbox.uids[first]!, mailbox.uids[last]!]);
    k++;
  }
  return ranges;
}

export function toSearchCriterion(key: SearchKey, mailbox: SelectedMailbox): SearchCriterion {
  switch (key.type) {
    case 'all':
      return EVERYTHING;
    case 'flag':
      if (key.flag === '\\Recent') return key.isSet ? NOTHING : EVERYTHING;
      return { key: 'flag', flag: key.flag, set: key.isSet };
    case 'keyword':
      return { key: 'flag', flag: key.keyword, set: key.isSet };
    case 'header':
      if (HEADER_KEYS.has(key.field)) return { key: key.field as 'from', value: key.value };
      return { key: 'header', name: key.field, value: key.value };
    case 'body':
      return { key: 'body', value: key.value };
    case 'text':
      return { key: 'text', value: key.value };
    case 'internal-date':
      return { key: key.comparison, date: day(key.date), which: 'internal' };
    case 'sent-date':
      return { key: key.comparison, date: day(key.date), which: 'sent' };
    case 'size':
      return { key: key.comparison, size: key.bytes };
    case 'sequence':
    case 'uid': {
      const ranges = uidRanges(mailbox, mailbox.resolve(key.set, key.type === 'uid'));
      return ranges.length === 0 ? NOTHING : { key: 'uid', ranges };
    }
    case 'modseq':
      return { key: 'modseq', modseq: Number(key.modSeq) };
    case 'not':
      return { key: 'not', of: toSearchCriterion(key.key, mailbox) };
    case 'or':
      return { key: 'or', a: toSearchCriterion(key.left, mailbox), b: toSearchCriterion(key.right, mailbox) };
    case 'and':
      return { key: 'and', of: key.keys.map((k) => toSearchCriterion(k, mailbox)) };
  }
}
