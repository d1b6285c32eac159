/**
 * One message's FETCH response (used by commands/fetch.ts): the byte range each item reads, and
 * the writer that composes the response whole into the command's WireBuilder when every item is
 * metadata or a small range, or writes it item by item, streaming large literals with backpressure.
 */
import type { ImapText, MessageMeta } from '../../instance/api.js';
import { expandMime, type CompactPart } from '../../instance/mime-compact.js';
import { filterHeaderFields, resolveSection, type ByteRange, type MimePart } from '../../common/mime/index.js';
import type { FetchItem, FetchResponseBuilder, ResponseWriter, WireBuilder } from './protocol/index.js';
import { BODY_BATCH_RANGE_BYTES } from './server-limits.js';
import type { BodyReader } from './body-reader.js';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const EMPTY = Buffer.alloc(0);

/** date-time = DQUOTE date-day-fixed "-" date-month "-" date-year SP time SP zone DQUOTE */
export function formatInternalDate(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, '0');
  // date-day-fixed allows " 1" and "01"; Dovecot sends "01".
  const day = pad(d.getUTCDate());
  return `"${day}-${MONTHS[d.getUTCMonth()]}-${d.getUTCFullYear()} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000"`;
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
export class MessageWriter {
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
export function isBodyItem(item: FetchItem): boolean {
  return item.kind === 'BODY[]' || item.kind === 'RFC822' || item.kind === 'RFC822.HEADER' || item.kind === 'RFC822.TEXT';
}

function requireMeta(value: ImapText | undefined, name: string, uid: number): ImapText {
  if (typeof value !== 'string' && !Buffer.isBuffer(value)) throw new Error(`message ${uid} has no ${name}`);
  return value;
}
