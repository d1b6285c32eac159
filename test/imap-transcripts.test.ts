import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseMessage, resolveSection } from '../src/common/mime/index.js';
import { splitLoginName } from '../src/cas/imap/login-flow.js';
import { RawImapClient, startHarness, type Harness } from './imap-harness.js';

const AUTH_CAPS = 'IMAP4rev1 SASL-IR ID ENABLE IDLE LITERAL+ NAMESPACE UNSELECT CHILDREN SPECIAL-USE LIST-EXTENDED LIST-STATUS CONDSTORE ESEARCH';
const TLS_CAPS = 'IMAP4rev1 SASL-IR ID ENABLE IDLE LITERAL+ AUTH=PLAIN AUTH=LOGIN';
const PLAIN_CAPS = 'IMAP4rev1 SASL-IR ID ENABLE IDLE LITERAL+ STARTTLS LOGINDISABLED';
const b64 = (s: string) => Buffer.from(s).toString('base64');

/** Extracts the literal bytes after `name {n}\r\n` in a FETCH line. */
function literalOf(line: string, name: string): Buffer {
  const at = line.indexOf(`${name} {`);
  if (at === -1) throw new Error(`${name} not in ${line.slice(0, 200)}`);
  const open = at + name.length + 1;
  const close = line.indexOf('}', open);
  const size = Number(line.slice(open + 1, close));
  const bytes = Buffer.from(line, 'latin1');
  const start = close + 3;
  return bytes.subarray(start, start + size);
}

describe('IMAP server transcripts over real sockets', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  async function loggedIn(): Promise<RawImapClient> {
    const c = await RawImapClient.connectTls(h.tlsPort);
    await c.readLine();
    await c.login();
    return c;
  }

  it('greets on 993 with the TLS capabilities, logs in with user@instance and lists readable folders only', async () => {
    const c = await RawImapClient.connectTls(h.tlsPort);
    expect(await c.readLine()).toBe(`* OK [CAPABILITY ${TLS_CAPS}] Coffer ready.`);
    expect(await c.command('a0', 'ID ("name" "test" "version" "1")')).toEqual(['* ID ("name" "Coffer")', 'a0 OK ID completed.']);
    expect(await c.command('a1', 'LOGIN jane@acme pw-jane')).toEqual([`a1 OK [CAPABILITY ${AUTH_CAPS}] Logged in`]);
    expect(await c.command('a2', 'CAPABILITY')).toEqual([`* CAPABILITY ${AUTH_CAPS}`, 'a2 OK Capability completed.']);
    expect(await c.command('a3', 'NAMESPACE')).toEqual(['* NAMESPACE (("" "/")) (("Other Archives/" "/")) NIL', 'a3 OK Namespace completed.']);
    expect(await c.command('a4', 'LIST "" "*"')).toEqual([
      '* LIST (\\HasNoChildren) "/" INBOX',
      '* LIST (\\Noselect \\HasChildren) "/" "Other Archives"',
      '* LIST (\\HasChildren \\Archive) "/" "Other Archives/bob"',
      '* LIST (\\HasNoChildren) "/" "Other Archives/bob/Inbox"',
      '* LIST (\\HasNoChildren) "/" "Sent Items"',
      'a4 OK LIST completed.',
    ]);
    expect(await c.command('a5', 'LIST "" "%"')).toEqual([
      '* LIST (\\HasNoChildren) "/" INBOX',
      '* LIST (\\Noselect \\HasChildren) "/" "Other Archives"',
      '* LIST (\\HasNoChildren) "/" "Sent Items"',
      'a5 OK LIST completed.',
    ]);
    expect(await c.command('a6', 'LIST "" ""')).toEqual(['* LIST (\\Noselect) "/" ""', 'a6 OK LIST completed.']);
    expect(await c.command('a7', 'ID NIL')).toEqual(['* ID ("name" "Coffer")', 'a7 OK ID completed.']);
    expect(await c.command('a8', 'LOGOUT')).toEqual(['* BYE Logging out', 'a8 OK Logout completed.']);
    c.close();
  });

  it('answers LSUB, LIST (SUBSCRIBED), LIST-STATUS and STATUS for every readable folder', async () => {
    const c = await loggedIn();
    expect(await c.command('b1', 'LSUB "" "*"')).toEqual([
      '* LSUB () "/" INBOX',
      '* LSUB (\\Noselect) "/" "Other Archives"',
      '* LSUB () "/" "Other Archives/bob"',
      '* LSUB () "/" "Other Archives/bob/Inbox"',
      '* LSUB () "/" "Sent Items"',
      'b1 OK LSUB completed.',
    ]);
    const subscribed = await c.command('b2', 'LIST (SUBSCRIBED) "" "*"');
    expect(subscribed).toContain('* LIST (\\HasNoChildren \\Subscribed) "/" INBOX');
    expect(subscribed).toContain('* LIST (\\HasNoChildren \\Subscribed) "/" "Sent Items"');
    expect(await c.command('b3', 'LIST "" "Sent*" RETURN (STATUS (MESSAGES UIDNEXT UNSEEN))')).toEqual([
      '* LIST (\\HasNoChildren) "/" "Sent Items"',
      '* STATUS "Sent Items" (MESSAGES 1 UIDNEXT 2 UNSEEN 0)',
      'b3 OK LIST completed.',
    ]);
    expect(await c.command('b4', 'STATUS "Other Archives/bob/Inbox" (MESSAGES RECENT UNSEEN)')).toEqual([
      '* STATUS "Other Archives/bob/Inbox" (MESSAGES 1 RECENT 0 UNSEEN 1)',
      'b4 OK Status completed.',
    ]);
    expect(await c.command('b5', 'LIST (SPECIAL-USE) "" "*"')).toEqual(['* LIST (\\HasChildren \\Archive) "/" "Other Archives/bob"', 'b5 OK LIST completed.']);
    expect(await c.command('b6', 'SUBSCRIBE "Sent Items"')).toEqual(['b6 OK Subscribe completed.']);
    expect(await c.command('b7', 'UNSUBSCRIBE INBOX')).toEqual(['b7 OK Unsubscribe completed.']);
    c.close();
  });

  it('never shows, selects or reports an archive the user may not read', async () => {
    const c = await loggedIn();
    const list = await c.command('c1', 'LIST "" "*"');
    expect(list.join('\n')).not.toMatch(/carol/);
    expect(await c.command('c2', 'SELECT "Other Archives/carol/Inbox"')).toEqual(['c2 NO [NONEXISTENT] Mailbox doesn\'t exist: Other Archives/carol/Inbox']);
    expect(await c.command('c3', 'STATUS "Other Archives/carol/Inbox" (MESSAGES)')).toEqual(['c3 NO [NONEXISTENT] Mailbox doesn\'t exist: Other Archives/carol/Inbox']);
    expect(await c.command('c4', 'EXAMINE "Other Archives"')).toEqual(['c4 NO [NONEXISTENT] Mailbox doesn\'t exist: Other Archives']);
    c.close();
  });

  it('selects read-only with PERMANENTFLAGS () and HIGHESTMODSEQ, and EXAMINE answers the same', async () => {
    const c = await loggedIn();
    for (const [tag, command] of [['d1', 'SELECT INBOX (CONDSTORE)'], ['d2', 'EXAMINE inbox']] as const) {
      const lines = await c.command(tag, command);
      expect(lines.slice(0, 4)).toEqual(['* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)', '* OK [PERMANENTFLAGS ()] Read-only mailbox.', `* ${h.inbox.length} EXISTS`, '* 0 RECENT']);
      expect(lines).toContain('* OK [UIDVALIDITY ' + /\d+/.exec(lines.find((l) => l.includes('UIDVALIDITY'))!)![0] + '] UIDs valid');
      expect(lines).toContain(`* OK [UIDNEXT ${h.inbox.length + 1}] Predicted next UID`);
      expect(lines.some((l) => /^\* OK \[HIGHESTMODSEQ \d+\] Highest$/.test(l))).toBe(true);
      expect(lines.at(-1)).toBe(`${tag} OK [READ-ONLY] ${tag === 'd1' ? 'Select' : 'Examine'} completed.`);
    }
    const uidValidity = (await c.command('d3', 'STATUS INBOX (UIDVALIDITY)'))[0];
    expect(uidValidity).toMatch(/^\* STATUS INBOX \(UIDVALIDITY \d+\)$/);
    expect(await c.command('d4', 'UNSELECT')).toEqual(['d4 OK Unselect completed.']);
    expect(await c.command('d5', 'FETCH 1 FLAGS')).toEqual(['d5 BAD No mailbox selected.']);
    c.close();
  });

  it('serves every body section of every message byte for byte, as the stored MIME tree says', async () => {
    const c = await loggedIn();
    await c.command('e0', 'EXAMINE INBOX');
    const uids = (await c.command('e1', 'UID SEARCH ALL'))[0]!.replace('* SEARCH ', '').split(' ').map(Number);
    expect(uids.length).toBe(h.inbox.length);
    for (const uid of uids) {
      const full = literalOf((await c.command('e2', `UID FETCH ${uid} BODY.PEEK[]`))[0]!, 'BODY[]');
      const root = parseMessage(full).root;
      const sections: [string, { part: number[]; kind: '' | 'HEADER' | 'TEXT' | 'MIME' }][] = [
        ['HEADER', { part: [], kind: 'HEADER' }],
        ['TEXT', { part: [], kind: 'TEXT' }],
        ['1', { part: [1], kind: '' }],
        ['1.MIME', { part: [1], kind: 'MIME' }],
      ];
      if (root.children.length > 1) sections.push(['2', { part: [2], kind: '' }], ['2.MIME', { part: [2], kind: 'MIME' }]);
      if (root.children[0]?.children.length) sections.push(['1.1', { part: [1, 1], kind: '' }]);
      const request = sections.map(([name]) => `BODY.PEEK[${name}]`).join(' ');
      const line = (await c.command('e3', `UID FETCH ${uid} (${request} RFC822.SIZE)`))[0]!;
      expect(line).toContain(`RFC822.SIZE ${full.length}`);
      for (const [name, section] of sections) {
        const range = resolveSection(root, section)!;
        expect(literalOf(line, `BODY[${name}]`).equals(full.subarray(range.start, range.end)), `uid ${uid} BODY[${name}]`).toBe(true);
      }
      const partial = (await c.command('e4', `UID FETCH ${uid} (BODY.PEEK[]<5.20> BODY.PEEK[TEXT]<0.7>)`))[0]!;
      expect(literalOf(partial, 'BODY[]<5>').equals(full.subarray(5, 25))).toBe(true);
    }
    c.close();
  });

  it('echoes HEADER.FIELDS and HEADER.FIELDS.NOT as asked and never sets \\Seen', async () => {
    const c = await loggedIn();
    await c.command('f0', 'SELECT "Other Archives/bob/Inbox"');
    expect(await c.command('f1', 'FETCH 1 (BODY[HEADER.FIELDS (Subject from)])')).toEqual([
      '* 1 FETCH (BODY[HEADER.FIELDS (Subject from)] {43}\r\nFrom: bob@example.com\r\nSubject: for bob\r\n\r\n)',
      'f1 OK Fetch completed.',
    ]);
    expect(await c.command('f2', 'FETCH 1 (BODY.PEEK[HEADER.FIELDS.NOT (FROM)]<0.8>)')).toEqual(['* 1 FETCH (BODY[HEADER.FIELDS.NOT (FROM)]<0> {8}\r\nSubject:)', 'f2 OK Fetch completed.']);
    expect(await c.command('f3', 'FETCH 1 (RFC822.TEXT FLAGS)')).toEqual(['* 1 FETCH (FLAGS () RFC822.TEXT {10}\r\nbob body\r\n)', 'f3 OK Fetch completed.']);
    expect(await c.command('f4', 'FETCH 1 (FLAGS BODY[5])')).toEqual(['* 1 FETCH (FLAGS () BODY[5] {0}\r\n)', 'f4 OK Fetch completed.']);
    expect(await c.command('f5', 'FETCH 1 FAST')).toEqual([expect.stringMatching(/^\* 1 FETCH \(FLAGS \(\) INTERNALDATE "\d\d-\w{3}-\d{4} \d\d:\d\d:\d\d \+0000" RFC822\.SIZE 53\)$/), 'f5 OK Fetch completed.']);
    expect(await c.command('f6', 'FETCH 1 (ENVELOPE BODY BODYSTRUCTURE MODSEQ)')).toEqual([
      expect.stringMatching(/^\* 1 FETCH \(MODSEQ \(\d+\) ENVELOPE \(NIL "for bob" \(\(NIL NIL "bob" "example.com"\)\).* BODY \("text" "plain".* BODYSTRUCTURE \("text" "plain".*\)$/),
      'f6 OK Fetch completed.',
    ]);
    c.close();
  });

  it('searches with RFC 3501 keys, ESEARCH RETURN options and MODSEQ', async () => {
    const c = await loggedIn();
    await c.command('g0', 'EXAMINE INBOX');
    const n = h.inbox.length;
    const all = Array.from({ length: n }, (_, k) => k + 1);
    expect(await c.command('g1', 'SEARCH ALL')).toEqual([`* SEARCH ${all.join(' ')}`, 'g1 OK Search completed.']);
    expect(await c.command('g2', 'SEARCH RETURN (MIN MAX COUNT ALL) ALL')).toEqual([`* ESEARCH (TAG "g2") MIN 1 MAX ${n} ALL 1:${n} COUNT ${n}`, 'g2 OK Search completed.']);
    expect(await c.command('g3', 'UID SEARCH RETURN () 2:3')).toEqual(['* ESEARCH (TAG "g3") UID ALL 2:3', 'g3 OK Search completed.']);
    expect(await c.command('g4', 'SEARCH RECENT')).toEqual(['* SEARCH', 'g4 OK Search completed.']);
    expect(await c.command('g5', 'SEARCH NEW')).toEqual(['* SEARCH', 'g5 OK Search completed.']);
    expect(await c.command('g6', 'SEARCH OLD 1:2')).toEqual(['* SEARCH 1 2', 'g6 OK Search completed.']);
    expect(await c.command('g7', 'SEARCH UNSEEN')).toEqual(['* SEARCH', 'g7 OK Search completed.']);
    const modseq = await c.command('g8', 'SEARCH MODSEQ 1 1');
    expect(modseq[0]).toMatch(/^\* SEARCH 1 \(MODSEQ \d+\)$/);
    expect(await c.command('g9', 'SEARCH RETURN (COUNT) SUBJECT "zzz-no-such-subject-zzz"')).toEqual(['* ESEARCH (TAG "g9") COUNT 0', 'g9 OK Search completed.']);
    await c.command('g10', 'EXAMINE "Other Archives/bob/Inbox"');
    expect(await c.command('g11', 'SEARCH SUBJECT "FOR BOB" BODY bob UNSEEN')).toEqual(['* SEARCH 1', 'g11 OK Search completed.']);
    expect(await c.command('g12', 'SEARCH CHARSET UTF-8 TEXT "carol"')).toEqual(['* SEARCH', 'g12 OK Search completed.']);
    expect(await c.command('g13', 'SEARCH CHARSET KOI8-R TEXT x')).toEqual(['g13 NO [BADCHARSET (UTF-8 US-ASCII)] Unsupported charset KOI8-R']);
    c.close();
  });

  it('answers BAD to SEARCH SUBJECT NIL and other garbage and keeps the connection working', async () => {
    const c = await loggedIn();
    await c.command('h0', 'EXAMINE INBOX');
    const garbage = [
      'SEARCH SUBJECT NIL',
      'SEARCH',
      'SEARCH (',
      'SEARCH NOT',
      'SEARCH OR ALL',
      'SEARCH HEADER',
      'SEARCH BEFORE 32-Jan-2020',
      'FETCH 1 (BODY[1.X])',
      'FETCH 1:* (BINARY[1])',
      'FETCH 0 FLAGS',
      'FETCH * (FLAGS',
      'UID FETCH 1:* (BODY[HEADER.FIELDS ()])',
      'SELECT',
      'STATUS INBOX ()',
      'LIST',
      'UID NOPE 1',
      'XYZZY',
      'ENABLE',
    ];
    let k = 0;
    for (const line of garbage) {
      const tag = `h${++k}`;
      const answer = await c.command(tag, line);
      expect(answer.at(-1), line).toMatch(new RegExp(`^${tag} BAD `));
    }
    expect(await c.command('h99', 'NOOP')).toEqual(['h99 OK NOOP completed.']);
    c.write('* BAD-TAG\r\n');
    expect(await c.readLine()).toBe('* BAD Invalid tag');
    expect(await c.command('h100', 'NOOP')).toEqual(['h100 OK NOOP completed.']);
    c.write(`h101 NOOP ${'x'.repeat(70_000)}\r\n`);
    expect(await c.readLine()).toMatch(/^h101 BAD /);
    expect(await c.command('h102', 'NOOP')).toEqual(['h102 OK NOOP completed.']);
    c.close();
  });

  it('refuses writes with NOPERM, makes STORE, EXPUNGE and CLOSE harmless, and discards APPEND literals unread', async () => {
    const c = await loggedIn();
    const before = await c.command('i0', 'SELECT INBOX');
    const flagsBefore = await c.command('i1', 'FETCH 1:* (UID FLAGS)');
    c.write('i2 APPEND INBOX (\\Seen) {20}\r\n');
    expect(await c.readLine()).toBe('+ Ready for literal data');
    c.write('i3 LOGOUT\r\nabcdefg\r\n\r\n');
    expect(await c.readUntilTagged('i2')).toEqual(['i2 NO [NOPERM] The archive is read-only.']);
    c.write('i4 APPEND INBOX {11+}\r\ni5 LOGOUT\r\n\r\n');
    expect(await c.readUntilTagged('i4')).toEqual(['i4 NO [NOPERM] The archive is read-only.']);
    expect(await c.command('i6', 'STORE 1:* +FLAGS (\\Deleted)')).toEqual(['i6 OK Store completed (the archive is read-only; nothing changed).']);
    expect(await c.command('i7', 'UID STORE 1 FLAGS.SILENT (\\Flagged)')).toEqual(['i7 OK Store completed (the archive is read-only; nothing changed).']);
    expect(await c.command('i8', 'EXPUNGE')).toEqual(['i8 OK Expunge completed (the archive is read-only; nothing removed).']);
    expect(await c.command('i9', 'UID EXPUNGE 1:*')).toEqual(['i9 OK Expunge completed (the archive is read-only; nothing removed).']);
    expect(await c.command('i10', 'COPY 1 "Sent Items"')).toEqual(['i10 NO [NOPERM] The archive is read-only.']);
    expect(await c.command('i11', 'UID MOVE 1 "Sent Items"')).toEqual(['i11 NO [NOPERM] The archive is read-only.']);
    expect(await c.command('i12', 'CREATE Trash')).toEqual(['i12 NO [NOPERM] The archive is read-only.']);
    expect(await c.command('i13', 'DELETE INBOX')).toEqual(['i13 NO [NOPERM] The archive is read-only.']);
    expect(await c.command('i14', 'RENAME INBOX Other')).toEqual(['i14 NO [NOPERM] The archive is read-only.']);
    expect((await c.command('i15', 'FETCH 1:* (UID FLAGS)')).slice(0, -1)).toEqual(flagsBefore.slice(0, -1));
    expect(await c.command('i16', 'CLOSE')).toEqual(['i16 OK Close completed.']);
    const after = await c.command('i17', 'SELECT INBOX');
    expect(after.slice(0, -1)).toEqual(before.slice(0, -1));
    c.close();
  });

  it('requires STARTTLS on the plain port and discards what was pipelined after it', async () => {
    const c = await RawImapClient.connectPlain(h.plainPort);
    expect(await c.readLine()).toBe(`* OK [CAPABILITY ${PLAIN_CAPS}] Coffer ready.`);
    expect(await c.command('j1', 'LOGIN jane@acme pw-jane')).toEqual(['j1 NO [PRIVACYREQUIRED] Use STARTTLS (or port 993) before logging in.']);
    expect(await c.command('j2', `AUTHENTICATE PLAIN ${b64('\0jane@acme\0pw-jane')}`)).toEqual(['j2 NO [PRIVACYREQUIRED] Use STARTTLS (or port 993) before logging in.']);
    c.write('j3 LOGIN {9}\r\n');
    expect(await c.readLine()).toBe('j3 NO [PRIVACYREQUIRED] Use STARTTLS (or port 993) before logging in.');
    c.write('j4 STARTTLS\r\nj5 LOGIN jane@acme pw-jane\r\n');
    expect(await c.readUntilTagged('j4')).toEqual(['j4 OK Begin TLS negotiation now.']);
    await c.startTls();
    expect(await c.command('j6', 'CAPABILITY')).toEqual([`* CAPABILITY ${TLS_CAPS}`, 'j6 OK Capability completed.']);
    expect(await c.command('j7', 'NOOP')).toEqual(['j7 OK NOOP completed.']);
    expect(await c.command('j8', 'STARTTLS')).toEqual(['j8 BAD TLS is already active.']);
    await c.login();
    c.close();
  });

  it('authenticates with PLAIN (with and without SASL-IR) and LOGIN, and a cancelled exchange answers BAD', async () => {
    const c1 = await RawImapClient.connectTls(h.tlsPort);
    await c1.readLine();
    expect((await c1.command('k1', `AUTHENTICATE PLAIN ${b64('\0jane@acme\0pw-jane')}`))[0]).toMatch(/^k1 OK \[CAPABILITY IMAP4rev1 .*\] Logged in$/);
    c1.close();
    const c2 = await RawImapClient.connectTls(h.tlsPort);
    await c2.readLine();
    c2.write('k2 AUTHENTICATE PLAIN\r\n');
    expect(await c2.readLine()).toBe('+ ');
    c2.write(`${b64('jane@acme\0jane@acme\0pw-jane')}\r\n`);
    expect((await c2.readUntilTagged('k2'))[0]).toMatch(/^k2 OK \[CAPABILITY /);
    c2.close();
    const c3 = await RawImapClient.connectTls(h.tlsPort);
    await c3.readLine();
    c3.write('k3 AUTHENTICATE LOGIN\r\n');
    expect(await c3.readLine()).toBe(`+ ${b64('Username:')}`);
    c3.write(`${b64('jane@acme-alias')}\r\n`);
    expect(await c3.readLine()).toBe(`+ ${b64('Password:')}`);
    c3.write(`${b64('pw-jane')}\r\n`);
    expect((await c3.readUntilTagged('k3'))[0]).toMatch(/^k3 OK \[CAPABILITY /);
    c3.close();
    const c4 = await RawImapClient.connectTls(h.tlsPort);
    await c4.readLine();
    c4.write('k4 AUTHENTICATE PLAIN\r\n');
    await c4.readLine();
    c4.write('*\r\n');
    expect(await c4.readUntilTagged('k4')).toEqual(['k4 BAD Authentication aborted by client.']);
    c4.write('k5 LOGIN {9+}\r\njane@acme {7+}\r\npw-jane\r\n');
    expect((await c4.readUntilTagged('k5'))[0]).toMatch(/^k5 OK \[CAPABILITY /);
    c4.close();
  });

  it('answers failed logins with AUTHENTICATIONFAILED, a stopped instance with UNAVAILABLE, and splits on the last @', async () => {
    expect(splitLoginName('jane@example.com@acme')).toEqual({ user: 'jane@example.com', instance: 'acme' });
    expect(splitLoginName('jane')).toBeNull();
    const c = await RawImapClient.connectTls(h.tlsPort);
    await c.readLine();
    expect(await c.command('l1', 'LOGIN jane@acme wrong')).toEqual(['l1 NO [AUTHENTICATIONFAILED] Authentication failed.']);
    expect(await c.command('l2', 'LOGIN jane@nowhere pw-jane')).toEqual(['l2 NO [AUTHENTICATIONFAILED] Authentication failed.']);
    expect(await c.command('l3', 'LOGIN jane@stopped pw-jane')).toEqual(['l3 NO [UNAVAILABLE] Instance stopped is not running. Please try again later.']);
    const started = Date.now();
    expect(await c.command('l4', 'LOGIN jane@acme wrong-again')).toEqual(['l4 NO [AUTHENTICATIONFAILED] Authentication failed.']);
    expect(Date.now() - started).toBeGreaterThanOrEqual(40); // the delay grows with repeated failures
    expect(await c.command('l5', 'LOGIN jane@acme pw-jane')).toEqual([`l5 OK [CAPABILITY ${AUTH_CAPS}] Logged in`]);
    c.close();
  });

  it('reports new mail in IDLE, runs commands pipelined after DONE, and idles in the authenticated state', async () => {
    const c = await loggedIn();
    const select = await c.command('m0', 'SELECT "Sent Items"');
    expect(select).toContain('* 1 EXISTS');
    c.write('m1 IDLE\r\n');
    expect(await c.readLine()).toBe('+ idling');
    await h.acme.ingest('jane', [{ name: 'new', folder: 'Sent Items', raw: Buffer.from('From: jane@example.com\r\nSubject: idle test\r\n\r\nnew\r\n') }]);
    expect(await c.readLine()).toBe('* 2 EXISTS');
    expect(await c.readLine()).toBe('* 0 RECENT');
    c.write('DONE\r\nm2 FETCH 2 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])\r\n');
    expect(await c.readUntilTagged('m1')).toEqual(['m1 OK Idle completed.']);
    expect(await c.readUntilTagged('m2')).toEqual(['* 2 FETCH (BODY[HEADER.FIELDS (SUBJECT)] {22}\r\nSubject: idle test\r\n\r\n)', 'm2 OK Fetch completed.']);
    expect(await c.command('m3', 'UNSELECT')).toEqual(['m3 OK Unselect completed.']);
    c.write('m4 IDLE\r\n');
    expect(await c.readLine()).toBe('+ idling');
    c.write('DONE\r\n');
    expect(await c.readUntilTagged('m4')).toEqual(['m4 OK Idle completed.']);
    c.close();
  });

  it('filters FETCH by CHANGEDSINCE and reports new messages on NOOP', async () => {
    const c = await loggedIn();
    await c.command('n0', 'SELECT "Other Archives/bob/Inbox"');
    const modseq = Number(/MODSEQ \((\d+)\)/.exec((await c.command('n1', 'FETCH 1 (MODSEQ)'))[0]!)![1]);
    expect(await c.command('n2', `FETCH 1:* (FLAGS) (CHANGEDSINCE ${modseq})`)).toEqual(['n2 OK Fetch completed.']);
    expect(await c.command('n3', `UID FETCH 1:* (FLAGS) (CHANGEDSINCE ${modseq - 1})`)).toEqual([`* 1 FETCH (UID 1 FLAGS () MODSEQ (${modseq}))`, 'n3 OK Fetch completed.']);
    await h.acme.ingest('bob', [{ name: 'bob2', folder: 'Inbox', raw: Buffer.from('From: bob@example.com\r\nSubject: second\r\n\r\nx\r\n') }]);
    expect(await c.command('n4', 'NOOP')).toEqual(['* 2 EXISTS', '* 0 RECENT', 'n4 OK NOOP completed.']);
    expect(await c.command('n5', 'FETCH 2 (UID)')).toEqual(['* 2 FETCH (UID 2)', 'n5 OK Fetch completed.']);
    c.close();
  });

  it('disconnects a client after three bad commands before login', async () => {
    const c = await RawImapClient.connectTls(h.tlsPort);
    await c.readLine();
    expect(await c.command('o1', 'SELECT INBOX')).toEqual(['o1 BAD Log in first.']);
    expect(await c.command('o2', 'FOO')).toEqual(['o2 BAD Unknown command FOO']);
    c.write('o3 BAR\r\n');
    expect(await c.readLine()).toBe('o3 BAD Unknown command BAR');
    expect(await c.readLine()).toBe('* BYE Too many invalid commands.');
  });

  it('sends folder names in modified UTF-7 and selects them by that name', async () => {
    await h.acme.ingest('jane', [{ name: 'draft', folder: 'Entwürfe/日本', raw: Buffer.from('From: a@example.com\r\nSubject: d\r\n\r\nx\r\n') }]);
    const c = await loggedIn();
    expect(await c.command('p1', 'LIST "" "Entw*"')).toEqual([
      '* LIST (\\HasChildren) "/" Entw&APw-rfe',
      '* LIST (\\HasNoChildren) "/" Entw&APw-rfe/&ZeVnLA-',
      'p1 OK LIST completed.',
    ]);
    expect((await c.command('p2', 'EXAMINE Entw&APw-rfe/&ZeVnLA-'))).toContain('* 1 EXISTS');
    expect(await c.command('p3', 'STATUS "Entw&APw-rfe" (MESSAGES)')).toEqual(['* STATUS Entw&APw-rfe (MESSAGES 0)', 'p3 OK Status completed.']);
    c.close();
  });

  it('accepts a command line of exactly 64 KiB and answers one byte more with BAD', async () => {
    const c = await loggedIn();
    await c.command('q0', 'EXAMINE INBOX');
    /** `tag UID FETCH 1,2,3,… (UID)` padded with `,1` and `,11` members to exactly `bytes` bytes. */
    const line = (tag: string, bytes: number) => {
      const head = `${tag} UID FETCH 1`;
      const tail = ' (UID)';
      let set = '';
      for (let n = 2; head.length + set.length + tail.length + 8 < bytes; n++) set += `,${n}`;
      let remainder = bytes - (head.length + set.length + tail.length);
      if (remainder % 2 === 1) {
        set += ',11';
        remainder -= 3;
      }
      return head + set + ',1'.repeat(remainder / 2) + tail;
    };
    const atLimit = line('q1', 64 * 1024);
    expect(atLimit.length).toBe(64 * 1024);
    c.write(`${atLimit}\r\n`);
    expect((await c.readUntilTagged('q1')).at(-1)).toBe('q1 OK Fetch completed.');
    const overLimit = line('q2', 64 * 1024 + 1);
    expect(overLimit.length).toBe(64 * 1024 + 1);
    c.write(`${overLimit}\r\n`);
    expect((await c.readUntilTagged('q2')).at(-1)).toMatch(/^q2 BAD /);
    expect(await c.command('q3', 'NOOP')).toEqual(['q3 OK NOOP completed.']);
    c.close();
  });

  it('enables CONDSTORE once and, as Dovecot, adds no MODSEQ to a FETCH that did not ask for it', async () => {
    const c = await loggedIn();
    expect(await c.command('r1', 'ENABLE CONDSTORE QRESYNC X-UNKNOWN')).toEqual(['* ENABLED CONDSTORE', 'r1 OK Enabled.']);
    expect(await c.command('r2', 'ENABLE CONDSTORE')).toEqual(['* ENABLED', 'r2 OK Enabled.']);
    await c.command('r3', 'EXAMINE "Other Archives/bob/Inbox"');
    expect(await c.command('r4', 'FETCH 1 (FLAGS)')).toEqual(['* 1 FETCH (FLAGS ())', 'r4 OK Fetch completed.']);
    c.close();
  });

  it('writes the per-instance connection log when enabled, without credentials', async () => {
    await h.acme.management('SetInstanceLocalConfiguration', { imapServerConnectionLogEnabled: true });
    const c = await RawImapClient.connectTls(h.tlsPort);
    await c.readLine();
    await c.command('s1', 'LOGIN jane@acme pw-jane');
    await c.command('s2', 'EXAMINE INBOX');
    await c.command('s3', 'LOGOUT');
    c.close();
    const file = path.join(h.engine.dataDir, 'instances', 'acme', 'logs', `imap-${new Date().toISOString().slice(0, 10)}.log`);
    let text = '';
    for (let k = 0; k < 40 && !text.includes('disconnected'); k++) {
      await new Promise((r) => setTimeout(r, 100));
      text = existsSync(file) ? readFileSync(file, 'utf8') : '';
    }
    expect(text).toMatch(/login jane from 127\.0\.0\.1 \(TLS\)/);
    expect(text).toMatch(/C: s2 EXAMINE/);
    expect(text).toMatch(/S: s2 OK/);
    expect(text).not.toMatch(/pw-jane/);
    await h.acme.management('SetInstanceLocalConfiguration', { imapServerConnectionLogEnabled: false });
  });

  it('serves the command sequence Thunderbird sends, and the downloaded bodies match the imported files', async () => {
    const c = await RawImapClient.connectTls(h.tlsPort);
    await c.readLine();
    c.write('1 capability\r\n');
    await c.readUntilTagged('1');
    c.write('2 authenticate PLAIN\r\n');
    expect(await c.readLine()).toBe('+ ');
    c.write(`${b64('\0jane@acme\0pw-jane')}\r\n`);
    expect((await c.readUntilTagged('2')).at(-1)).toMatch(/^2 OK \[CAPABILITY /);
    expect((await c.command('3', 'namespace')).at(-1)).toBe('3 OK Namespace completed.');
    expect((await c.command('4', 'ID ("name" "Thunderbird" "version" "153.0")')).at(-1)).toBe('4 OK ID completed.');
    const subscribed = await c.command('5', 'list (subscribed) "" "*"');
    expect(subscribed).toContain('* LIST (\\HasNoChildren \\Subscribed) "/" INBOX');
    expect(await c.command('6', 'list "" "INBOX"')).toEqual(['* LIST (\\HasNoChildren) "/" INBOX', '6 OK LIST completed.']);
    expect(await c.command('7', 'create "Trash"')).toEqual(['7 NO [NOPERM] The archive is read-only.']);
    expect((await c.command('8', 'select "INBOX"')).at(-1)).toBe('8 OK [READ-ONLY] Select completed.');
    const flags = await c.command('9', 'UID fetch 1:* (FLAGS)');
    expect(flags.length).toBe(h.inbox.length + 1);
    const headers = await c.command('10', 'UID fetch 1:* (UID RFC822.SIZE FLAGS BODY.PEEK[HEADER.FIELDS (From To Cc Bcc Subject Date Message-ID Priority X-Priority References Newsgroups In-Reply-To Content-Type Reply-To)])');
    expect(headers.length).toBe(h.inbox.length + 1);
    c.write('11 IDLE\r\n');
    expect(await c.readLine()).toBe('+ idling');
    c.write('DONE\r\n');
    await c.readUntilTagged('11');
    const bodies = await c.command('12', `UID fetch 1:${h.inbox.length} (UID RFC822.SIZE BODY.PEEK[])`, 30_000);
    const downloaded = bodies.slice(0, -1).map((line) => literalOf(line, 'BODY[]').toString('base64')).sort();
    expect(downloaded).toEqual(h.inbox.map((b) => b.toString('base64')).sort());
    c.close(); // Thunderbird quits without LOGOUT
  });

  it('answers AUTHORIZATIONFAILED to a user whose login privileges exclude IMAP', async () => {
    await h.acme.management('CreateUser', { userName: 'dave', privileges: 'login', password: 'pw-dave' });
    await h.acme.management('SetUserLoginPrivileges', { userName: 'dave', loginPrivileges: 'web' });
    const c = await RawImapClient.connectTls(h.tlsPort);
    await c.readLine();
    expect(await c.command('t1', 'LOGIN dave@acme pw-dave')).toEqual(['t1 NO [AUTHORIZATIONFAILED] This user may not access the archive over IMAP.']);
    c.close();
  });

  it('logs in with synchronising literals and refuses a literal over the limit without losing the connection', async () => {
    const c = await RawImapClient.connectTls(h.tlsPort);
    await c.readLine();
    c.write('u1 LOGIN {9}\r\n');
    expect(await c.readLine()).toBe('+ Ready for literal data');
    c.write('jane@acme {7}\r\n');
    expect(await c.readLine()).toBe('+ Ready for literal data');
    c.write('pw-jane\r\n');
    expect((await c.readUntilTagged('u1'))[0]).toMatch(/^u1 OK \[CAPABILITY /);
    await c.command('u2', 'EXAMINE INBOX');
    c.write(`u3 SEARCH TEXT {${64 * 1024 + 1}}\r\n`);
    expect(await c.readLine()).toMatch(/^u3 BAD .*Literal larger than 65536 bytes/);
    expect(await c.command('u4', 'NOOP')).toEqual(['u4 OK NOOP completed.']);
    c.write(`u5 SEARCH TEXT {${64 * 1024}}\r\n`);
    expect(await c.readLine()).toBe('+ Ready for literal data');
    c.write(`${'x'.repeat(64 * 1024)}\r\n`);
    expect(await c.readUntilTagged('u5')).toEqual(['* SEARCH', 'u5 OK Search completed.']);
    c.close();
  });
});
