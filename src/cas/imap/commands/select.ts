/**
 * SELECT and EXAMINE (RFC 3501 §6.3.1-2, a flag) with the CONDSTORE parameter (RFC 7162 §3.1.8).
 * Both answer `[READ-ONLY]` with `PERMANENTFLAGS ()`: the archive is read-only by construction,
 * and this is the one place where a mailbox is opened.
 */
import { AUTHENTICATED, defineCommand, noOutcome, okOutcome, type CommandSpec } from '../command-spec.js';
import { mailboxArgument, type MailboxName } from '../arguments.js';
import { badSyntax, fail, ok, type ParseResult, type Token } from '../protocol/index.js';
import { SelectedMailbox } from '../selected-mailbox.js';
import { Session } from '../session.js';

/** Flags clients may see on archived messages (RFC 3501 §2.3.2 system flags). */
export const MAILBOX_FLAGS = '(\\Answered \\Flagged \\Deleted \\Seen \\Draft)';

function parseSelect(args: readonly Token[]): ParseResult<{ mailbox: MailboxName; isCondstoreRequested: boolean }> {
  if (args.length < 1 || args.length > 2) return fail(badSyntax('Expected a mailbox name and optional parameters'));
  const mailbox = mailboxArgument(args[0]);
  if (!mailbox.ok) return mailbox;
  let isCondstoreRequested = false;
  const parameters = args[1];
  if (parameters !== undefined) {
    if (parameters.type !== 'list') return fail(badSyntax('SELECT parameters must be a list'));
    for (const item of parameters.items) {
      if (item.type === 'atom' && item.value.toUpperCase() === 'CONDSTORE') isCondstoreRequested = true;
      else return fail(badSyntax('Unsupported SELECT parameter'));
    }
  }
  return ok({ mailbox: mailbox.value, isCondstoreRequested });
}

function createSelectCommand(isExamine: boolean): CommandSpec {
  return defineCommand({
    name: isExamine ? 'EXAMINE' : 'SELECT',
    states: AUTHENTICATED,
    parse: parseSelect,
    async handler({ session }, { mailbox, isCondstoreRequested }) {
      // RFC 3501 §6.3.1: a SELECT, even a failing one, first leaves the selected mailbox.
      session.unselect();
      const entry = (await session.mailboxes()).find(mailbox);
      if (entry === null || !entry.isSelectable) {
        const { code, text } = Session.nonexistent(mailbox);
        return noOutcome(text, code);
      }
      if (isCondstoreRequested) session.enableCondstore();
      const snapshot = await session.snapshot(entry.folder);
      const selected = new SelectedMailbox(entry, isExamine, snapshot);
      let firstUnseen = 0;
      if (entry.folder !== null && snapshot.uids.length > 0) {
        const login = session.requireLogin();
        const unseen = await login.client.search({ session: login.token, folderId: entry.folder.id, criteria: { key: 'flag', flag: '\\Seen', set: false } });
        for (const uid of unseen) {
          const sequence = selected.sequenceOf(uid);
          if (sequence !== 0 && (firstUnseen === 0 || sequence < firstUnseen)) firstUnseen = sequence;
        }
      }
      const writer = session.writer;
      await writer.untagged(`FLAGS ${MAILBOX_FLAGS}`);
      await writer.untagged('OK [PERMANENTFLAGS ()] Read-only mailbox.');
      await writer.untagged(`${selected.exists} EXISTS`);
      await writer.untagged('0 RECENT');
      if (firstUnseen !== 0) await writer.untagged(`OK [UNSEEN ${firstUnseen}] First unseen.`);
      await writer.untagged(`OK [UIDVALIDITY ${selected.uidValidity}] UIDs valid`);
      await writer.untagged(`OK [UIDNEXT ${selected.uidNext}] Predicted next UID`);
      await writer.untagged(`OK [HIGHESTMODSEQ ${Math.max(1, selected.highestModseq)}] Highest`);
      session.select(selected);
      return okOutcome(`${isExamine ? 'Examine' : 'Select'} completed.`, { name: 'READ-ONLY' });
    },
  });
}

export const selectCommand = createSelectCommand(false);
export const examineCommand = createSelectCommand(true);
