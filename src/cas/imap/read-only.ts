/**
 * The single place where commands that would change the archive are answered (STYLE.md rule 3):
 * APPEND, COPY, MOVE, CREATE, DELETE and RENAME answer `NO [NOPERM]`; STORE, EXPUNGE and CLOSE
 * answer OK and change nothing (fetchmail stores `\Seen` after every message and must not fail).
 * The instance interface the CAS uses has no method that writes, so nothing here could write even
 * by mistake. APPEND literals are read and discarded by the parser, never parsed as commands.
 */
import { AUTHENTICATED, SELECTED, defineCommand, noOutcome, okOutcome, type CommandSpec, type ParseContext } from './command-spec.js';
import { mailboxArgument } from './arguments.js';
import { badSyntax, fail, ok, sequenceSetFromToken, type ParseResult, type Token } from './protocol/index.js';

const NOPERM = { name: 'NOPERM' } as const;
const READ_ONLY_TEXT = 'The archive is read-only.';

function withMailboxes(count: number): (args: readonly Token[]) => ParseResult<null> {
  return (args) => {
    if (args.length !== count) return fail(badSyntax(count === 1 ? 'Expected a mailbox name' : 'Expected two mailbox names'));
    for (const token of args) {
      const name = mailboxArgument(token);
      if (!name.ok) return name;
    }
    return ok(null);
  };
}

function withSequenceSet(extra: number, what: string): (args: readonly Token[]) => ParseResult<null> {
  return (args) => {
    const set = sequenceSetFromToken(args[0]);
    if (!set.ok) return set;
    return args.length >= 1 + extra ? ok(null) : fail(badSyntax(`Expected ${what}`));
  };
}

function refused(name: string, states: CommandSpec['states'], parse: (args: readonly Token[]) => ParseResult<null>, allowsUid = false): CommandSpec {
  return defineCommand({
    name,
    states,
    allowsUid,
    parse,
    async handler() {
      return noOutcome(READ_ONLY_TEXT, NOPERM);
    },
  });
}

function harmless(name: string, parse: (args: readonly Token[], context: ParseContext) => ParseResult<null>, text: string, allowsUid = false, after?: 'unselect'): CommandSpec {
  return defineCommand({
    name,
    states: SELECTED,
    allowsUid,
    parse,
    async handler({ session }) {
      if (after === 'unselect') session.unselect();
      return okOutcome(text);
    },
  });
}

export const READ_ONLY_COMMANDS: readonly CommandSpec[] = [
  refused('APPEND', AUTHENTICATED, withMailboxes1Plus()),
  refused('CREATE', AUTHENTICATED, withMailboxes(1)),
  refused('DELETE', AUTHENTICATED, withMailboxes(1)),
  refused('RENAME', AUTHENTICATED, withMailboxes(2)),
  refused('COPY', SELECTED, withSequenceSet(1, 'a sequence set and a mailbox'), true),
  refused('MOVE', SELECTED, withSequenceSet(1, 'a sequence set and a mailbox'), true),
  // STORE answers OK without FETCH responses: nothing changed, and `.SILENT` or not, the flags
  // the client already has are still right.
  harmless('STORE', withSequenceSet(2, 'a sequence set, a flag operation and flags'), 'Store completed (the archive is read-only; nothing changed).', true),
  // UID EXPUNGE (RFC 4315) takes a UID set.
  harmless('EXPUNGE', parseExpunge, 'Expunge completed (the archive is read-only; nothing removed).', true),
  // CLOSE on a read-only mailbox expunges nothing (RFC 3501 §6.4.2) and leaves the selected state.
  harmless('CLOSE', (args) => (args.length === 0 ? ok(null) : fail(badSyntax('Unexpected arguments'))), 'Close completed.', false, 'unselect'),
];

function parseExpunge(args: readonly Token[], { isUid }: ParseContext): ParseResult<null> {
  if (!isUid) return args.length === 0 ? ok(null) : fail(badSyntax('Unexpected arguments'));
  if (args.length !== 1) return fail(badSyntax('UID EXPUNGE needs a UID set'));
  const set = sequenceSetFromToken(args[0]);
  return set.ok ? ok(null) : set;
}

/** APPEND mailbox [flags] [date-time] literal: at least a mailbox and the (discarded) literal. */
function withMailboxes1Plus(): (args: readonly Token[]) => ParseResult<null> {
  return (args) => {
    const name = mailboxArgument(args[0]);
    if (!name.ok) return name;
    const last = args[args.length - 1];
    return args.length >= 2 && last?.type === 'literal' ? ok(null) : fail(badSyntax('APPEND needs a mailbox and a message literal'));
  };
}
