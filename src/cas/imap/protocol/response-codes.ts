/**
 * IMAP response codes (the bracketed text after OK/NO/BAD) that Coffer sends, and their wire form.
 * RFC 3501 §7.1, RFC 5530 (NOPERM, PRIVACYREQUIRED, AUTHENTICATIONFAILED, UNAVAILABLE, SERVERBUG,
 * NONEXISTENT, CANNOT, LIMIT), RFC 7162 (HIGHESTMODSEQ, NOMODSEQ), RFC 4469 / RFC 7889 (TOOBIG).
 */

export const RESPONSE_CODES = [
  'ALERT',
  'ALREADYEXISTS',
  'AUTHENTICATIONFAILED',
  'AUTHORIZATIONFAILED',
  'BADCHARSET',
  'CANNOT',
  'CAPABILITY',
  'CLIENTBUG',
  'CLOSED',
  'CONTACTADMIN',
  'EXPIRED',
  'HIGHESTMODSEQ',
  'INUSE',
  'LIMIT',
  'NOMODSEQ',
  'NONEXISTENT',
  'NOPERM',
  'OVERQUOTA',
  'PARSE',
  'PERMANENTFLAGS',
  'PRIVACYREQUIRED',
  'READ-ONLY',
  'READ-WRITE',
  'SERVERBUG',
  'TOOBIG',
  'TRYCREATE',
  'UIDNEXT',
  'UIDVALIDITY',
  'UNAVAILABLE',
  'UNSEEN',
] as const;

export type ResponseCodeName = (typeof RESPONSE_CODES)[number];

/** A response code with its optional argument text, e.g. `{ name: 'BADCHARSET', args: '(UTF-8 US-ASCII)' }`. */
export interface ResponseCode {
  readonly name: ResponseCodeName;
  /** Already-formatted argument text; must not contain `]`, CR or LF. */
  readonly args?: string;
}

/** The charsets SEARCH accepts; sent back in `[BADCHARSET (...)]` (RFC 3501 §6.4.4). */
export const SUPPORTED_SEARCH_CHARSETS: readonly string[] = Object.freeze(['UTF-8', 'US-ASCII']);

/** Returns the wire text of a response code, brackets included, e.g. `[NOPERM]`. */
export function formatResponseCode(code: ResponseCode): string {
  const args = code.args === undefined ? '' : ` ${code.args.replace(/[\]\r\n]/g, ' ')}`;
  return `[${code.name}${args}]`;
}
