/**
 * "Trust this device for 14 days" on the TOTP step of the Web Access login: the instance issues a
 * device token (only its hash is stored, next to users), revokes it when the password or MFA
 * changes, and accepts it only for the same user before it expires; the CAS keeps it in an
 * HttpOnly, Secure, SameSite=Lax cookie scoped to the instance's path. Real instance process,
 * real HTTPS, real chromium.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createHash } from 'node:crypto';
import path from 'node:path';
import Database from 'better-sqlite3';
import { generate, generateSecret } from 'otplib';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startEngine, type Engine } from './helpers/engine.js';
import { WebClient, csrfOf } from './helpers/web-client.js';
import { listenTestWebAccess, type TestWebAccess } from './helpers/web-access-server.js';
import type { InstanceClient } from '../src/instance/client.js';
import type { AuthResult } from '../src/instance/api.js';

const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const FOURTEEN_DAYS_S = 14 * 86400;
const sha256 = (s: string) => createHash('sha256').update(s).digest();
/** The code of the next 30-second step: accepted (one step of drift) and newer than a code just used. */
const nextCode = (secret: string) => generate({ secret, epoch: Math.floor(Date.now() / 1000) + 30 });

describe('trust this device for 14 days', () => {
  let engine: Engine;
  let acme: InstanceClient;
  let web: TestWebAccess;
  let server: TestWebAccess['server'];
  let ca: string;
  let browser: Browser;
  let origin: string;
  const secrets = new Map<string, string>();
  let r2Token = '';

  const password = (user: string) => `pw-${user}-123`;
  const instanceDb = () => new Database(path.join(engine.dataDir, 'instances', 'acme', 'instance.db'));
  async function withCode(user: string, extra: { trustDevice?: boolean; deviceToken?: string } = {}, code?: string): Promise<AuthResult> {
    return acme.authenticate({ user, password: password(user), channel: 'web', totp: code ?? await generate({ secret: secrets.get(user)! }), ...extra });
  }
  const byToken = (user: string, deviceToken: string, channel: 'web' | 'imap' = 'web') => acme.authenticate({ user, password: password(user), channel, deviceToken });

  beforeAll(async () => {
    engine = await startEngine();
    acme = await engine.startInstance('acme');
    for (const user of ['tina', 'uwe', 'hana', 'r1', 'r2', 'r3', 'r4', 'r5']) {
      await acme.management('CreateUser', { userName: user, privileges: 'login,changePassword', password: password(user) });
      await acme.ingest(user, [{ name: 'm', folder: 'Inbox', raw: Buffer.from(`From: a@b.example\r\nSubject: Hello ${user}\r\nDate: Mon, 01 Jan 2024 10:00:00 +0000\r\n\r\nhi\r\n`) }]);
      const r = await acme.authenticate({ user, password: password(user), channel: 'web' });
      if (!r.ok) throw new Error(r.message);
      const secret = generateSecret();
      await acme.mfaEnable({ session: r.session, secret });
      await acme.logout({ session: r.session });
      secrets.set(user, secret);
    }
    web = await listenTestWebAccess(acme);
    server = web.server;
    ca = web.ca;
    origin = web.origin;
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await web?.close();
    await engine?.close();
  });

  it('issues a device token only with a right code and the box ticked, and stores only its hash', async () => {
    expect((await acme.authenticate({ user: 'r1', password: password('r1'), channel: 'web', trustDevice: true })).ok).toBe(false);
    const plain = await withCode('r1');
    expect(plain.ok && plain.deviceToken).toBe(undefined);
    const r = await withCode('r1', { trustDevice: true }, await nextCode(secrets.get('r1')!));
    if (!r.ok || !r.deviceToken) throw new Error('no device token');
    const { token, expiresAt } = r.deviceToken;
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Math.abs(expiresAt - (Date.now() + FOURTEEN_DAYS_S * 1000))).toBeLessThan(60_000);
    const db = instanceDb();
    try {
      const rows = db.prepare('SELECT * FROM trusted_devices WHERE user_name = ?').all('r1') as Record<string, unknown>[];
      expect(rows).toHaveLength(1);
      expect((rows[0]!.token_hash as Buffer).equals(sha256(token))).toBe(true);
      expect(JSON.stringify(rows, (_k, v) => (v?.type === 'Buffer' ? Buffer.from(v.data).toString('base64url') : v))).not.toContain(token);
    } finally { db.close(); }
  });

  it('skips the code for a valid token of the same user only: not for another user, a wrong password or IMAP', async () => {
    const first = await withCode('r2', { trustDevice: true });
    if (!first.ok || !first.deviceToken) throw new Error('no device token');
    const token = first.deviceToken.token;
    r2Token = token;
    const again = await byToken('r2', token);
    expect(again.ok).toBe(true);
    expect(again.ok && again.deviceToken).toBe(undefined);
    const other = await byToken('r3', token);
    expect(other).toMatchObject({ ok: false, reason: 'mfaRequired' });
    expect(await acme.authenticate({ user: 'r2', password: 'wrong-password', channel: 'web', deviceToken: token })).toMatchObject({ ok: false, reason: 'credentials' });
    expect(await byToken('r2', token, 'imap')).toMatchObject({ ok: false });
    expect(await byToken('r2', `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`)).toMatchObject({ ok: false, reason: 'mfaRequired' });
  });

  it('forgets the devices of a user whose password changes, by the user or by an administrator', async () => {
    // r3 changes the password.
    const t3 = await tokenFor('r3');
    const s3 = await byToken('r3', t3.token);
    if (!s3.ok) throw new Error('token login');
    await acme.changePassword({ session: s3.session, oldPassword: password('r3'), newPassword: 'pw-r3-new-456' });
    expect(await acme.authenticate({ user: 'r3', password: 'pw-r3-new-456', channel: 'web', deviceToken: t3.token })).toMatchObject({ ok: false, reason: 'mfaRequired' });
    expect(await trustedRows('r3')).toBe(0);
    // An administrator sets r2's password (SetUserPassword), even to the same one.
    expect((await byToken('r2', r2Token)).ok).toBe(true);
    await acme.management('SetUserPassword', { userName: 'r2', password: password('r2') });
    expect(await byToken('r2', r2Token)).toMatchObject({ ok: false, reason: 'mfaRequired' });
    expect(await trustedRows('r2')).toBe(0);
  });

  it('forgets the devices of a user who removes MFA or enrols again', async () => {
    const t4 = await tokenFor('r4');
    const s4 = await byToken('r4', t4.token);
    if (!s4.ok) throw new Error('token login');
    // Enrolling again (a new secret) ends what the old one earned.
    const fresh = generateSecret();
    await acme.mfaEnable({ session: s4.session, secret: fresh });
    secrets.set('r4', fresh);
    expect(await byToken('r4', t4.token)).toMatchObject({ ok: false, reason: 'mfaRequired' });
    expect(await trustedRows('r4')).toBe(0);
    // Removing MFA ends them too, so turning it on again later does not revive an old token.
    const t4b = await tokenFor('r4', true);
    const s4b = await byToken('r4', t4b.token);
    if (!s4b.ok) throw new Error('token login');
    await acme.mfaDisable({ session: s4b.session });
    expect(await trustedRows('r4')).toBe(0);
    await acme.mfaEnable({ session: s4b.session, secret: fresh });
    expect(await byToken('r4', t4b.token)).toMatchObject({ ok: false, reason: 'mfaRequired' });
  });

  it('refuses an expired token and drops it', async () => {
    const t5 = await tokenFor('r5');
    expect((await byToken('r5', t5.token)).ok).toBe(true);
    const db = instanceDb();
    try { db.prepare('UPDATE trusted_devices SET expires_at = ? WHERE user_name = ?').run(Date.now() - 1, 'r5'); } finally { db.close(); }
    expect(await byToken('r5', t5.token)).toMatchObject({ ok: false, reason: 'mfaRequired' });
    const db2 = instanceDb();
    try { expect(db2.prepare('SELECT count(*) FROM trusted_devices WHERE user_name = ?').pluck().get('r5')).toBe(0); } finally { db2.close(); }
  });

  it('sets the device cookie over HTTPS only when the box is ticked, scoped to the instance path for 14 days', async () => {
    const c = new WebClient(server.port, ca);
    const askCode = await c.login('/acme', 'hana', password('hana'));
    expect(askCode.status).toBe(200);
    expect(askCode.text).toContain('name="totp"');
    expect(askCode.text).toContain('Trust this device for 14 days');
    const noTrust = await c.post('/acme/login/password', { _csrf: csrfOf(askCode.text), password: password('hana'), totp: await generate({ secret: secrets.get('hana')! }) });
    expect(noTrust.status).toBe(303);
    expect(c.cookies.has('coffer_device')).toBe(false);
    await c.post('/acme/logout', { _csrf: csrfOf((await c.get('/acme/folders')).text) });
    const again = await c.login('/acme', 'hana', password('hana'));
    const trusted = await c.post('/acme/login/password', { _csrf: csrfOf(again.text), password: password('hana'), totp: await nextCode(secrets.get('hana')!), trust: '1' });
    expect(trusted.status).toBe(303);
    const line = c.setCookieLines.find((l) => l.startsWith('coffer_device='))!;
    expect(line).toMatch(new RegExp(`Max-Age=${FOURTEEN_DAYS_S - 1}|Max-Age=${FOURTEEN_DAYS_S}`));
    expect(line).toMatch(/; Path=\/acme\/(;|$)/);
    expect(line).toMatch(/; HttpOnly/);
    expect(line).toMatch(/; Secure/);
    expect(line).toMatch(/; SameSite=Lax/);
    await c.post('/acme/logout', { _csrf: csrfOf((await c.get('/acme/folders')).text) });
    // The next login on this device: the password alone signs in.
    const direct = await c.login('/acme', 'hana', password('hana'));
    expect(direct.status).toBe(303);
    expect(direct.headers.location).toBe('/acme/folders');
    // A forged or foreign cookie value is not trusted.
    const other = new WebClient(server.port, ca);
    other.cookies.set('coffer_device', 'x'.repeat(43));
    const forged = await other.login('/acme', 'hana', password('hana'));
    expect(forged.status).toBe(200);
    expect(forged.text).toContain('name="totp"');
  });

  it('in chromium: ticking the box skips the code next time on this browser, for this user only', async () => {
    const ctx = await browser.newContext({ ignoreHTTPSErrors: true, locale: 'en-US' });
    const page = await ctx.newPage();
    async function signIn(p: Page, user: string): Promise<void> {
      await p.goto(`${origin}/acme/login?change=1`);
      await p.fill('#user', user);
      await p.click('button[type=submit].primary');
      await p.fill('#password', password(user));
      await p.click('button[type=submit].primary');
      await p.waitForLoadState();
    }
    await signIn(page, 'tina');
    await expect(page.locator('#totp').count()).resolves.toBe(1);
    await page.fill('#password', password('tina'));
    await page.fill('#totp', await generate({ secret: secrets.get('tina')! }));
    await page.check('[data-testid=trust-device]');
    await page.click('button[type=submit].primary');
    await page.waitForURL(/\/acme\/folders$/);
    const cookie = (await ctx.cookies()).find((k) => k.name === 'coffer_device')!;
    expect(cookie).toMatchObject({ path: '/acme/', httpOnly: true, secure: true, sameSite: 'Lax' });
    expect(Math.abs(cookie.expires - (Date.now() / 1000 + FOURTEEN_DAYS_S))).toBeLessThan(120);
    // Scripts cannot read it.
    expect(await page.evaluate(() => document.cookie)).not.toContain('coffer_device');
    await page.click('.usermenu button[type=submit]');
    await page.waitForURL(/\/acme\/login$/);
    await signIn(page, 'tina');
    await page.waitForURL(/\/acme\/folders$/);
    expect(await page.locator('[data-testid=folder-tree]').textContent()).toContain('My Archive');
    await page.click('.usermenu button[type=submit]');
    await page.waitForURL(/\/acme\/login$/);
    // Another user on the same browser still gives a code.
    await signIn(page, 'uwe');
    expect(await page.locator('#totp').count()).toBe(1);
    // Another browser (no cookie) gives a code for tina too.
    const ctx2 = await browser.newContext({ ignoreHTTPSErrors: true, locale: 'en-US' });
    const page2 = await ctx2.newPage();
    await signIn(page2, 'tina');
    expect(await page2.locator('#totp').count()).toBe(1);
    await ctx2.close();
    await ctx.close();
  }, 60_000);

  /** A device token for `user` from a TOTP login (a code is accepted once: the next step's code is used when asked). */
  async function tokenFor(user: string, next = false): Promise<{ token: string }> {
    const r = await withCode(user, { trustDevice: true }, next ? await nextCode(secrets.get(user)!) : undefined);
    if (!r.ok || !r.deviceToken) throw new Error(`no device token for ${user}: ${r.ok ? 'ok without token' : r.message}`);
    return r.deviceToken;
  }
  async function trustedRows(user: string): Promise<number> {
    const db = instanceDb();
    try { return db.prepare('SELECT count(*) FROM trusted_devices WHERE user_name = ?').pluck().get(user) as number; } finally { db.close(); }
  }
});
