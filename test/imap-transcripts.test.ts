import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawImapClient, startHarness, type Harness } from './imap-harness.js';

const AUTH_CAPS = 'IMAP4rev1 SASL-IR ID ENABLE IDLE LITERAL+ NAMESPACE UNSELECT CHILDREN SPECIAL-USE LIST-EXTENDED LIST-STATUS CONDSTORE ESEARCH';

describe('IMAP transcripts over real sockets', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('greets on 993 with the TLS capabilities and logs in with user@instance', async () => {
    const c = await RawImapClient.connectTls(h.tlsPort);
    expect(await c.readLine()).toBe('* OK [CAPABILITY IMAP4rev1 SASL-IR ID ENABLE IDLE LITERAL+ AUTH=PLAIN AUTH=LOGIN] Coffer ready.');
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
    const select = await c.command('a5', 'SELECT INBOX');
    expect(select[0]).toBe('* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)');
    expect(select[1]).toBe('* OK [PERMANENTFLAGS ()] Read-only mailbox.');
    expect(select[2]).toBe(`* ${h.inbox.length} EXISTS`);
    expect(select[3]).toBe('* 0 RECENT');
    expect(select.at(-1)).toBe('a5 OK [READ-ONLY] Select completed.');
    const fetch = await c.command('a6', 'FETCH 1 (UID FLAGS RFC822.SIZE BODY.PEEK[])');
    expect(fetch[0]).toMatch(/^\* 1 FETCH \(UID 1 FLAGS \(\\Seen\) RFC822\.SIZE \d+ BODY\[\] \{\d+\}\r\n/);
    expect(fetch.at(-1)).toBe('a6 OK Fetch completed.');
    expect(await c.command('a7', 'LOGOUT')).toEqual(['* BYE Logging out', 'a7 OK Logout completed.']);
    c.close();
  });
});
