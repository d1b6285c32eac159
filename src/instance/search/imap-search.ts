/**
 * IMAP SEARCH over one folder with RFC 3501 semantics: flags, dates, sizes and UIDs from the
 * metadata rows; strings as case-insensitive substrings, narrowed by the full-text index and
 * verified against the decoded message so answers equal a full scan's (what Dovecot does).
 */
import type { SearchCriterion } from '../api.js';
import type { Archive } from '../archive.js';
import type { ArchiveStore, StoredMessage } from '../store/store.js';
import { decodeHeaderValue, parseMessage } from '../../common/mime/index.js';
import { ftsRowids, substringCandidatesQuery, type Columns } from './fts-query.js';

interface Candidate { store: ArchiveStore; msg: StoredMessage; index: number }

/** Lazily decoded text of one message, shared by all keys of one search. */
class DecodedMessage {
  private raw?: Buffer;
  private parsed?: ReturnType<typeof parseMessage>;
  private headers?: string;
  private body?: string;
  constructor(private c: Candidate) {}
  private rawBytes(): Buffer { return (this.raw ??= this.c.store.readRaw(this.c.msg.sha256)); }
  headerBlock(): string {
    if (this.headers === undefined) {
      const parsed = this.parse();
      this.headers = decodeHeaderValue(this.rawBytes().subarray(parsed.root.headerStart, parsed.root.bodyStart)).toLowerCase();
      this.body = parsed.text.toLowerCase();
    }
    return this.headers;
  }
  private parse(): ReturnType<typeof parseMessage> { return (this.parsed ??= parseMessage(this.rawBytes())); }
  bodyText(): string { this.headerBlock(); return this.body!; }
  /** Values of one header field, unfolded and decoded. */
  headerField(name: string): string[] {
    const raw = this.rawBytes();
    const parsed = this.parse();
    const block = raw.subarray(parsed.root.headerStart, parsed.root.bodyStart).toString('latin1');
    const out: string[] = [];
    const re = /^([^:\r\n]+):([^\r\n]*(?:\r\n[ \t][^\r\n]*)*)/gm;
    for (const m of block.matchAll(re)) if (m[1]!.trim().toLowerCase() === name) out.push(decodeHeaderValue(Buffer.from(m[2]!, 'latin1')).toLowerCase());
    return out;
  }
}

function dayOf(ms: number): string { return new Date(ms).toISOString().slice(0, 10); }

/** RFC 3501 compares calendar days "disregarding time and timezone": the day as written in the message's own zone. */
function compareDay(ms: number | null, day: string, op: 'before' | 'on' | 'since', zoneMinutes = 0): boolean {
  if (ms === null) return false;
  const d = dayOf(ms + zoneMinutes * 60_000);
  return op === 'before' ? d < day : op === 'on' ? d === day : d >= day;
}

const FIELD_COLUMNS: Record<'text' | 'body' | 'subject' | 'from' | 'to' | 'cc' | 'bcc', Columns | null> = {
  text: null, body: ['body'], subject: ['subject'], from: ['addresses'], to: ['addresses'], cc: ['addresses'], bcc: ['addresses'],
};

export class ImapSearch {
  private candidates = new Map<string, Map<ArchiveStore, { ids: Set<number>; exact: boolean } | null>>();
  private decoded = new Map<number, DecodedMessage>();

  constructor(private archive: Archive, private messages: Candidate[]) {}

  run(criteria: SearchCriterion): number[] {
    return this.messages.filter((c) => this.test(criteria, c)).map((c) => c.msg.uid);
  }

  private dec(c: Candidate): DecodedMessage {
    let d = this.decoded.get(c.index);
    if (!d) { d = new DecodedMessage(c); this.decoded.set(c.index, d); }
    return d;
  }

  /** Index pre-filter: 'no' certainly no match, 'yes' certainly a match, 'maybe' read the message to tell. */
  private indexAnswer(c: Candidate, key: keyof typeof FIELD_COLUMNS, value: string): 'no' | 'yes' | 'maybe' {
    const ck = `${key}\u0000${value}`;
    let perStore = this.candidates.get(ck);
    if (!perStore) { perStore = new Map(); this.candidates.set(ck, perStore); }
    if (!perStore.has(c.store)) {
      const q = substringCandidatesQuery(c.store.index, value, FIELD_COLUMNS[key]);
      perStore.set(c.store, q === null ? null : { ids: ftsRowids(c.store.index, q.expr), exact: q.exact });
    }
    const hit = perStore.get(c.store)!;
    if (hit === null) return 'maybe';
    if (!hit.ids.has(c.msg.id)) return 'no';
    return hit.exact ? 'yes' : 'maybe';
  }

  private test(n: SearchCriterion, c: Candidate): boolean {
    const m = c.msg;
    switch (n.key) {
      case 'all': return true;
      case 'not': return !this.test(n.of, c);
      case 'or': return this.test(n.a, c) || this.test(n.b, c);
      case 'and': return n.of.every((x) => this.test(x, c));
      case 'uid': return n.ranges.some(([a, b]) => m.uid >= a && m.uid <= b);
      case 'flag': return m.flags.some((f) => f.toLowerCase() === n.flag.toLowerCase()) === n.set;
      case 'larger': return m.size > n.size;
      case 'smaller': return m.size < n.size;
      case 'modseq': return m.modseq >= n.modseq;
      case 'before': case 'on': case 'since':
        return n.which === 'internal' ? compareDay(m.internalDate, n.date, n.key) : compareDay(m.sentDate, n.date, n.key, m.sentZone);
      case 'subject': case 'from': case 'to': case 'cc': case 'bcc': {
        // Decoded header values are kept in the row at archive time, so these keys never touch content.
        const v = n.value.toLowerCase();
        if (n.key === 'subject' || n.key === 'from') {
          const field = n.key === 'subject' ? m.subject : m.from;
          if (v === '') return field !== '' || this.headerPresent(c, n.key);
          return field.toLowerCase().includes(v);
        }
        if (v === '') return this.headerPresent(c, n.key);
        if (this.indexAnswer(c, n.key, v) === 'no') return false;
        const meta = this.archive.imapMeta(c.store, m.id);
        return (n.key === 'to' ? meta.to : n.key === 'cc' ? meta.cc : meta.bcc).toLowerCase().includes(v);
      }
      case 'header': {
        const v = n.value.toLowerCase();
        const values = this.dec(c).headerField(n.name.toLowerCase());
        return v === '' ? values.length > 0 : values.some((h) => h.includes(v));
      }
      case 'body': case 'text': {
        const v = n.value.toLowerCase();
        if (v === '') return true;
        const answer = this.indexAnswer(c, n.key, v);
        if (answer !== 'maybe') return answer === 'yes';
        const d = this.dec(c);
        return d.bodyText().includes(v) || (n.key === 'text' && d.headerBlock().includes(v));
      }
    }
  }

  private headerPresent(c: Candidate, name: string): boolean { return this.dec(c).headerField(name).length > 0; }
}

export function searchFolder(archive: Archive, folderId: number, criteria: SearchCriterion): number[] {
  const messages = archive.folderMessages(folderId).map((x, i) => ({ ...x, index: i }));
  return new ImapSearch(archive, messages).run(criteria);
}

