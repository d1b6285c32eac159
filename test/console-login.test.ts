/**
 * The Management Console over real HTTPS (port 0) with a real AdminService on a temporary data
 * folder: logon, back-off, MFA enrolment with real TOTP codes, Your MFA Settings, API password,
 * system administrators, CSRF, logout, idle timeout.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance, Session } from 'fastify';
import { generate } from 'otplib';
import { generateSelfSigned } from '../src/common/certs.js';
import { createLogger } from '../src/common/logger.js';
import { createFunctionRegistry } from '../src/management/api/metadata.js';
import { openManagementServer, type ManagementServerParts } from '../src/management/management-server.js';
import { buildConsoleApp, CONSOLE_COOKIE_NAME, type ConsoleOptions } from '../src/management/console/build-console-app.js';
import { ConsoleSessionStore } from '../src/management/console/session.js';

const ADMIN_PASSWORD = 'console-admin-password-1';
const BACKOFF_BASE_MS = 600;
const certificate = generateSelfSigned('localhost');

interface Answer { status: number; headers: Record<string, string | string[] | undefined>; body: string }

/** A tiny browser: keeps cookies, follows nothing, verifies the server certificate. */
class Client {
  readonly cookies = new Map<string, string>();
  constructor(private readonly port: number) {}

  request(method: 'GET' | 'POST', target: string, form?: Record<string, string>, headers: Record<string, string> = {}): Promise<Answer> {
    const body = form ? new URLSearchParams(form).toString() : undefined;
    const cookie = [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    return new Promise((resolve, reject) => {
      const request = https.request({
        host: '127.0.0.1', port: this.port, method, path: target, ca: certificate.certPem, servername: 'localhost',
        headers: { ...(cookie ? { cookie } : {}), ...(body !== undefined ? { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) } : {}), ...headers },
      }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          for (const line of response.headers['set-cookie'] ?? []) {
            const [pair] = line.split(';');
            const [name, value] = pair!.split('=');
            if (!value || /expires=Thu, 01 Jan 1970/i.test(line)) this.cookies.delete(name!);
            else this.cookies.set(name!, value);
          }
          resolve({ status: response.statusCode!, headers: response.headers, body: Buffer.concat(chunks).toString('utf8') });
        });
      });
      request.on('error', reject);
      request.end(body);
    });
  }

  get(target: string): Promise<Answer> { return this.request('GET', target); }

  /** GETs `page` for its CSRF token, then POSTs the form with it to `target`. */
  async submit(page: string, target: string, form: Record<string, string>): Promise<Answer> {
    const csrf = csrfOf((await this.get(page)).body);
    return this.request('POST', target, { _csrf: csrf, ...form });
  }

  async logon(userName: string, password: string): Promise<Answer> {
    return this.submit('/login', '/login', { userName, password });
  }
}

function csrfOf(html: string): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!match) throw new Error(`no CSRF token in the page:\n${html.slice(0, 500)}`);
  return match[1]!;
}

function secretOf(html: string): string {
  const match = /id="mfa-secret"[^>]*>([^<]+)</.exec(html);
  if (!match) throw new Error('no MFA secret in the page');
  return match[1]!.replace(/\s+/g, '');
}

/** A code of the next 30 s step: the current step's code may have been used already (replay protection). */
function nextStepCode(secret: string): Promise<string> {
  return generate({ secret, epoch: Math.floor(Date.now() / 1000) + 30 });
}

async function startConsole(parts: ManagementServerParts, extra: Partial<ConsoleOptions> = {}): Promise<{ app: FastifyInstance; port: number }> {
  const registry = createFunctionRegistry();
  const app = await buildConsoleApp({
    admins: parts.admins,
    invoke: (name, args, admin) => parts.apiOptions.invoke(registry.find(name)!, args, { admin, signal: new AbortController().signal, progress: () => {}, log: () => {}, remote: 'test' }),
    logger: createLogger('silent'),
    tls: { key: certificate.keyPem, cert: certificate.certPem },
    backoff: { baseDelayMs: BACKOFF_BASE_MS, maxDelayMs: 4 * BACKOFF_BASE_MS },
    ...extra,
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { app, port: (app.server.address() as AddressInfo).port };
}

describe('management console on HTTPS', () => {
  let dataDir: string;
  let parts: ManagementServerParts;
  let app: FastifyInstance;
  let port: number;

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'coffer-console-'));
    parts = await openManagementServer(dataDir, {
      facts: { productVersion: 'test', startedAt: new Date(), serverName: 'test', probe: { instanceHostStatus: () => 'unknown', clientAccessServerStatus: () => 'unknown' } },
      env: { COFFER_ADMIN_PASSWORD: ADMIN_PASSWORD },
    });
    ({ app, port } = await startConsole(parts));
  });
  afterAll(async () => {
    await app?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('serves the logon page with a strict CSP, HSTS, nosniff, no referrer, no script and a Strict session cookie', async () => {
    const client = new Client(port);
    const page = await client.get('/login');
    expect(page.status).toBe(200);
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("script-src 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(page.headers['strict-transport-security']).toMatch(/max-age=31536000/);
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    expect(page.headers['cache-control']).toBe('no-store');
    expect(page.body).not.toMatch(/<script|style=|\son[a-z]+=/i);
    const cookie = ([] as string[]).concat(page.headers['set-cookie'] ?? []).find((line) => line.startsWith(`${CONSOLE_COOKIE_NAME}=`));
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/Secure/);
    expect(cookie).toMatch(/SameSite=Strict/);
    const css = page.body.match(/href="(\/static\/console-[0-9a-f]+\.css)"/)?.[1];
    expect((await client.get(css!)).headers['content-type']).toMatch(/^text\/css/);
  });

  it('sends a visitor who is not logged on to the logon page', async () => {
    const client = new Client(port);
    for (const target of ['/instances', '/administrators', '/mfa']) {
      const answer = await client.get(target);
      expect(answer.status).toBe(303);
      expect(answer.headers.location).toBe('/login');
    }
    expect((await client.get('/no/such/page')).status).toBe(303);
  });

  it('logs on with the right password, rotates the session id, and logs out for good', async () => {
    const client = new Client(port);
    await client.get('/login');
    const before = client.cookies.get(CONSOLE_COOKIE_NAME);
    const logon = await client.logon('ADMIN', ADMIN_PASSWORD); // user names compare case-insensitively
    expect(logon.status).toBe(303);
    expect(logon.headers.location).toBe('/instances');
    const after = client.cookies.get(CONSOLE_COOKIE_NAME);
    expect(after).toBeDefined();
    expect(after).not.toBe(before);
    const list = await client.get('/administrators');
    expect(list.status).toBe(200);
    expect(list.body).toContain('<td>admin</td>');

    const logout = await client.submit('/administrators', '/logout', {});
    expect(logout.status).toBe(303);
    expect(logout.headers.location).toBe('/login?bye=1');
    expect((await client.get('/login?bye=1')).body).toContain('You have logged out.');
    const replayed = new Client(port);
    replayed.cookies.set(CONSOLE_COOKIE_NAME, after!);
    expect((await replayed.get('/administrators')).status).toBe(303);
  });

  it('refuses a wrong password and makes the next attempt for that name wait, until a logon succeeds', async () => {
    await parts.admins.create({ userName: 'bob' }, 'bob-password-1');
    const client = new Client(port);
    const wrong = await client.logon('bob', 'not-his-password');
    expect(wrong.status).toBe(401);
    expect(wrong.body).toContain('The user name or the password is wrong.');
    expect(wrong.body).toContain('value="bob"');

    let started = Date.now();
    expect((await client.logon('bob', 'still-not-it')).status).toBe(401);
    expect(Date.now() - started).toBeGreaterThanOrEqual(BACKOFF_BASE_MS);

    // Two failures → the next attempt waits twice as long, even with the right password.
    started = Date.now();
    expect((await client.logon('bob', 'bob-password-1')).status).toBe(303);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2 * BACKOFF_BASE_MS);

    started = Date.now();
    expect((await new Client(port).logon('bob', 'bob-password-1')).status).toBe(303);
    expect(Date.now() - started).toBeLessThan(2 * BACKOFF_BASE_MS); // without the success it would wait 2 × base at least
  });

  it('refuses a POST without the CSRF token, with a wrong one, or from another origin, and changes nothing', async () => {
    await parts.admins.create({ userName: 'carl' }, 'carl-password-1');
    const client = new Client(port);
    expect((await client.logon('carl', 'carl-password-1')).status).toBe(303);
    const csrf = csrfOf((await client.get('/mfa')).body);

    const missing = await client.request('POST', '/mfa/enable', {});
    expect(missing.status).toBe(403);
    expect(missing.body).toContain('Request refused');
    expect((await client.request('POST', '/mfa/enable', { _csrf: `${csrf.slice(0, -2)}xx` })).status).toBe(403);
    expect((await client.request('POST', '/mfa/enable', { _csrf: csrf }, { origin: 'https://evil.example' })).status).toBe(403);
    // A token of another session is no good either.
    const other = new Client(port);
    const otherCsrf = csrfOf((await other.get('/login')).body);
    expect((await client.request('POST', '/mfa/enable', { _csrf: otherCsrf })).status).toBe(403);
    expect(parts.admins.get('carl')!.mfaStatus).toBe('disabled');

    expect((await client.request('POST', '/mfa/enable', { _csrf: csrf })).status).toBe(303);
    expect(parts.admins.get('carl')!.mfaStatus).toBe('pending');
  });

  it('takes MFA from pending to active with the first real TOTP code at logon, then asks for a code at every logon; reset and disable', async () => {
    await parts.admins.create({ userName: 'carol', fullName: 'Carol' }, 'carol-password-1');
    const client = new Client(port);
    expect((await client.logon('carol', 'carol-password-1')).headers.location).toBe('/instances');
    const enable = await client.submit('/mfa', '/mfa/enable', {});
    expect(enable.headers.location).toBe('/mfa');
    const settings = await client.get('/mfa');
    expect(settings.body).toContain('Pending');
    expect(settings.body).toMatch(/Reset Secret<\/button>/);
    expect(settings.body).toMatch(/class="secondary" disabled>Reset Secret/);
    await client.submit('/mfa', '/logout', {});

    // Next logon: the password, then the enrolment page with the secret and its otpauth:// URI.
    const password = await client.logon('carol', 'carol-password-1');
    expect(password.headers.location).toBe('/login/code');
    const enrol = await client.get('/login/code');
    expect(enrol.status).toBe(200);
    const secret = secretOf(enrol.body);
    expect(secret).toBe(parts.admins.pendingEnrolment('carol')!.secret);
    expect(enrol.body).toContain('otpauth://totp/');
    expect((await client.get('/instances')).status).toBe(303); // not logged on while the code is due

    const wrong = await client.request('POST', '/login/code', { _csrf: csrfOf(enrol.body), code: '000000' });
    expect(wrong.status).toBe(401);
    expect(wrong.body).toContain('The code is wrong');
    expect(parts.admins.get('carol')!.mfaStatus).toBe('pending');
    const confirmed = await client.request('POST', '/login/code', { _csrf: csrfOf(wrong.body), code: await generate({ secret }) });
    expect(confirmed.status).toBe(303);
    expect(confirmed.headers.location).toBe('/instances');
    expect(parts.admins.get('carol')!.mfaStatus).toBe('active');
    expect((await client.get('/mfa')).body).toContain('>Active<');
    await client.submit('/mfa', '/logout', {});

    // Active: the password alone is not enough; the code page shows no secret.
    expect((await client.logon('carol', 'carol-password-1')).headers.location).toBe('/login/code');
    const codePage = await client.get('/login/code');
    expect(codePage.body).not.toContain(secret.slice(0, 8));
    expect((await client.get('/mfa')).status).toBe(303);
    const codeLogon = await client.request('POST', '/login/code', { _csrf: csrfOf(codePage.body), code: await nextStepCode(secret) });
    expect(codeLogon.headers.location).toBe('/instances');

    // Reset: a new pending secret; disable: the password alone works again.
    expect((await client.submit('/mfa', '/mfa/reset', {})).headers.location).toBe('/mfa');
    expect(parts.admins.get('carol')!.mfaStatus).toBe('pending');
    expect(parts.admins.pendingEnrolment('carol')!.secret).not.toBe(secret);
    expect((await client.submit('/mfa', '/mfa/disable', {})).headers.location).toBe('/mfa');
    expect(parts.admins.get('carol')!.mfaStatus).toBe('disabled');
    await client.submit('/mfa', '/logout', {});
    expect((await client.logon('carol', 'carol-password-1')).headers.location).toBe('/instances');
  });

  it('shows a new API password once, and the Management API accepts it', async () => {
    await parts.admins.create({ userName: 'dora' }, 'dora-password-1');
    const client = new Client(port);
    await client.logon('dora', 'dora-password-1');
    const generated = await client.submit('/mfa', '/mfa/api-password', {});
    expect(generated.status).toBe(200);
    expect(generated.headers['cache-control']).toBe('no-store');
    const apiPassword = /id="api-password">([^<]+)</.exec(generated.body)?.[1];
    expect(apiPassword).toMatch(/^\S{16,}$/);
    expect(await parts.admins.authenticateApi('dora', apiPassword!)).toEqual({ userName: 'dora' });
    const later = await client.get('/mfa');
    expect(later.body).not.toContain(apiPassword!);
    expect(later.body).toContain('An API password has been generated');
  });

  it('lists, creates, configures and deletes system administrators, and refuses deleting oneself', async () => {
    const client = new Client(port);
    await client.logon('admin', ADMIN_PASSWORD);
    const mismatch = await client.submit('/administrators/new', '/administrators', { userName: 'erin', fullName: 'Erin <E>', emailAddress: 'erin@example.com', password: 'erin-password-1', repeatPassword: 'other' });
    expect(mismatch.status).toBe(400);
    expect(mismatch.body).toContain('The passwords do not match.');
    expect(mismatch.body).toContain('value="Erin &lt;E&gt;"');
    expect(parts.admins.get('erin')).toBeNull();

    const created = await client.submit('/administrators/new', '/administrators', { userName: 'erin', fullName: 'Erin <E>', emailAddress: 'erin@example.com', password: 'erin-password-1', repeatPassword: 'erin-password-1', enableMfa: 'on' });
    expect(created.headers.location).toBe('/administrators');
    const list = (await client.get('/administrators')).body;
    expect(list).toContain("System administrator &#39;erin&#39; was created.");
    expect(list).toContain('<td>Erin &lt;E&gt;</td>');
    expect(parts.admins.get('erin')).toMatchObject({ emailAddress: 'erin@example.com', mfaStatus: 'pending' });

    const duplicate = await client.submit('/administrators/new', '/administrators', { userName: 'ERIN', password: 'erin-password-1', repeatPassword: 'erin-password-1' });
    expect(duplicate.status).toBe(400);
    expect(duplicate.body).toContain('already exists');

    const configured = await client.submit('/administrators/erin', '/administrators/erin', { fullName: 'Erin E.', emailAddress: '', password: 'erin-password-2', repeatPassword: 'erin-password-2' });
    expect(configured.headers.location).toBe('/administrators');
    expect(parts.admins.get('erin')).toMatchObject({ fullName: 'Erin E.', emailAddress: '' });
    expect(await parts.admins.authenticateConsole('erin', 'erin-password-2')).toMatchObject({ step: 'enrol' });
    expect((await client.submit('/administrators/erin', '/administrators/erin/mfa', { action: 'disable' })).headers.location).toBe('/administrators/erin');
    expect(parts.admins.get('erin')!.mfaStatus).toBe('disabled');

    const confirm = await client.get('/administrators/erin/delete');
    expect(confirm.body).toContain('Delete the system administrator <strong>erin</strong>');
    expect((await client.request('POST', '/administrators/erin/delete', { _csrf: csrfOf(confirm.body) })).headers.location).toBe('/administrators');
    expect(parts.admins.get('erin')).toBeNull();
    expect((await client.get('/administrators/erin')).status).toBe(404);

    expect((await client.get('/administrators/admin/delete')).headers.location).toBe('/administrators');
    expect((await client.submit('/administrators', '/administrators/admin/delete', {})).headers.location).toBe('/administrators');
    expect((await client.get('/administrators')).body).toContain('You cannot delete the account you are logged on with.');
    expect(parts.admins.get('admin')).not.toBeNull();
  });

  it('ends the session of an administrator who was deleted meanwhile', async () => {
    await parts.admins.create({ userName: 'finn' }, 'finn-password-1');
    const client = new Client(port);
    await client.logon('finn', 'finn-password-1');
    expect((await client.get('/mfa')).status).toBe(200);
    await parts.admins.delete('finn');
    expect((await client.get('/mfa')).headers.location).toBe('/login?expired=1');
  });

  it('shows the failure of the instance list when the Management Server cannot answer it', async () => {
    const client = new Client(port);
    await client.logon('admin', ADMIN_PASSWORD);
    const page = await client.get('/instances');
    expect(page.status).toBe(200);
    expect(page.body).toContain('GetInstances is not available on this Management Server yet.');
  });

  it('keeps logged-on sessions when a flood of logon page visits fills the anonymous ones', () => {
    const store = new ConsoleSessionStore(60_000, 3);
    const session = (isLoggedOn: boolean) => (isLoggedOn ? { consoleLogin: { userName: 'admin', loginAtMs: 0, lastSeenMs: 0 } } : { consoleCsrf: 'x' }) as unknown as Session;
    const found = (id: string) => { let result: unknown; store.get(id, (_error, value) => { result = value; }); return result; };
    store.set('admin', session(true), () => {});
    for (let i = 0; i < 10; i++) store.set(`anonymous-${i}`, session(false), () => {});
    expect(found('admin')).not.toBeNull();
    expect(found('anonymous-0')).toBeNull();
    expect(found('anonymous-9')).not.toBeNull();
    store.destroy('admin', () => {});
    expect(found('admin')).toBeNull();
  });

  it('ends a session that was idle longer than the idle timeout', async () => {
    const short = await startConsole(parts, { idleTimeoutMs: 1000 });
    try {
      const client = new Client(short.port);
      await client.logon('admin', ADMIN_PASSWORD);
      expect((await client.get('/mfa')).status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 700));
      expect((await client.get('/mfa')).status).toBe(200); // activity keeps it alive
      await new Promise((resolve) => setTimeout(resolve, 1200));
      const expired = await client.get('/mfa');
      expect(expired.headers.location).toBe('/login?expired=1');
      expect((await client.get('/login?expired=1')).body).toContain('Your session has expired.');
    } finally {
      await short.app.close();
    }
  });
});
