/**
 * MBOX export in the mboxrd form (RFC 4155 §2 and the mboxrd quoting convention): a `From ` line per
 * message, lines starting with `>*From ` get one more `>`, LF line endings, an empty line after each.
 */

export function mboxFromLine(sender: string | null, dateMs: number | null): string {
  const who = sender && /^[^\s]+$/.test(sender) ? sender : 'MAILER-DAEMON';
  const d = new Date(dateMs && dateMs > 0 ? dateMs : 0);
  // asctime() format in UTC, as most mbox readers expect.
  const s = d.toUTCString(); // "Tue, 02 Jan 2024 10:00:00 GMT"
  const m = /^(\w{3}), (\d{2}) (\w{3}) (\d{4}) (\d{2}:\d{2}:\d{2})/.exec(s);
  const stamp = m ? `${m[1]} ${m[3]} ${m[2]!.replace(/^0/, ' ')} ${m[5]} ${m[4]}` : 'Thu Jan  1 00:00:00 1970';
  return `From ${who} ${stamp}\n`;
}

export function mboxEntry(raw: Buffer, sender: string | null, dateMs: number | null): Buffer {
  const text = raw.toString('latin1').replace(/\r\n/g, '\n').replace(/^(>*From )/gm, '>$1');
  return Buffer.concat([Buffer.from(mboxFromLine(sender, dateMs), 'latin1'), Buffer.from(text.endsWith('\n') ? text : `${text}\n`, 'latin1'), Buffer.from('\n')]);
}
