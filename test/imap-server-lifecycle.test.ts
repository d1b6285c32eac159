/**
 * Server-level behaviour: timeouts, keep-alives, connection limits, certificate reload, the error
 * boundary around commands, and graceful shutdown with `* BYE`.
 */
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../src/common/logger.js';
import { generateSelfSigned } from '../src/common/certs.js';
import { ImapServer, type ImapServerOptions } from '../src/cas/imap/server.js';
import { RawImapClient, startHarness, type Harness } from './imap-harness.js';

describe('IMAP server lifecycle', () => {
  let h: Harness;
  const extra: ImapServer[] = [];
  beforeAll(async () => {
    h = await startHarness({ inboxFiles: [] });
  });
  afterAll(async () => {
    for (const server of extra) await server.close();
    await h?.close();
  });

  async function serverWith(overrides: Partial<ImapServerOptions>): Promise<{ server: ImapServer; tlsPort: number; plainPort: number }> {
    const server = new ImapServer({
      resolveInstance: async () => ({ ok: true, instanceId: 'acme', client: h.acme }),
      tls: () => ({ key: h.certificate.keyPem, cert: h.certificate.certPem }),
      productName: () => 'Coffer',
      log: createLogger('silent'),
      host: '127.0.0.1',
      plainPort: 0,
      tlsPort: 0,
      ...overrides,
      limits: { authFailureDelayMs: 10, maxAuthFailureDelayMs: 10, shutdownGraceMs: 300, ...overrides.limits },
    });
    extra.push(server);
    const ports = await server.listen();
    return { server, tlsPort: ports.tlsPort!, plainPort: ports.plainPort! };
  }

  it('says BYE to a client that stays silent before login', async () => {
    const { tlsPort } = await serverWith({ limits: { preAuthIdleTimeoutMs: 150 } });
    const c = await RawImapClient.connectTls(tlsPort);
    await c.readLine();
    expect(await c.readLine(2_000)).toBe('* BYE Disconnected for inactivity.');
  });

  it('logs out a client that stays silent in IDLE past the idle timeout', async () => {
    const { tlsPort } = await serverWith({ limits: { authIdleTimeoutMs: 300 } });
    const c = await RawImapClient.connectTls(tlsPort);
    await c.readLine();
    await c.login();
    c.write('i1 IDLE\r\n');
    expect(await c.readLine()).toBe('+ idling');
    expect(await c.readLine(3_000)).toBe('* BYE Disconnected for inactivity.');
  });

  it('sends keep-alives during IDLE at the configured interval', async () => {
    const { tlsPort } = await serverWith({ limits: { idleKeepaliveMs: 100 } });
    const c = await RawImapClient.connectTls(tlsPort);
    await c.readLine();
    await c.login();
    await c.command('a1', 'SELECT INBOX');
    c.write('a2 IDLE\r\n');
    expect(await c.readLine()).toBe('+ idling');
    expect(await c.readLine(2_000)).toBe('* OK Still here');
    expect(await c.readLine(2_000)).toBe('* OK Still here');
    c.write('DONE\r\n');
    expect(await c.readUntilTagged('a2')).toEqual(['a2 OK Idle completed.']);
    c.close();
  });

  it('refuses connections over the per-address limit with BYE', async () => {
    const { tlsPort } = await serverWith({ limits: { maxConnectionsPerAddress: 2 } });
    const a = await RawImapClient.connectTls(tlsPort);
    const b = await RawImapClient.connectTls(tlsPort);
    expect(await a.readLine()).toMatch(/^\* OK /);
    expect(await b.readLine()).toMatch(/^\* OK /);
    const c = await RawImapClient.connectTls(tlsPort);
    expect(await c.readLine()).toBe('* BYE Too many connections from your address.');
    a.close();
    await new Promise((r) => setTimeout(r, 100));
    const d = await RawImapClient.connectTls(tlsPort);
    expect(await d.readLine()).toMatch(/^\* OK /);
    b.close();
    d.close();
  });

  it('reloads the certificate without a restart', async () => {
    let current = h.certificate;
    const { server, tlsPort } = await serverWith({ tls: () => ({ key: current.keyPem, cert: current.certPem }) });
    const fingerprint = async () => {
      const socket = tls.connect({ host: '127.0.0.1', port: tlsPort, rejectUnauthorized: false });
      await new Promise((r) => socket.once('secureConnect', r));
      const print = socket.getPeerCertificate().fingerprint256;
      expect(socket.getProtocol()).toMatch(/^TLSv1\.[23]$/);
      socket.destroy();
      return print;
    };
    const before = await fingerprint();
    current = generateSelfSigned('localhost');
    server.reloadCertificate();
    const after = await fingerprint();
    expect(after).not.toBe(before);
  });

  it('refuses TLS 1.1 clients', async () => {
    const { tlsPort } = await serverWith({});
    const socket = tls.connect({ host: '127.0.0.1', port: tlsPort, rejectUnauthorized: false, maxVersion: 'TLSv1.1', minVersion: 'TLSv1' });
    const outcome = await new Promise<string>((resolve) => {
      socket.once('secureConnect', () => resolve('connected'));
      socket.once('error', () => resolve('refused'));
    });
    socket.destroy();
    expect(outcome).toBe('refused');
  });

  it('answers an unexpected failure with NO [SERVERBUG] and a reference, and keeps serving', async () => {
    const { tlsPort } = await serverWith({
      resolveInstance: async (id) => {
        if (id === 'broken') throw new Error('routing table exploded: secret internals');
        return { ok: true, instanceId: 'acme', client: h.acme };
      },
    });
    const c = await RawImapClient.connectTls(tlsPort);
    await c.readLine();
    const [answer] = await c.command('b1', 'LOGIN jane@broken pw-jane');
    expect(answer).toMatch(/^b1 NO \[SERVERBUG\] Internal error occurred\. Refer to server log for more information\. \[[\w-]+\.1\]$/);
    expect(answer).not.toMatch(/exploded|secret/);
    expect(await c.command('b2', 'NOOP')).toEqual(['b2 OK NOOP completed.']);
    await c.login();
    c.close();
  });

  it('answers NO [UNAVAILABLE] when the instance cannot be reached and recovers afterwards', async () => {
    let isDown = false;
    const { tlsPort } = await serverWith({
      resolveInstance: async () => (isDown ? { ok: false, reason: 'unavailable', message: 'Instance acme is not running.' } : { ok: true, instanceId: 'acme', client: h.acme }),
    });
    isDown = true;
    const c = await RawImapClient.connectTls(tlsPort);
    await c.readLine();
    expect(await c.command('u1', 'LOGIN jane@acme pw-jane')).toEqual(['u1 NO [UNAVAILABLE] Instance acme is not running.']);
    isDown = false;
    await c.login();
    c.close();
  });

  it('closes a connection whose client stops reading during a large FETCH', async () => {
    const body = Buffer.alloc(24 * 1024 * 1024, 'abcdefghij0123456789abcdefghij0123456789abcdefghij0123456789abcdefghij012345\r\n');
    await h.acme.ingest('jane', [{ name: 'big', folder: 'Big', raw: Buffer.concat([Buffer.from('From: a@example.com\r\nSubject: big\r\n\r\n'), body]) }]);
    const { server, tlsPort } = await serverWith({ limits: { outputStallTimeoutMs: 300 } });
    const c = await RawImapClient.connectTls(tlsPort);
    await c.readLine();
    await c.login();
    await c.command('w1', 'EXAMINE Big');
    c.socket.pause();
    c.write('w2 FETCH 1 BODY.PEEK[]\r\n');
    const started = Date.now();
    // The server gives up on the stalled write and closes its side.
    while (server.connectionCount > 0 && Date.now() - started < 10_000) await new Promise((r) => setTimeout(r, 50));
    expect(server.connectionCount).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
    c.close();
  });

  it('says BYE to its clients when the connection to the instance is lost', async () => {
    const link = await h.engine.connect('acme');
    const { tlsPort } = await serverWith({ resolveInstance: async () => ({ ok: true, instanceId: 'acme', client: link }) });
    const c = await RawImapClient.connectTls(tlsPort);
    await c.readLine();
    await c.login();
    link.close();
    expect(await c.readLine(5_000)).toBe('* BYE Connection to the archive was lost. Please log in again.');
  });

  it('loses the instance in the middle of a FETCH of many small messages: only whole responses, then BYE, and it keeps serving', async () => {
    const text = 'a line of archived text\r\n'.repeat(100);
    await h.acme.ingest('jane', Array.from({ length: 5000 }, (_, i) => ({ name: `s${i}`, folder: 'Many', raw: Buffer.from(`From: a@example.com\r\nSubject: m${i}\r\n\r\n${text}`) })));
    const link = await h.engine.connect('acme');
    const { tlsPort } = await serverWith({ resolveInstance: async () => ({ ok: true, instanceId: 'acme', client: link }) });
    const c = await RawImapClient.connectTls(tlsPort);
    await c.readLine();
    await c.login();
    await c.command('x1', 'EXAMINE Many');
    c.write('x2 UID FETCH 1:* (UID BODY.PEEK[])\r\n');
    const responses = [await c.readLine()];
    link.close(); // mid-download: the composed responses and the reads in flight are cut off
    while (!responses[responses.length - 1]!.startsWith('* BYE')) responses.push(await c.readLine(10_000));
    const fetches = responses.filter((r) => / FETCH \(/.test(r));
    expect(fetches.length).toBeGreaterThan(0);
    expect(fetches.length).toBeLessThan(5000);
    fetches.forEach((r, i) => {
      // Every response that was started is whole: its literal exactly as long as announced, then `)`.
      const m = /^\* (\d+) FETCH \(UID (\d+) BODY\[\] \{(\d+)\}\r\n/.exec(r);
      expect(m, r.slice(0, 80)).not.toBeNull();
      expect(Number(m![1])).toBe(i + 1);
      const body = r.slice(m![0].length);
      expect(body.length).toBe(Number(m![3]) + 1);
      expect(body.endsWith(')')).toBe(true);
    });
    expect(responses[responses.length - 1]).toBe('* BYE Connection to the archive was lost. Please log in again.');
    // The server goes on: another connection through the harness's own link logs in and reads.
    const d = await RawImapClient.connectTls(h.tlsPort);
    await d.readLine();
    await d.login();
    expect((await d.command('y1', 'EXAMINE Many')).pop()).toMatch(/^y1 OK/);
    d.close();
    c.close();
  });

  it('admits only administrators while the instance is in safe mode', async () => {
    const { supervisor } = h.engine;
    supervisor.define({ instanceId: 'safe', baseDir: path.join(h.engine.dataDir, 'instances', 'safe'), startMode: 'manual' });
    await supervisor.start('safe');
    const safe = await h.engine.connect('safe');
    await safe.management('CreateUser', { userName: 'jane', privileges: 'login', password: 'pw-jane' });
    await safe.management('CreateUser', { userName: 'root', privileges: 'admin', password: 'pw-root' });
    safe.close();
    await supervisor.stop('safe');
    await supervisor.start('safe', { safeMode: true });
    const link = await h.engine.connect('safe');
    const { tlsPort } = await serverWith({ resolveInstance: async () => ({ ok: true, instanceId: 'safe', client: link }) });
    const c = await RawImapClient.connectTls(tlsPort);
    await c.readLine();
    expect(await c.command('m1', 'LOGIN jane@safe pw-jane')).toEqual(['m1 NO [UNAVAILABLE] The archive is in safe mode: only administrators can log in.']);
    expect((await c.command('m2', 'LOGIN root@safe pw-root'))[0]).toMatch(/^m2 OK \[CAPABILITY /);
    c.close();
  });

  it('sends BYE to every client at shutdown and stops accepting', async () => {
    const { server, tlsPort, plainPort } = await serverWith({});
    const a = await RawImapClient.connectTls(tlsPort);
    await a.readLine();
    await a.login();
    const b = await RawImapClient.connectPlain(plainPort);
    await b.readLine();
    const closing = server.close();
    expect(await a.readLine()).toBe('* BYE Server shutting down.');
    expect(await b.readLine()).toBe('* BYE Server shutting down.');
    await closing;
    await expect(RawImapClient.connectTls(tlsPort)).rejects.toThrow();
  });
});
