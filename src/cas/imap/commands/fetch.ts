/**
 * FETCH and UID FETCH (RFC 3501 §6.4.5, §6.4.8, a flag), with CHANGEDSINCE (RFC 7162 §3.1.4).
 *
 * Metadata comes from the instance in batches (the next batch is requested while the current one
 * is written); each message is written as one response through the connection's writer, which
 * waits for the client to drain; bodies and sections stream from the instance as exact-size
 * literals. Nothing here sets `\Seen`: the archive is read-only, so `BODY[]` acts as `BODY.PEEK[]`.
 */
import type { ImapText, MessageMeta, MetaField } from '../../../instance/api.js';
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
  type ResponseWriter,
  WireBuilder,
  type SequenceSet,
  type Token,
} from '../protocol/index.js';
import { BODY_BATCH_RANGE_BYTES, BODY_READ_AHEAD_BYTES, BODY_READ_AHEAD_MESSAGES, FETCH_META_BATCH_SIZE } from '../server-limits.js';
import { BodyReader } from '../body-reader.js';
import type { SessionLogin } from '../session.js';

interface FetchArguments {
  readonly set: SequenceSet;
  readonly request: FetchRequest;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const EMPTY = Buffer.alloc(0);
/** Composed responses (metadata, small messages) written together once they reach this size. */
const COMPOSED_BYTES_PER_WRITE = 128 * 1024;

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

/**
 * Writes one message's FETCH response: composed whole into the command's WireBuilder when every
 * item is metadata or a small range (read in a batch), or item by item through a
 * FetchResponseBuilder when a literal has to stream.
 */
class MessageWriter {
  private tree: MimePart | null = null;
  /** What goes before the next item in `out`. */
  private separator = '';
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
    private readonly out: WireBuilder,
  ) {}

  /** Starts reading every range this message's items need. */
  prefetch(items: readonly FetchItem[]): void {
    for (const item of items) {
      const range = itemRange(item, this.meta, this.mimeTree);
      if (range !== null && range.end > range.start) this.bodies.prefetch(this.meta.uid, range);
    }
  }

  /** Text gathered for `out`: written in one piece when bytes follow or the response ends. */
  private text = '';

  private name(name: string): void {
    this.text += `${this.separator}${name} `;
    this.separator = ' ';
  }

  private bytes(value: ImapText): void {
    if (typeof value === 'string') {
      this.text += value;
      return;
    }
    this.out.text(this.text).bytes(value);
    this.text = '';
  }

  /** Moves the gathered text into `out`. */
  private settle(): void {
    if (this.text === '') return;
    this.out.text(this.text);
    this.text = '';
  }

  /** Appends an item that needs no message bytes; false for the others. */
  private simpleItem(item: FetchItem): boolean {
    const meta = this.meta;
    switch (item.kind) {
      case 'UID': this.name('UID'); this.text += meta.uid; return true;
      case 'FLAGS': this.name('FLAGS'); this.text += `(${meta.flags.join(' ')})`; return true;
      case 'INTERNALDATE': this.name('INTERNALDATE'); this.text += formatInternalDate(meta.internalDate); return true;
      case 'RFC822.SIZE': this.name('RFC822.SIZE'); this.text += meta.size; return true;
      case 'MODSEQ': this.name('MODSEQ'); this.text += `(${meta.modseq})`; return true;
      case 'ENVELOPE': this.name('ENVELOPE'); this.bytes(requireMeta(meta.envelope, 'ENVELOPE', meta.uid)); return true;
      case 'BODYSTRUCTURE': this.name('BODYSTRUCTURE'); this.bytes(requireMeta(meta.bodyStructure, 'BODYSTRUCTURE', meta.uid)); return true;
      case 'BODY': this.name('BODY'); this.bytes(requireMeta(meta.body, 'BODY', meta.uid)); return true;
      default: return false;
    }
  }

  /** True when every item comes from metadata or a range small enough to be read whole (in a batch). */
  composable(items: readonly FetchItem[]): boolean {
    for (const item of items) {
      if (!isBodyItem(item)) continue;
      const range = itemRange(item, this.meta, this.mimeTree);
      if (range !== null && range.end - range.start > BODY_BATCH_RANGE_BYTES) return false;
    }
    return true;
  }

  /** True when `compose` will not wait for the instance: every range it reads has arrived. */
  isReady(items: readonly FetchItem[]): boolean {
    for (const item of items) {
      if (!isBodyItem(item)) continue;
      const range = itemRange(item, this.meta, this.mimeTree);
      if (range !== null && range.end > range.start && !this.bodies.isReady(this.meta.uid, range)) return false;
    }
    return true;
  }

  /**
   * Appends the whole `* n FETCH (...)` response of a `composable` message, without waiting, when
   * every range it reads has arrived (`isReady`); false otherwise (then `compose`).
   */
  composeReady(sequence: number, items: readonly FetchItem[], writer: ResponseWriter): boolean {
    if (!this.isReady(items)) return false;
    const literals: Literal[] = [];
    for (const item of items) {
      if (!isBodyItem(item)) continue;
      const range = itemRange(item, this.meta, this.mimeTree);
      const stored = range === null ? EMPTY : this.bodies.readyBytes(this.meta.uid, range);
      if (stored === undefined) throw new Error(`read of message ${this.meta.uid} was ready and is not`);
      literals.push(this.literal(item, range, stored));
    }
    this.bodies.release(this.meta.uid);
    this.composeNow(sequence, items, writer, literals);
    return true;
  }

  /** `composeReady` for a message whose reads are still on their way. */
  async compose(sequence: number, items: readonly FetchItem[], writer: ResponseWriter): Promise<void> {
    const literals: Literal[] = [];
    for (const item of items) if (isBodyItem(item)) literals.push(await this.literalOf(item));
    this.composeNow(sequence, items, writer, literals);
  }

  /** Appends the response from metadata and the body items' literals (in item order); on failure nothing of it stays in `out`. */
  composeNow(sequence: number, items: readonly FetchItem[], writer: ResponseWriter, literals: readonly Literal[] = []): void {
    const mark = this.out.length;
    let next = 0;
    try {
      this.text = `* ${sequence} FETCH (`;
      for (const item of items) {
        if (this.simpleItem(item)) continue;
        const literal = literals[next++];
        if (literal === undefined) throw new Error(`${item.kind} was not read`);
        this.name(literal.name);
        this.text += `{${literal.size}}\r\n`;
        this.bytes(writer.exactLiteral(literal.name, literal.size, literal.bytes));
      }
      this.text += ')\r\n';
      this.settle();
    } catch (error) {
      this.text = '';
      this.out.truncate(mark);
      throw error;
    }
  }

  /** A body item's literal from the stored bytes of its range: its response name, announced size and bytes. */
  private literal(item: FetchItem, range: ByteRange | null, stored: Buffer): Literal {
    if (item.kind === 'BODY[]') {
      if (range === null) return { name: item.responseName, size: 0, bytes: EMPTY };
      const { section, partial } = item;
      if (section.kind === 'HEADER.FIELDS' || section.kind === 'HEADER.FIELDS.NOT') {
        let bytes = filterHeaderFields(stored, [...(section.fields ?? [])], section.kind === 'HEADER.FIELDS.NOT');
        if (partial !== undefined) bytes = bytes.subarray(Math.min(bytes.length, partial.start), Math.min(bytes.length, partial.start + partial.length));
        return { name: item.responseName, size: bytes.length, bytes };
      }
      return { name: item.responseName, size: range.end - range.start, bytes: stored };
    }
    if (range === null) throw new Error(`${item.kind} has no byte range`);
    return { name: item.kind, size: range.end - range.start, bytes: stored };
  }

  /** A body item's literal read whole. */
  private async literalOf(item: FetchItem): Promise<Literal> {
    const range = itemRange(item, this.meta, this.mimeTree);
    return this.literal(item, range, range === null ? EMPTY : await this.bodies.buffer(this.meta.uid, range));
  }

  /**
   * Writes the response item by item through `response`, streaming large literals with
   * backpressure; items without literals go out together.
   */
  async stream(items: readonly FetchItem[], response: FetchResponseBuilder): Promise<void> {
    for (const item of items) {
      if (this.simpleItem(item)) continue;
      await this.flushTo(response);
      if (item.kind === 'BODY[]' && (item.section.kind === 'HEADER.FIELDS' || item.section.kind === 'HEADER.FIELDS.NOT' || itemRange(item, this.meta, this.mimeTree) === null)) {
        const literal = await this.literalOf(item);
        await response.literal(literal.name, literal.size, literal.bytes);
        continue;
      }
      const range = itemRange(item, this.meta, this.mimeTree)!;
      await this.streamRange(item.kind === 'BODY[]' ? item.responseName : item.kind, range, response);
    }
    await this.flushTo(response);
  }

  /** Sends the items gathered in `out` (the builder's own separator goes before them). */
  private async flushTo(response: FetchResponseBuilder): Promise<void> {
    this.settle();
    this.separator = '';
    if (this.out.length > 0) await response.items(this.out.takeOne());
  }

  private async streamRange(name: string, range: ByteRange, response: FetchResponseBuilder): Promise<void> {
    if (range.end <= range.start) {
      await response.literal(name, 0, EMPTY);
      return;
    }
    const { stream } = await this.bodies.open(this.meta.uid, range);
    try {
      await response.literal(name, range.end - range.start, stream);
    } finally {
      // A stream left unread (client gone, source longer than announced) would hold the
      // instance's send window open; destroying an ended stream does nothing.
      (stream as { destroy?: () => void }).destroy?.();
    }
  }
}

interface Literal { name: string; size: number; bytes: Buffer }

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

function requireMeta(value: ImapText | undefined, name: string, uid: number): ImapText {
  if (typeof value !== 'string' && !Buffer.isBuffer(value)) throw new Error(`message ${uid} has no ${name}`);
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
    // Composed responses wait here and go out together, by the write.
    const out = new WireBuilder();
    const send = async () => {
      if (out.length > 0) await session.writer.responses(out.take());
    };
    try {
      // Body reads run ahead of the message being written, on into the next metadata batch once it
      // has arrived, so the instance never waits at a batch boundary.
      let upcoming: MessageMeta[] | null = null;
      let aheadIndex = 0;
      let aheadBytes = 0;
      for (let from = 0; from < indexes.length; from += FETCH_META_BATCH_SIZE) {
        const batch = await next!;
        // Ask for the next batch while this one is written.
        next = from + FETCH_META_BATCH_SIZE < indexes.length ? loadBatch(from + FETCH_META_BATCH_SIZE) : null;
        upcoming = null;
        next?.then((loaded) => { upcoming = loaded; }, () => {}); // a failure is reported when awaited
        const metaAt = (i: number): MessageMeta | undefined => (i < batch.length ? batch[i] : upcoming?.[i - batch.length]);
        for (let k = 0; k < batch.length; k++) {
          const meta = batch[k]!;
          if (readsBodies) {
            // Keep messages' reads in flight (each batch of them costs the instance a round trip),
            // bounded in count and in bytes; the message about to be written is always requested.
            if (aheadIndex <= k) {
              aheadIndex = k;
              aheadBytes = 0;
            }
            // Refill when half the window has been written, so reads go out in batches.
            const low = aheadIndex === k || (aheadIndex - k <= BODY_READ_AHEAD_MESSAGES / 2 && aheadBytes <= BODY_READ_AHEAD_BYTES / 2);
            for (
              let ahead = metaAt(aheadIndex);
              low && ahead !== undefined && (aheadIndex === k || (aheadIndex - k < BODY_READ_AHEAD_MESSAGES && aheadBytes + ahead.size <= BODY_READ_AHEAD_BYTES));
              ahead = metaAt(aheadIndex)
            ) {
              new MessageWriter(bodies, ahead, out).prefetch(items);
              aheadBytes += ahead.size;
              aheadIndex++;
            }
            aheadBytes -= meta.size;
          }
          const sequence = mailbox.sequenceOf(meta.uid);
          if (sequence === 0) continue; // expunged since the client last heard of it
          const writer = new MessageWriter(bodies, meta, out);
          if (!readsBodies) {
            writer.composeNow(sequence, items, session.writer);
            if (out.length >= COMPOSED_BYTES_PER_WRITE) await send();
            continue;
          }
          if (writer.composable(items)) {
            // Small messages: the response is built whole and sent with its neighbours; what is
            // built is sent before waiting for the instance, so the client never waits on it.
            if (!writer.composeReady(sequence, items, session.writer)) {
              await send();
              await writer.compose(sequence, items, session.writer);
            }
            if (out.length >= COMPOSED_BYTES_PER_WRITE) await send();
            continue;
          }
          await send();
          const response = await session.writer.fetch(sequence);
          try {
            await writer.stream(items, response);
          } catch (error) {
            // The response must still be well-formed; the error then reaches the boundary.
            out.take();
            await response.end().catch(() => response.abandon());
            throw error;
          }
          await response.end();
        }
        aheadIndex = Math.max(0, aheadIndex - batch.length);
      }
      await send();
    } catch (error) {
      // What was composed before the failure is still the client's.
      await send().catch(() => {});
      throw error;
    } finally {
      bodies.dispose();
    }
    return okOutcome('Fetch completed.');
  },
});
