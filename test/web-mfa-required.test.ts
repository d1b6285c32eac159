/**
 * The instance setting that requires MFA for Web Access logins, end to end: set through the real
 * Management API (SetInstanceConfiguration / GetInstanceConfiguration, property
 * `webAccessMfaRequired`), pushed into the running instance and applied again at its start; a web
 * login of a user without MFA leads into enrolment, and nothing of the archive opens before it is done.
 * Single server mode in this process (Management Server, Instance Host, CAS with Web Access).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { generate } from 'otplib';
import { InstanceClient } from '../src/instance/client.js';
import { ok, startSingleServer, type SingleServer } from './helpers/single-server.js';
import { WebClient, csrfOf } from './helpers/web-client.js';

describe('Web Access MFA required by the instance configuration', () => {
  let single: SingleServer;
  let dataDir: string;
  let api: SingleServer['api'];
  let instance: InstanceClient;
  let janeInbox = 0;

  const web = () => single.web();

  beforeAll(async () => {
    single = await startSingleServer({ users: ['jane', 'bob', 'carl'], subject: 'Secret plans' });
    ({ dataDir, api, instance } = single);
    janeInbox = single.inbox;
  }, 120_000);

  afterAll(async () => {
    instance?.close();
    await single?.close();
  });

  it('is a property of the instance configuration: off by default, set and read back, a bad value refused by name', async () => {
    expect(ok(await api.invoke('GetInstanceConfiguration', { instanceID: 'acme' }))).toMatchObject({ instanceID: 'acme', webAccessMfaRequired: false });
    const bad = await api.invoke('SetInstanceConfiguration', { config: { instanceID: 'acme', webAccessMfaRequired: 'yes' } });
    expect(bad.statusCode).toBe('failed');
    expect(bad.error!.message).toMatch(/config\.webAccessMfaRequired/);
    // Off: a user without MFA signs in straight to the archive.
    const before = await web().login('/acme', 'carl', 'pw-carl-123');
    expect(before.status).toBe(303);
    expect(before.headers.location).toBe('/acme/folders');
    ok(await api.invoke('SetInstanceConfiguration', { config: { instanceID: 'acme', webAccessMfaRequired: true } }));
    expect(ok(await api.invoke('GetInstanceConfiguration', { instanceID: 'acme' }))).toMatchObject({ webAccessMfaRequired: true, startMode: 'manual' });
    // Kept in the management database.
    const db = JSON.parse(readFileSync(path.join(dataDir, 'config', 'management-db.json'), 'utf8').replace(/^\uFEFF/, ''));
    expect(db.instances[0].config.webAccessMfaRequired).toBe(true);
  });

  it('leads a user without MFA into enrolment at login, and opens nothing else until it is done', async () => {
    const c = web();
    const r = await c.login('/acme', 'jane', 'pw-jane-123');
    expect(r.status).toBe(303);
    expect(r.headers.location).toBe('/acme/account');
    const page = await c.get('/acme/account');
    expect(page.status).toBe(200);
    expect(page.text).toContain('This archive requires two-factor authentication');
    expect(page.text).not.toContain('name="oldPassword"');
    // Every way into the archive leads back to enrolment; forms are refused.
    for (const p of ['/acme/folders', `/acme/folder/${janeInbox}`, '/acme/search?q=plans', `/acme/message/${janeInbox}/1`, `/acme/message/${janeInbox}/1/eml`, '/acme/']) {
      const g = await c.get(p);
      expect(g.status, p).toBe(303);
      expect(g.headers.location, p).toMatch(/^\/acme\/(account|login|folders)$/);
      expect(g.text, p).not.toContain('Secret plans');
    }
    const exp = await c.post('/acme/export', { _csrf: csrfOf(page.text), format: 'mbox', scope: 'folder', folderId: String(janeInbox) });
    expect(exp.status).toBe(403);
    expect(exp.text).not.toContain('Secret plans');
    // The instance itself keeps such a session out of the archive.
    const direct = await instance.authenticate({ user: 'jane', password: 'pw-jane-123', channel: 'web' });
    expect(direct).toMatchObject({ ok: true, mfaEnrolmentRequired: true });
    if (!direct.ok) return;
    await expect(instance.listFolders({ session: direct.session })).rejects.toThrow(/requires two-factor authentication/);
    await expect(instance.searchArchive({ session: direct.session, query: { text: 'plans' } })).rejects.toThrow(/requires two-factor authentication/);
    // IMAP is not a web login: the setting does not touch it.
    expect((await instance.authenticate({ user: 'jane', password: 'pw-jane-123', channel: 'imap' }))).toMatchObject({ ok: true });

    // Enrol: start, scan the key, confirm a code; then the archive opens.
    const started = await c.post('/acme/account/mfa/start', { _csrf: csrfOf(page.text) });
    const secret = /data-testid="mfa-secret">([A-Z2-7]+)</.exec(started.text)![1]!;
    const wrong = await c.post('/acme/account/mfa/confirm', { _csrf: csrfOf(started.text), code: (await generate({ secret })) === '000000' ? '111111' : '000000' });
    expect(wrong.status).toBe(400);
    expect((await c.get('/acme/folders')).status).toBe(303);
    const done = await c.post('/acme/account/mfa/confirm', { _csrf: csrfOf(wrong.text), code: await generate({ secret }) });
    expect(done.status).toBe(303);
    expect(done.headers.location).toBe('/acme/folders');
    const folders = await c.get('/acme/folders');
    expect(folders.status).toBe(200);
    expect(folders.text).toContain('My Archive');
    expect((await c.get(`/acme/folder/${janeInbox}`)).text).toContain('Secret plans');
    // Required means it cannot be turned off.
    const account = await c.get('/acme/account');
    expect(account.text).toContain('cannot be turned off');
    expect(account.text).not.toContain('/account/mfa/remove');
    const removed = await c.post('/acme/account/mfa/remove', { _csrf: csrfOf(account.text) });
    expect(removed.text).toContain('requires MFA');
    // From now on jane's login asks for a code.
    const next = await web().login('/acme', 'jane', 'pw-jane-123');
    expect(next.status).toBe(200);
    expect(next.text).toContain('name="totp"');
  });

  it('is applied again when the instance starts, and lifted when set off', async () => {
    // Change the instance's own setting behind the Management Server's back; a start puts it right.
    await instance.management('SetInstanceLocalConfiguration', { requireMfa: false });
    expect((await web().login('/acme', 'bob', 'pw-bob-123')).headers.location).toBe('/acme/folders');
    instance.close();
    ok(await api.invoke('StopInstances', { instanceFilter: 'acme' }));
    ok(await api.invoke('StartInstances', { instanceFilter: 'acme' }));
    const afterStart = await waitForLogin('bob');
    expect(afterStart.headers.location).toBe('/acme/account');
    ok(await api.invoke('SetInstanceConfiguration', { config: { instanceID: 'acme', webAccessMfaRequired: false } }));
    expect(ok(await api.invoke('GetInstanceConfiguration', { instanceID: 'acme' })).webAccessMfaRequired).toBe(false);
    expect((await web().login('/acme', 'bob', 'pw-bob-123')).headers.location).toBe('/acme/folders');
  }, 60_000);

  /** The CAS reconnects to the restarted instance on its own; until then the page is a 503. */
  async function waitForLogin(user: string) {
    const until = Date.now() + 20_000;
    while ((await web().get('/acme/login')).status === 503 && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 200));
    return web().login('/acme', user, `pw-${user}-123`);
  }
});
