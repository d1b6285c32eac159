/**
 * IMAP ENVELOPE (RFC 3501 §7.4.2), serialised like Dovecot's imap-envelope.c:
 * date, in-reply-to and message-id as nstrings with line breaks removed;
 * subject and display names "for humans" (whitespace collapsed); sender and
 * reply-to fall back to from; for each field the last occurrence wins (as in
 * Dovecot's message_part_envelope_parse_from_header); an empty address
 * header is NIL.
 */
import { EnvelopeAddress, parseAddressList } from './address.js';
import { HeaderField, binaryToText, rawValue } from './header.js';
import { imapNStringNoLf, imapStringForHumans } from './imap-string.js';

export interface EnvelopeData {
  date: string | null;
  subject: string | null;
  from: EnvelopeAddress[];
  sender: EnvelopeAddress[];
  replyTo: EnvelopeAddress[];
  to: EnvelopeAddress[];
  cc: EnvelopeAddress[];
  bcc: EnvelopeAddress[];
  inReplyTo: string | null;
  messageId: string | null;
}

const ADDRESS_KEYS = { from: 'from', sender: 'sender', 'reply-to': 'replyTo', to: 'to', cc: 'cc', bcc: 'bcc' } as const;
const STRING_KEYS = { date: 'date', subject: 'subject', 'in-reply-to': 'inReplyTo', 'message-id': 'messageId' } as const;

export function collectEnvelope(buf: Buffer, fields: HeaderField[]): EnvelopeData {
  const env: EnvelopeData = {
    date: null,
    subject: null,
    from: [],
    sender: [],
    replyTo: [],
    to: [],
    cc: [],
    bcc: [],
    inReplyTo: null,
    messageId: null,
  };
  for (const f of fields) {
    const a = (ADDRESS_KEYS as Record<string, keyof EnvelopeData | undefined>)[f.key];
    if (a) {
      (env as unknown as Record<string, EnvelopeAddress[]>)[a] = parseAddressList(binaryToText(rawValue(buf, f)));
      continue;
    }
    const s = (STRING_KEYS as Record<string, keyof EnvelopeData | undefined>)[f.key];
    if (s) (env as unknown as Record<string, string>)[s] = binaryToText(rawValue(buf, f)).replace(/\0/g, '\ufffd');
  }
  return env;
}

function writeAddresses(list: EnvelopeAddress[]): string {
  if (list.length === 0) return 'NIL';
  let out = '(';
  for (const a of list) {
    out += '(';
    out += a.name === null ? 'NIL' : imapStringForHumans(a.name);
    out += ' ' + imapNStringNoLf(a.route);
    out += ' ' + imapNStringNoLf(a.mailbox);
    out += ' ' + imapNStringNoLf(a.domain);
    out += ')';
  }
  return out + ')';
}

/** The ENVELOPE list contents without the outer parentheses. */
export function writeEnvelopeInner(env: EnvelopeData): string {
  return [
    imapNStringNoLf(env.date),
    env.subject === null ? 'NIL' : imapStringForHumans(env.subject),
    writeAddresses(env.from),
    writeAddresses(env.sender.length > 0 ? env.sender : env.from),
    writeAddresses(env.replyTo.length > 0 ? env.replyTo : env.from),
    writeAddresses(env.to),
    writeAddresses(env.cc),
    writeAddresses(env.bcc),
    imapNStringNoLf(env.inReplyTo),
    imapNStringNoLf(env.messageId),
  ].join(' ');
}

export function writeEnvelope(env: EnvelopeData): string {
  return `(${writeEnvelopeInner(env)})`;
}
