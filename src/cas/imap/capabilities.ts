/**
 * Capability strings, exactly as issue 4 lists them. Extensions are only added here once they are
 * fully implemented (COMPRESS=DEFLATE, QRESYNC, SORT, THREAD and BINARY are not).
 */

const BASE = ['IMAP4rev1', 'SASL-IR', 'ID', 'ENABLE', 'IDLE', 'LITERAL+'];

/** Port 143 before STARTTLS: no login possible (RFC 3501 §6.2.3 LOGINDISABLED). */
export const CAPABILITIES_PLAINTEXT = [...BASE, 'STARTTLS', 'LOGINDISABLED'].join(' ');

/** Over TLS, before login. */
export const CAPABILITIES_TLS_PRE_AUTH = [...BASE, 'AUTH=PLAIN', 'AUTH=LOGIN'].join(' ');

/** After login (sent in the tagged OK of LOGIN/AUTHENTICATE and by CAPABILITY). */
export const CAPABILITIES_AUTHENTICATED = [
  ...BASE,
  'NAMESPACE',
  'UNSELECT',
  'CHILDREN',
  'SPECIAL-USE',
  'LIST-EXTENDED',
  'LIST-STATUS',
  'CONDSTORE',
  'ESEARCH',
].join(' ');
