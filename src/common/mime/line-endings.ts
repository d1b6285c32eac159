/**
 * Line-ending normalisation, done once before a message is stored.
 *
 * IMAP (RFC 3501 §2.3.1 / RFC 5322 §2.1) speaks CRLF, and RFC822.SIZE and every
 * byte offset we keep refer to the CRLF form. Mail from Unix mbox/Maildir has
 * bare LF. Only a bare LF becomes CRLF; a lone CR is left byte for byte (it is
 * not a line break to Dovecot either, and rewriting it would change the body).
 */
export function normalizeLineEndings(raw: Buffer): Buffer {
  let bareLf = 0;
  let pos = raw.indexOf(0x0a);
  while (pos !== -1) {
    if (pos === 0 || raw[pos - 1] !== 0x0d) bareLf++;
    pos = raw.indexOf(0x0a, pos + 1);
  }
  if (bareLf === 0) return raw;
  const out = Buffer.allocUnsafe(raw.length + bareLf);
  let src = 0;
  let dst = 0;
  pos = raw.indexOf(0x0a);
  while (pos !== -1) {
    if (pos === 0 || raw[pos - 1] !== 0x0d) {
      dst += raw.copy(out, dst, src, pos);
      out[dst++] = 0x0d;
      out[dst++] = 0x0a;
      src = pos + 1;
    }
    pos = raw.indexOf(0x0a, pos + 1);
  }
  dst += raw.copy(out, dst, src, raw.length);
  return out;
}
