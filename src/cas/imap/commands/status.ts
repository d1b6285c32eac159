/** STATUS (RFC 3501 §6.3.10): counts of a readable mailbox without selecting it. */
import { AUTHENTICATED, defineCommand, noOutcome, okOutcome } from '../command-spec.js';
import { mailboxArgument, type MailboxName } from '../arguments.js';
import { statusResponse } from '../mailbox-status.js';
import { badSyntax, fail, ok, type ParseResult, type StatusItem, type Token } from '../protocol/index.js';
import { Session } from '../session.js';

const ITEMS = new Set<string>(['MESSAGES', 'RECENT', 'UIDNEXT', 'UIDVALIDITY', 'UNSEEN', 'SIZE', 'HIGHESTMODSEQ', 'DELETED']);

function parseStatus(args: readonly Token[]): ParseResult<{ mailbox: MailboxName; items: StatusItem[] }> {
  if (args.length !== 2) return fail(badSyntax('STATUS needs a mailbox and a list of items'));
  const mailbox = mailboxArgument(args[0]);
  if (!mailbox.ok) return mailbox;
  const list = args[1]!;
  if (list.type !== 'list' || list.items.length === 0) return fail(badSyntax('STATUS needs a list of items'));
  const items: StatusItem[] = [];
  for (const token of list.items) {
    const name = token.type === 'atom' && token.section === undefined ? token.value.toUpperCase() : '';
    if (!ITEMS.has(name)) return fail(badSyntax('Unknown STATUS item'));
    if (!items.includes(name as StatusItem)) items.push(name as StatusItem);
  }
  return ok({ mailbox: mailbox.value, items });
}

export const statusCommand = defineCommand({
  name: 'STATUS',
  states: AUTHENTICATED,
  parse: parseStatus,
  async handler({ session }, { mailbox, items }) {
    const entry = (await session.mailboxes()).find(mailbox);
    if (entry === null || !entry.isSelectable) {
      const { code, text } = Session.nonexistent(mailbox);
      return noOutcome(text, code);
    }
    await session.writer.untaggedChunks(await statusResponse(session, entry, items));
    return okOutcome('Status completed.');
  },
});
