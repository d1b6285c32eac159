/**
 * FETCH and UID FETCH (RFC 3501 §6.4.5, §6.4.8, a flag), with CHANGEDSINCE (RFC 7162 §3.1.4).
 *
 * Metadata comes from the instance in batches (the next batch is requested while the current one
 * is written); each message is written as one response through the connection's writer, which
 * waits for the client to drain; bodies and sections stream from the instance as exact-size
 * literals. Nothing here sets `\Seen`: the archive is read-only, so `BODY[]` acts as `BODY.PEEK[]`.
 */
import type { MessageMeta, MetaField } from '../../../instance/api.js';
import { expandMime, type CompactPart } from '../../../instance/mime-compact.js';
import { filterHeaderFields, resolveSection, type ByteRange, type MimePart } from '../../../common/mime/index.js';
import { SELECTED, defineCommand, okOutcome } from '../command-spec.js';
import {
  badSyntax,
  fail,
  ok,
  parseFetchItems,
  sequenceSetFromToken,
  type FetchItem,
  type FetchRequest,
  type FetchResponseBuilder,
  type ParseResult,
  type SequenceSet,
  type Token,
} from '../protocol/index.js';
import { BODY_READ_AHEAD_BYTES, BODY_READ_AHEAD_MESSAGES, FETCH_META_BATCH_SIZE } from '../server-limits.js';
import { BodyReader } from '../body-reader.js';
import type { SessionLogin } from '../session.js';

interface FetchArguments {
  readonly set: SequenceSet;
  readonly request: FetchRequest;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const EMPTY = Buffer.alloc(0);
/** Metadata-only FETCH responses written together (one buffer, one lock) during a header sync. */
const UNTAGGED_LINES_PER_WRITE = 128;

/** date-time = DQUOTE date-day-fixed "-" date-month "-" date-year SP time SP zone DQUOTE */
export function formatInternalDate(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, '0');
  // date-day-fixed allows " 1" and "01"; Dovecot sends "01".
  const day = pad(d.getUTCDate());
  return `"${day}-${MONTHS[d.getUTCMonth()]}-${d.getUTCFullYear()} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000"`;
}

function parseFetch(args: readonly Token[], isUid: boolean): ParseResult<FetchArguments> {
  const set = sequenceSetFromToken(args[0]);
  if (!set.ok) return set;
  const request = parseFetchItems(args.slice(1), { isUid });
  if (!request.ok) return request;
  if (request.value.isVanishedRequested) return fail(badSyntax('VANISHED needs QRESYNC, which is not enabled'));
  for (const item of request.value.items) {
    if (item.kind === 'BINARY[]' || item.kind === 'BINARY.SIZE') return fail(badSyntax('BINARY is not supported'));
  }
  return ok({ set: set.value, request: request.value });
}

/** The instance metadata fields a request needs. */
function metaFieldsFor(items: readonly FetchItem[]): MetaField[] {
  const fields = new Set<MetaField>();
  for (const item of items) {
    if (item.kind === 'ENVELOPE') fields.add('envelope');
    else if (item.kind === 'BODYSTRUCTURE') fields.add('bodyStructure');
    else if (item.kind === 'BODY') fields.add('body');
    else if (item.kind === 'RFC822.HEADER' || item.kind === 'RFC822.TEXT') fields.add('mime');
    else if (item.kind === 'BODY[]' && (item.section.part.length > 0 || item.section.kind !== '')) fields.add('mime');
  }
  return [...fields];
}

/** The stored bytes an item needs, before HEADER.FIELDS filtering; null when it reads nothing. */
function itemRange(item: FetchItem, meta: MessageMeta, tree: () => MimePart): ByteRange | null {
  let range: ByteRange | null;
  let partial: { start: number; length: number } | undefined;
  switch (item.kind) {
    case 'RFC822':
      range = { start: 0, end: meta.size };
      break;
    case 'RFC822.HEADER':
      range = resolveSection(tree(), { part: [], kind: 'HEADER' });
      break;
    case 'RFC822.TEXT':
      range = resolveSection(tree(), { part: [], kind: 'TEXT' });
      break;
    case 'BODY[]': {
      const { section } = item;
      range = section.part.length === 0 && section.kind === '' ? { start: 0, end: meta.size } : resolveSection(tree(), { part: [...section.part], kind: section.kind });
      // HEADER.FIELDS: the partial range applies to the filtered text, not the stored bytes.
      if (section.kind !== 'HEADER.FIELDS' && section.kind !== 'HEADER.FIELDS.NOT') partial = item.partial;
      break;
    }
    default:
      return null;
  }
  if (range === null) return null;
  let start = range.start;
  let end = Math.min(range.end, meta.size);
  if (partial !== undefined) {
    start = Math.min(end, start + partial.start);
    end = Math.min(end, start + partial.length);
  }
  return { start, end: Math.max(start, end) };
}

/** Writes one message's FETCH response. */
class MessageWriter {
  private tree: MimePart | null = null;
  /** `NAME value` of items without literals, sent together in one write. */
  private pending: string[] = [];
  readonly mimeTree = (): MimePart => {
    if (this.tree === null) {
      if (this.meta.mime === undefined || this.meta.mime === null) throw new Error(`message ${this.meta.uid} has no MIME tree`);
      this.tree = expandMime(this.meta.mime as CompactPart);
    }
    return this.tree;
  };

  constructor(
    private readonly bodies: BodyReader,
    private readonly meta: MessageMeta,
    private readonly response: FetchResponseBuilder | null,
  ) {}

  /** Starts reading every range this message's items need. */
  prefetch(items: readonly FetchItem[]): void {
    for (const item of items) {
      const range = itemRange(item, this.meta, this.mimeTree);
      if (range !== null && range.end > range.start) this.bodies.prefetch(this.meta.uid, range);
    }
  }

  private simple(name: string, value: string): void {
    this.pending.push(`${name} ${value}`);
  }

  /** Takes the queued items without literals as one string. */
  takePending(): string {
    const text = this.pending.join(' ');
    this.pending = [];
    return text;
  }

  /** Writes the queued items without literals. */
  async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const text = this.pending.join(' ');
    this.pending = [];
    const space = text.indexOf(' ');
    await this.response!.item(text.slice(0, space), text.slice(space + 1));
  }

  private async literal(name: string, size: number, source: Buffer | AsyncIterable<Buffer>): Promise<void> {
    await this.flush();
    await this.response!.literal(name, size, source);
  }

  private async streamRange(name: string, range: ByteRange): Promise<void> {
    if (range.end <= range.start) {
      await this.literal(name, 0, EMPTY);
      return;
    }
    await this.flush();
    const { stream } = await this.bodies.open(this.meta.uid, range);
    try {
      await this.literal(name, range.end - range.start, stream);
    } finally {
      // A stream left unread (client gone, source longer than announced) would hold the
      // instance's send window open; destroying an ended stream does nothing.
      (stream as { destroy?: () => void }).destroy?.();
    }
  }

  /** Queues an item that needs no message bytes; false for the others (sent by `item`). */
  simpleItem(item: FetchItem): boolean {
    const meta = this.meta;
    switch (item.kind) {
      case 'UID': this.simple('UID', String(meta.uid)); return true;
      case 'FLAGS': this.simple('FLAGS', `(${meta.flags.join(' ')})`); return true;
      case 'INTERNALDATE': this.simple('INTERNALDATE', formatInternalDate(meta.internalDate)); return true;
      case 'RFC822.SIZE': this.simple('RFC822.SIZE', String(meta.size)); return true;
      case 'MODSEQ': this.simple('MODSEQ', `(${meta.modseq})`); return true;
      case 'ENVELOPE': this.simple('ENVELOPE', requireMeta(meta.envelope, 'ENVELOPE', meta.uid)); return true;
      case 'BODYSTRUCTURE': this.simple('BODYSTRUCTURE', requireMeta(meta.bodyStructure, 'BODYSTRUCTURE', meta.uid)); return true;
      case 'BODY': this.simple('BODY', requireMeta(meta.body, 'BODY', meta.uid)); return true;
      default: return false;
    }
  }

  async item(item: FetchItem): Promise<void> {
    const meta = this.meta;
    if (this.simpleItem(item)) return;
    switch (item.kind) {
      case 'UID': case 'FLAGS': case 'INTERNALDATE': case 'RFC822.SIZE': case 'MODSEQ': case 'ENVELOPE': case 'BODYSTRUCTURE': case 'BODY':
        return;
      case 'RFC822':
      case 'RFC822.HEADER':
      case 'RFC822.TEXT':
        return this.streamRange(item.kind, itemRange(item, meta, this.mimeTree)!);
      case 'BODY[]': {
        const range = itemRange(item, meta, this.mimeTree);
        // No such part: an empty string, as Dovecot sends it (clients treat it as empty content).
        if (range === null) return this.literal(item.responseName, 0, EMPTY);
        const { section, partial } = item;
        if (section.kind === 'HEADER.FIELDS' || section.kind === 'HEADER.FIELDS.NOT') {
          let bytes = filterHeaderFields(await this.bodies.buffer(meta.uid, range), [...(section.fields ?? [])], section.kind === 'HEADER.FIELDS.NOT');
          if (partial !== undefined) bytes = bytes.subarray(Math.min(bytes.length, partial.start), Math.min(bytes.length, partial.start + partial.length));
          return this.literal(item.responseName, bytes.length, bytes);
        }
        return this.streamRange(item.responseName, range);
      }
      case 'BINARY[]':
      case 'BINARY.SIZE':
        throw new Error('BINARY reached the FETCH handler');
    }
  }
}

/** True for items answered with a literal read from the stored message. */
function isBodyItem(item: FetchItem): boolean {
  return item.kind === 'BODY[]' || item.kind === 'RFC822' || item.kind === 'RFC822.HEADER' || item.kind === 'RFC822.TEXT';
}

/**
 * Dovecot's order: for UID FETCH the UID first; then the cheap items (FLAGS, UID, INTERNALDATE,
 * RFC822.SIZE, MODSEQ), then ENVELOPE and the body structures, then message data — each group in
 * the order requested.
 */
function inResponseOrder(items: readonly FetchItem[], isUid: boolean): FetchItem[] {
  const rank = (item: FetchItem) => {
    if (item.kind === 'UID') return isUid ? 0 : 1;
    if (isBodyItem(item)) return 3;
    return item.kind === 'ENVELOPE' || item.kind === 'BODY' || item.kind === 'BODYSTRUCTURE' ? 2 : 1;
  };
  return [...items].sort((a, b) => rank(a) - rank(b));
}

function requireMeta(value: string | undefined, name: string, uid: number): string {
  if (typeof value !== 'string') throw new Error(`message ${uid} has no ${name}`);
  return value;
}

export const fetchCommand = defineCommand({
  name: 'FETCH',
  states: SELECTED,
  allowsUid: true,
  parse: (args, { isUid }) => parseFetch(args, isUid),
  async handler({ session, isUid }, { set, request }: FetchArguments) {
    const mailbox = session.selected!;
    const folder = mailbox.entry.folder;
    if (request.changedSince !== undefined || request.items.some((item) => item.kind === 'MODSEQ')) session.enableCondstore();
    // Solicited FETCH FLAGS carry no MODSEQ unless asked, CONDSTORE enabled or not (as Dovecot);
    // flags never change in the archive, so there are no unsolicited FETCH responses to tag.
    const items = inResponseOrder(request.items, isUid);
    let indexes = mailbox.resolve(set, isUid);
    if (request.changedSince !== undefined) {
      const since = Number(request.changedSince);
      indexes = indexes.filter((index) => (mailbox.modseqs[index] ?? 0) > since);
    }
    if (folder === null || indexes.length === 0) return okOutcome('Fetch completed.');
    const login = session.requireLogin();
    const fields = metaFieldsFor(items);
    const loadBatch = (from: number) =>
      login.client.fetchMeta({
        session: login.token,
        folderId: folder.id,
        uids: indexes.slice(from, from + FETCH_META_BATCH_SIZE).map((index) => mailbox.uids[index]!),
        fields,
      });
    const bodies = new BodyReader(login, folder.id);
    const readsBodies = items.some(isBodyItem);
    let next: Promise<MessageMeta[]> | null = loadBatch(0);
    const lines: string[] = [];
    const flushLines = async () => {
      if (lines.length === 0) return;
      const batch = lines.splice(0, lines.length);
      await session.writer.untaggedLines(batch);
    };
    try {
      for (let from = 0; from < indexes.length; from += FETCH_META_BATCH_SIZE) {
        const batch = await next!;
        // Ask for the next batch while this one is written.
        next = from + FETCH_META_BATCH_SIZE < indexes.length ? loadBatch(from + FETCH_META_BATCH_SIZE) : null;
        next?.catch(() => {}); // a failure is reported when awaited
        let aheadIndex = 0;
        let aheadBytes = 0;
        for (let k = 0; k < batch.length; k++) {
          const meta = batch[k]!;
          if (readsBodies) {
            // Keep a few messages' reads in flight (each costs the instance a round trip), bounded
            // in count and in bytes; the message about to be written is always requested.
            if (aheadIndex <= k) {
              aheadIndex = k;
              aheadBytes = 0;
            }
            // Refill when half the window has been written, so reads go out in batches.
            const low = aheadIndex === k || (aheadIndex - k <= BODY_READ_AHEAD_MESSAGES / 2 && aheadBytes <= BODY_READ_AHEAD_BYTES / 2);
            while (
              low &&
              aheadIndex < batch.length &&
              (aheadIndex === k || (aheadIndex - k < BODY_READ_AHEAD_MESSAGES && aheadBytes + batch[aheadIndex]!.size <= BODY_READ_AHEAD_BYTES))
            ) {
              new MessageWriter(bodies, batch[aheadIndex]!, null).prefetch(items);
              aheadBytes += batch[aheadIndex]!.size;
              aheadIndex++;
            }
            aheadBytes -= meta.size;
          }
          const sequence = mailbox.sequenceOf(meta.uid);
          if (sequence === 0) continue; // expunged since the client last heard of it
          if (!readsBodies) {
            // Metadata only: responses are collected and written many at a time, unless a
            // pre-serialised value holds a literal (CR/LF), which only the builder may send.
            const collector = new MessageWriter(bodies, meta, null);
            for (const item of items) collector.simpleItem(item);
            const text = collector.takePending();
            if (!/[\r\n\0]/.test(text)) {
              lines.push(`${sequence} FETCH (${text})`);
              if (lines.length >= UNTAGGED_LINES_PER_WRITE) await flushLines();
              continue;
            }
          }
          await flushLines();
          const response = await session.writer.fetch(sequence);
          const writer = new MessageWriter(bodies, meta, response);
          try {
            for (const item of items) await writer.item(item);
            await writer.flush();
          } catch (error) {
            // The response must still be well-formed; the error then reaches the boundary.
            await response.end().catch(() => response.abandon());
            throw error;
          }
          await response.end();
        }
      }
      await flushLines();
    } finally {
      bodies.dispose();
    }
    return okOutcome('Fetch completed.');
  },
});
