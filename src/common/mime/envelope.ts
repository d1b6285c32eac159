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
  const text = (f: HeaderField): string => binaryToText(rawValue(buf, f)).replace(/\0/g, '\ufffd');
  for (const f of fields) {
    switch (f.key) {
      case 'date':
        env.date = text(f);
        break;
      case 'subject':
        env.subject = text(f);
        break;
      case 'in-reply-to':
        env.inReplyTo = text(f);
        break;
      case 'message-id':
        env.messageId = text(f);
        break;
      case 'from':
        env.from = parseAddressList(text(f));
        break;
      case 'sender':
        env.sender = parseAddressList(text(f));
        break;
      case 'reply-to':
        env.replyTo = parseAddressList(text(f));
        break;
      case 'to':
        env.to = parseAddressList(text(f));
        break;
      case 'cc':
        env.cc = parseAddressList(text(f));
        break;
      case 'bcc':
        env.bcc = parseAddressList(text(f));
        break;
    }
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
