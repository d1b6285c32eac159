/**
 * A bounded fuzz of the command layer: grammar-shaped and random commands (fixed seed) over a real
 * TLS connection. Every command must get an answer that is not SERVERBUG, the connection must stay
 * usable (or close cleanly after a fatal input), and the archive must be unchanged afterwards.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawImapClient, startHarness, type Harness } from './imap-harness.js';
import { fuzzRun, prng } from './helpers/fuzz-run.js';

const run = fuzzRun('command layer fuzz', 0xc0ffee, 20_000);

const COMMANDS = ['FETCH', 'UID FETCH', 'SEARCH', 'UID SEARCH', 'LIST', 'LSUB', 'STATUS', 'SELECT', 'EXAMINE', 'STORE', 'UID STORE', 'COPY', 'UID MOVE', 'NOOP', 'CHECK', 'ID', 'ENABLE', 'NAMESPACE', 'UNSELECT', 'EXPUNGE', 'UID EXPUNGE', 'CLOSE', 'CAPABILITY', 'SUBSCRIBE', 'CREATE', 'RENAME', 'DELETE', 'XNOPE'];
const WORDS = [
  '1', '2', '*', '1:*', '2:4,7', '4294967295', '4294967296', '0', '99999999999999999999', '1:', ':', '$', '1,,2',
  'INBOX', '"Sent Items"', '"Other Archives/bob/Inbox"', '"Other Archives/carol/Inbox"', '"&-"', '"&Jjo-"', '"&AAA"', '%', '"*"', '""', 'NIL',
  'FLAGS', 'UID', 'ENVELOPE', 'BODY', 'BODYSTRUCTURE', 'RFC822', 'RFC822.SIZE', 'RFC822.HEADER', 'RFC822.TEXT', 'INTERNALDATE', 'MODSEQ', 'ALL', 'FAST', 'FULL',
  'BODY[]', 'BODY.PEEK[]', 'BODY[TEXT]', 'BODY[1]', 'BODY[1.2.3]', 'BODY[2.MIME]', 'BODY[HEADER.FIELDS (From To)]', 'BODY.PEEK[HEADER.FIELDS.NOT (Subject)]<0.5>', 'BODY[]<0.0>', 'BODY[]<5.99999999999>', 'BODY[0]', 'BODY[MIME]', 'BINARY[1]', 'BODY[HEADER.FIELDS ()]',
  'SUBJECT', 'FROM', 'TO', 'CC', 'BCC', 'BODY', 'TEXT', 'HEADER', 'NOT', 'OR', 'SEEN', 'UNSEEN', 'RECENT', 'NEW', 'OLD', 'DELETED', 'KEYWORD', '$Forwarded', 'LARGER', 'SMALLER', 'BEFORE', 'SINCE', 'ON', 'SENTON', '1-Jan-2024', '31-Feb-2024', 'MODSEQ', 'RETURN', '(MIN MAX COUNT ALL)', '()', '(SAVE)', 'CHARSET', 'UTF-8', 'KOI8-R',
  '+FLAGS', '-FLAGS.SILENT', '(\\Seen)', '(\\Deleted $Junk)', 'CONDSTORE', 'QRESYNC', '(CONDSTORE)', '(CHANGEDSINCE 1)', '(CHANGEDSINCE 0)', '(VANISHED)', '(MESSAGES UIDNEXT UNSEEN SIZE HIGHESTMODSEQ DELETED)', '(SUBSCRIBED)', '(SPECIAL-USE)', 'RETURN (STATUS (MESSAGES))', 'RETURN (CHILDREN SUBSCRIBED)',
  '("name" "fuzz")', '("a")', '(', ')', '((((((((((', '))', '"unterminated', '"esc\\"aped"', 'x'.repeat(300), '\\Seen', '[', ']', '<1.2>',
];

function grammarCommand(next: () => number): string {
  const pick = <T>(items: readonly T[]) => items[Math.floor(next() * items.length)]!;
  const words = [pick(COMMANDS)];
  const count = Math.floor(next() * 6);
  for (let k = 0; k < count; k++) words.push(pick(WORDS));
  if (next() < 0.05) words.push('{3+}\r\nabc');
  return words.join(' ');
}

function randomLine(next: () => number): string {
  const length = 1 + Math.floor(next() * 80);
  let text = '';
  // No CR, LF or `{`: a synchronising literal would wait for bytes this fuzzer does not send.
  for (let k = 0; k < length; k++) {
    const c = 0x20 + Math.floor(next() * 0x5f);
    text += c === 0x7b ? '(' : String.fromCharCode(c);
  }
  return next() < 0.5 ? `FETCH ${text}` : text;
}

describe('command layer fuzz', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it(`answers ${run.long ? 'grammar-shaped and random commands for the whole run' : '1,500 grammar-shaped and random commands'} without SERVERBUG and leaves the archive unchanged`, async () => {
    const next = prng(run.seed);
    let client = await RawImapClient.connectTls(h.tlsPort);
    await client.readLine();
    await client.login();
    await client.command('s0', 'EXAMINE INBOX');
    const answers: string[] = [];
    let reconnects = 0;
    const deadline = Date.now() + run.ms;
    let n = 1;
    for (; (run.long || n <= 1_500) && Date.now() < deadline; n++) {
      const body = next() < 0.8 ? grammarCommand(next) : randomLine(next);
      client.write(`f${n} ${body}\r\nz${n} NOOP\r\n`);
      let lines: string[];
      try {
        lines = await client.readUntilTagged(`z${n}`, 5_000);
      } catch (error) {
        if (!client.isClosed) throw new Error(`no answer to: f${n} ${body}: ${(error as Error).message}`);
        reconnects++;
        client = await RawImapClient.connectTls(h.tlsPort);
        await client.readLine();
        await client.login();
        await client.command('s0', 'EXAMINE INBOX');
        continue;
      }
      for (const line of lines) if (/SERVERBUG/.test(line)) throw new Error(`SERVERBUG for: f${n} ${body}\n${line}`);
      const tagged = lines.find((line) => line.startsWith(`f${n} `));
      if (tagged !== undefined) answers.push(tagged.split(' ')[1]!);
      if (!/^\* /.test(lines[0] ?? '') && lines.length === 0) throw new Error('empty answer');
      if (lines.some((l) => l.startsWith('* BYE'))) break;
    }
    if (run.long) console.log(`command layer fuzz: ${n - 1} commands, ${answers.length} tagged answers, ${reconnects} reconnects after fatal input`);
    expect(answers.length).toBeGreaterThan(500);
    expect(new Set(answers)).toEqual(new Set(['OK', 'NO', 'BAD']));
    expect(reconnects).toBeLessThan(20);
    client.close();
    const check = await RawImapClient.connectTls(h.tlsPort);
    await check.readLine();
    await check.login();
    expect(await check.command('c1', 'STATUS INBOX (MESSAGES)')).toEqual([`* STATUS INBOX (MESSAGES ${h.inbox.length})`, 'c1 OK Status completed.']);
    check.close();
  }, run.timeoutMs);
});
