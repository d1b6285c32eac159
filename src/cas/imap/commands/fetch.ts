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
import { FETCH_META_BATCH_SIZE } from '../server-limits.js';
import type { SessionLogin } from '../session.js';

interface FetchArguments {
  readonly set: SequenceSet;
  readonly request: FetchRequest;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const EMPTY = Buffer.alloc(0);

/** date-time = DQUOTE date-day-fixed "-" date-month "-" date-year SP time SP zone DQUOTE */
export function formatInternalDate(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, '0');
  const day = String(d.getUTCDate()).padStart(2, ' ');
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

/** Streams one byte range of a stored message as a literal. */
class MessageWriter {
  private tree: MimePart | null = null;
  /** `NAME value` of items without literals, sent together in one write. */
  private pending: string[] = [];

  constructor(
    private readonly login: SessionLogin,
    private readonly folderId: number,
    private readonly meta: MessageMeta,
    private readonly response: FetchResponseBuilder,
  ) {}

  private mimeTree(): MimePart {
    if (this.tree === null) {
      if (this.meta.mime === undefined || this.meta.mime === null) throw new Error(`message ${this.meta.uid} has no MIME tree`);
      this.tree = expandMime(this.meta.mime as CompactPart);
    }
    return this.tree;
  }

  private simple(name: string, value: string): void {
    this.pending.push(`${name} ${value}`);
  }

  /** Writes the queued items without literals. */
  async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const text = this.pending.join(' ');
    this.pending = [];
    const space = text.indexOf(' ');
    await this.response.item(text.slice(0, space), text.slice(space + 1));
  }

  private async literal(name: string, size: number, source: Buffer | AsyncIterable<Buffer>): Promise<void> {
    await this.flush();
    await this.response.literal(name, size, source);
  }

  async range(name: string, range: ByteRange, partial?: { start: number; length: number }): Promise<void> {
    let start = range.start;
    let end = Math.min(range.end, this.meta.size);
    if (partial !== undefined) {
      start = Math.min(end, start + partial.start);
      end = Math.min(end, start + partial.length);
    }
    if (end <= start) {
      await this.literal(name, 0, EMPTY);
      return;
    }
    await this.flush();
    const { stream } = await this.login.client.readMessage({ session: this.login.token, folderId: this.folderId, uid: this.meta.uid, start, end });
    await this.literal(name, end - start, stream);
  }

  async buffer(range: ByteRange): Promise<Buffer> {
    if (range.end <= range.start) return EMPTY;
    return this.login.client.readMessageBuffer({ session: this.login.token, folderId: this.folderId, uid: this.meta.uid, start: range.start, end: range.end });
  }

  async item(item: FetchItem): Promise<void> {
    const meta = this.meta;
    switch (item.kind) {
      case 'UID':
        return this.simple('UID', String(meta.uid));
      case 'FLAGS':
        return this.simple('FLAGS', `(${meta.flags.join(' ')})`);
      case 'INTERNALDATE':
        return this.simple('INTERNALDATE', formatInternalDate(meta.internalDate));
      case 'RFC822.SIZE':
        return this.simple('RFC822.SIZE', String(meta.size));
      case 'MODSEQ':
        return this.simple('MODSEQ', `(${meta.modseq})`);
      case 'ENVELOPE':
        return this.simple('ENVELOPE', requireMeta(meta.envelope, 'ENVELOPE', meta.uid));
      case 'BODYSTRUCTURE':
        return this.simple('BODYSTRUCTURE', requireMeta(meta.bodyStructure, 'BODYSTRUCTURE', meta.uid));
      case 'BODY':
        return this.simple('BODY', requireMeta(meta.body, 'BODY', meta.uid));
      case 'RFC822':
        return this.range('RFC822', { start: 0, end: meta.size });
      case 'RFC822.HEADER':
        return this.range('RFC822.HEADER', resolveSection(this.mimeTree(), { part: [], kind: 'HEADER' })!);
      case 'RFC822.TEXT':
        return this.range('RFC822.TEXT', resolveSection(this.mimeTree(), { part: [], kind: 'TEXT' })!);
      case 'BODY[]': {
        const { section, partial } = item;
        if (section.part.length === 0 && section.kind === '') return this.range(item.responseName, { start: 0, end: meta.size }, partial);
        const range = resolveSection(this.mimeTree(), { part: [...section.part], kind: section.kind });
        if (range === null) return this.simple(item.responseName, 'NIL'); // no such part
        if (section.kind === 'HEADER.FIELDS' || section.kind === 'HEADER.FIELDS.NOT') {
          let bytes = filterHeaderFields(await this.buffer(range), [...(section.fields ?? [])], section.kind === 'HEADER.FIELDS.NOT');
          if (partial !== undefined) bytes = bytes.subarray(Math.min(bytes.length, partial.start), Math.min(bytes.length, partial.start + partial.length));
          return this.literal(item.responseName, bytes.length, bytes);
        }
        return this.range(item.responseName, range, partial);
      }
      case 'BINARY[]':
      case 'BINARY.SIZE':
        throw new Error('BINARY reached the FETCH handler');
    }
  }
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
    let indexes = mailbox.resolve(set, isUid);
    if (request.changedSince !== undefined) {
      const since = Number(request.changedSince);
      indexes = indexes.filter((index) => (mailbox.modseqs[index] ?? 0) > since);
    }
    if (folder === null || indexes.length === 0) return okOutcome('Fetch completed.');
    const login = session.requireLogin();
    const fields = metaFieldsFor(request.items);
    const loadBatch = (from: number) =>
      login.client.fetchMeta({
        session: login.token,
        folderId: folder.id,
        uids: indexes.slice(from, from + FETCH_META_BATCH_SIZE).map((index) => mailbox.uids[index]!),
        fields,
      });
    let next: Promise<MessageMeta[]> | null = loadBatch(0);
    for (let from = 0; from < indexes.length; from += FETCH_META_BATCH_SIZE) {
      const batch = await next!;
      // Ask for the next batch while this one is written.
      next = from + FETCH_META_BATCH_SIZE < indexes.length ? loadBatch(from + FETCH_META_BATCH_SIZE) : null;
      next?.catch(() => {}); // a failure is reported when awaited
      for (const meta of batch) {
        const sequence = mailbox.sequenceOf(meta.uid);
        if (sequence === 0) continue; // expunged since the client last heard of it
        const response = await session.writer.fetch(sequence);
        const writer = new MessageWriter(login, folder.id, meta, response);
        try {
          for (const item of request.items) await writer.item(item);
          await writer.flush();
        } catch (error) {
          // The response must still be well-formed; the error then reaches the boundary.
          await response.end().catch(() => response.abandon());
          throw error;
        }
        await response.end();
      }
    }
    return okOutcome('Fetch completed.');
  },
});
