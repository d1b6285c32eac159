import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { SMTPServer } from 'smtp-server';
import { generateSecret, generate } from 'otplib';
import { startEngine, type Engine } from './helpers/engine.js';
import type { InstanceClient } from '../src/instance/client.js';

async function login(c: InstanceClient, user: string, password: string, totp?: string): Promise<string> {
  const r = await c.authenticate({ user, password, channel: 'web', totp });
  if (!r.ok) throw new Error(`${r.reason}: ${r.message}`);
  return r.session;
}

describe("a user's own account, kept by the instance", () => {
  let engine: Engine;
  let acme: InstanceClient;

  beforeAll(async () => {
    engine = await startEngine();
    acme = await engine.startInstance('acme');
    await acme.management('CreateUser', { userName: 'jane', privileges: 'login,changePassword,export', password: 'jane-pass-1' });
    await acme.management('CreateUser', { userName: 'bob', privileges: 'login', password: 'bob-pass-1' });
    await acme.management('SetUserEmailAddresses', { userName: 'jane', emailAddresses: 'jane@acme.example' });
  });
  afterAll(async () => { await engine?.close(); });

  it('changes the password with the old one, the privilege and the policy, and ends the other sessions', async () => {
    const s1 = await login(acme, 'jane', 'jane-pass-1');
    const s2 = await login(acme, 'jane', 'jane-pass-1');
    await expect(acme.changePassword({ session: s1, oldPassword: 'wrong', newPassword: 'jane-pass-2' })).rejects.toThrow(/current password/);
    await expect(acme.changePassword({ session: s1, oldPassword: 'jane-pass-1', newPassword: 'short' })).rejects.toThrow(/at least 8/);
    await acme.changePassword({ session: s1, oldPassword: 'jane-pass-1', newPassword: 'jane-pass-2' });
    await expect(acme.listFolders({ session: s2 })).rejects.toThrow(/session is not valid/);
    expect(await acme.listFolders({ session: s1 })).toBeDefined();
    expect((await acme.authenticate({ user: 'jane', password: 'jane-pass-1', channel: 'web' })).ok).toBe(false);
    const bob = await login(acme, 'bob', 'bob-pass-1');
    await expect(acme.changePassword({ session: bob, oldPassword: 'bob-pass-1', newPassword: 'bob-pass-2' })).rejects.toThrow(/privilege changePassword/);
  });

  it('asks for a TOTP code once MFA is on, takes each code once, and turns MFA off again', async () => {
    const s = await login(acme, 'jane', 'jane-pass-2');
    expect((await acme.mfaStatus({ session: s })).status).toBe('off');
    const secret = generateSecret();
    await expect(acme.mfaEnable({ session: s, secret: 'not base32!' })).rejects.toThrow(/base32/);
    await acme.mfaEnable({ session: s, secret });
    expect((await acme.mfaStatus({ session: s })).status).toBe('on');
    const first = await acme.authenticate({ user: 'jane', password: 'jane-pass-2', channel: 'web' });
    expect(first.ok).toBe(false);
    if (!first.ok) expect(first.reason).toBe('mfaRequired');
    expect((await acme.authenticate({ user: 'jane', password: 'jane-pass-2', channel: 'web', totp: '000000' })).ok).toBe(false);
    const code = await generate({ secret });
    const withCode = await login(acme, 'jane', 'jane-pass-2', code);
    // The same code again is a replay.
    expect((await acme.authenticate({ user: 'jane', password: 'jane-pass-2', channel: 'web', totp: code })).ok).toBe(false);
    await acme.mfaDisable({ session: withCode });
    expect((await acme.authenticate({ user: 'jane', password: 'jane-pass-2', channel: 'web' })).ok).toBe(true);
  });

  it('keeps SMTP settings without showing the password, tests them, and gives them for restores only with export', async () => {
    const received: string[] = [];
    const smtp = new SMTPServer({ authOptional: true, disabledCommands: ['STARTTLS'], onData(stream, _s, cb) { let d = ''; stream.on('data', (c) => { d += c; }); stream.on('end', () => { received.push(d); cb(); }); } });
    await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', r));
    const port = (smtp.server.address() as { port: number }).port;
    try {
      await expect(acme.management('SetSmtpSettings', { settings: { hostname: '' } })).rejects.toThrow(/hostname/);
      await acme.management('SetSmtpSettings', { settings: { hostname: '127.0.0.1', port, protocol: 'SMTP', password: 'smtp-secret', fromEmailAddress: 'archive@acme.example', recipientEmailAddresses: ['ops@acme.example'] } });
      expect(await acme.management('GetSmtpSettings', {})).toMatchObject({ hostname: '127.0.0.1', password: null });
      await acme.management('TestSmtpSettings', {});
      expect(received.join('')).toMatch(/test of the instance SMTP settings/);
      const jane = await login(acme, 'jane', 'jane-pass-2');
      expect(await acme.smtpForRestore({ session: jane })).toMatchObject({ hostname: '127.0.0.1', password: 'smtp-secret' });
      const bob = await login(acme, 'bob', 'bob-pass-1');
      await expect(acme.smtpForRestore({ session: bob })).rejects.toThrow(/export privilege/);
    } finally { smtp.close(); }
  });

  it('writes audit entries and refuses a forged message cleanly', async () => {
    const s = await login(acme, 'jane', 'jane-pass-2');
    await acme.audit({ session: s, action: 'MessageRetrieveContent', details: { folderId: 1, uid: 1 } });
    await expect(acme.audit({ session: s, action: 'drop table;', details: {} })).rejects.toThrow(/action/);
    await acme.ingest('jane', [{ name: 'one', folder: 'Inbox', raw: Buffer.from('Subject: one\r\n\r\nbody\r\n') }]);
    const f = (await acme.listFolders({ session: s }))[0]!;
    await expect(acme.readMessage({ session: s, folderId: f.id, uid: 999 })).rejects.toThrow(/no message/);
    await expect(acme.readMessage({ session: s, folderId: 424242, uid: 1 })).rejects.toThrow(/no such folder/);
  });
});
