/**
 * FETCH and UID FETCH (RFC 3501 §6.4.5, §6.4.8, a flag), with CHANGEDSINCE (RFC 7162 §3.1.4).
 *
 * Metadata comes from the instance in batches (the next batch is requested while the current one
 * is written), and body reads run ahead of the writing. Responses of metadata and small messages
 * are composed in place and written many at a time; a large literal streams from the instance with
 * backpressure (fetch-message.ts). Every literal is exactly the size it announces. Nothing here
 * sets `\Seen`: the archive is read-only, so `BODY[]` acts as `BODY.PEEK[]`.
 */
import type { MessageMeta, MetaField } from '../../../instance/api.js';
import { SELECTED, defineCommand, okOutcome } from '../command-spec.js';
import {
  badSyntax,
  fail,
  ok,
  parseFetchItems,
  sequenceSetFromToken,
  type FetchItem,
  type FetchRequest,
  type ParseResult,
  WireBuilder,
  type SequenceSet,
  type Token,
} from '../protocol/index.js';
import { BODY_READ_AHEAD_BYTES, BODY_READ_AHEAD_MESSAGES, FETCH_META_BATCH_SIZE } from '../server-limits.js';
import { BodyReader } from '../body-reader.js';
import { MessageWriter, isBodyItem } from '../fetch-message.js';

interface FetchArguments {
  readonly set: SequenceSet;
  readonly request: FetchRequest;
}

/** Composed responses (metadata, small messages) written together once they reach this size. */
const COMPOSED_BYTES_PER_WRITE = 128 * 1024;

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
