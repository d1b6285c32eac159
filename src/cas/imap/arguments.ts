/**
 * Small argument schemas shared by command modules: they turn tokens into typed values or a BAD.
 */
import { astringValue, badSyntax, decodeMutf7, fail, ok, type ParseResult, type Token } from './protocol/index.js';

export { astringValue };

/** A mailbox name (RFC 3501 §5.1), decoded from modified UTF-7. */
export type MailboxName = string & { readonly __mailboxName: unique symbol };

/**
 * Prefix of a name that is not valid modified UTF-7. No mailbox has such a name, so it is kept
 * (marked, never decoded) and answered `NO [NONEXISTENT]` as Dovecot does, not `BAD`.
 */
export const UNDECODABLE_NAME_PREFIX = '\u0000';

export function mailboxArgument(token: Token | undefined): ParseResult<MailboxName> {
  const text = astringValue(token);
  if (text === null) return fail(badSyntax('Expected a mailbox name'));
  const decoded = decodeMutf7(text);
  return ok((decoded.ok ? decoded.value : UNDECODABLE_NAME_PREFIX + text) as MailboxName);
}

export function noArguments(args: readonly Token[]): ParseResult<null> {
  return args.length === 0 ? ok(null) : fail(badSyntax('Unexpected arguments'));
}

export function exactCount(args: readonly Token[], count: number, what: string): ParseResult<null> {
  return args.length === count ? ok(null) : fail(badSyntax(`Expected ${what}`));
}
