/**
 * A one-line description of a command for the log: secrets hidden, literals shown only as their
 * size (house rule 12: passwords redacted, literal contents never logged).
 */

import type { CommandEvent } from './parser-events.js';
import type { Token } from './tokens.js';

/** Longest argument text put in a log line; the rest is summarised. */
const MAX_LOGGED_ARGUMENT_CHARS = 200;

/** Commands whose arguments after the first `keep` are secrets (LOGIN's password, SASL responses). */
const SECRET_ARGUMENTS: ReadonlyMap<string, number> = new Map([
  ['LOGIN', 1],
  ['AUTHENTICATE', 1],
]);

function describeToken(token: Token): string {
  switch (token.type) {
    case 'atom':
      return token.value;
    case 'number':
      return token.raw;
    case 'string':
      return JSON.stringify(token.value);
    case 'literal':
      return `{${token.size} bytes${token.isDiscarded ? ', discarded' : ''}}`;
    case 'nil':
      return 'NIL';
    case 'list':
      return `(${token.items.map(describeToken).join(' ')})`;
  }
}

/** E.g. `a1 LOGIN alice ***` or `a2 APPEND INBOX (\Seen) {2048 bytes, discarded}`. */
export function describeCommandForLog(command: CommandEvent): string {
  const keep = SECRET_ARGUMENTS.get(command.name);
  const args = command.args.map((token, index) => (keep !== undefined && index >= keep ? '***' : describeToken(token)));
  let text = args.join(' ').replace(/[^\x20-\x7e]/g, '?');
  if (text.length > MAX_LOGGED_ARGUMENT_CHARS) text = `${text.slice(0, MAX_LOGGED_ARGUMENT_CHARS)}... (${command.rawBytes} bytes)`;
  return text === '' ? `${command.tag} ${command.name}` : `${command.tag} ${command.name} ${text}`;
}
