/**
 * The Management Console as `coffer start` runs it (single server mode, random port offset): the
 * instances overview drives a real instance through Start / Restart / Stop, and Debian's chromium
 * (playwright-core) clicks through a logon with MFA enrolment. Screenshots: test/artifacts/console-*.png.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { generate } from 'otplib';
import { createLogger } from '../src/common/logger.js';
import { loadConfig } from '../src/common/config.js';
import { startCofferServer, type CofferServer } from '../src/server/coffer-server.js';
import { randomPortOffset } from './helpers/ports.js';

const ADMIN_PASSWORD = 'console-admin-password-1';
const ARTIFACTS = path.resolve(__dirname, 'artifacts');
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

interface Answer { status: number; headers: Record<string, string | string[] | undefined>; body: string }

/** Keeps cookies, follows nothing, verifies the Management Server's role certificate. */
class Client {
  readonly cookies = new Map<string, string>();
  constructor(private readonly port: number, private readonly ca: string) {}

  request(method: 'GET' | 'POST', target: string, form?: Record<string, string>): Promise<Answer> {
    const body = form ? new URLSearchParams(form).toString() : undefined;
    const cookie = [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    return new Promise((resolve, reject) => {
      const request = https.request({
        host: '127.0.0.1', port: this.port, method, path: target, ca: this.ca, servername: 'localhost',
        headers: { ...(cookie ? { cookie } : {}), ...(body !== undefined ? { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) } : {}) },
      }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          for (const line of response.headers['set-cookie'] ?? []) {
            const [name, value] = line.split(';')[0]!.split('=');
            if (value) this.cookies.set(name!, value);
          }
          resolve({ status: response.statusCode!, headers: response.headers, body: Buffer.concat(chunks).toString('utf8') });
        });
      });
      request.on('error', reject);
      request.end(body);
    });
  }

  async submit(page: string, target: string, form: Record<string, string>): Promise<Answer> {
    const csrf = /name="_csrf" value="([^"]+)"/.exec((await this.request('GET', page)).body)?.[1];
    if (!csrf) throw new Error(`no CSRF token on ${page}`);
    return this.request('POST', target, { _csrf: csrf, ...form });
  }
}

/** The status cell of an instance's row on the instances page. */
function statusOf(html: string, instanceId: string): string | undefined {
  const row = html.split('<tr').find((part) => part.includes(`data-instance="${instanceId}"`));
  return row ? /class="status status-([a-zA-Z]+)"/.exec(row)?.[1] : undefined;
}

describe('management console of coffer start', () => {
  let dataDir: string;
  let server: CofferServer;
  let client: Client;
  let consolePort: number;
  let browser: Browser;

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'coffer-console-server-'));
    const config = loadConfig({ data: dataDir, 'port-offset': String(randomPortOffset()) }, {});
    server = await startCofferServer(config, { log: createLogger('silent'), productVersion: 'test', env: { COFFER_ADMIN_PASSWORD: ADMIN_PASSWORD }, casServices: [] });
    const management = server.management!;
    await management.invoke('CreateInstance', { config: { instanceID: 'acme', displayName: 'Acme Corp', instanceHost: management.serverName, startMode: 'manual' } });
    consolePort = management.ports.console;
    client = new Client(consolePort, readFileSync(path.join(dataDir, 'certs', 'management.crt.pem'), 'utf8'));
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
    mkdirSync(ARTIFACTS, { recursive: true });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('lists the instances with their status and starts, restarts and stops one through POST forms', async () => {
    const logon = await client.submit('/login', '/login', { userName: 'admin', password: ADMIN_PASSWORD });
    expect(logon.headers.location).toBe('/instances');
    const list = await client.request('GET', '/instances');
    expect(list.body).toContain('<td>Acme Corp</td>');
    expect(statusOf(list.body, 'acme')).toBe('stopped');

    const start = await client.submit('/instances', '/instances/acme/start', {});
    expect(start.headers.location).toBe('/instances');
    const started = await client.request('GET', '/instances');
    expect(started.body).toContain('Instance &#39;acme&#39; was started.');
    expect(statusOf(started.body, 'acme')).toBe('running');

    expect((await client.submit('/instances', '/instances/acme/restart', {})).headers.location).toBe('/instances');
    expect(statusOf((await client.request('GET', '/instances')).body, 'acme')).toBe('running');

    expect((await client.submit('/instances', '/instances/acme/stop', {})).headers.location).toBe('/instances');
    const stopped = await client.request('GET', '/instances');
    expect(stopped.body).toContain('Instance &#39;acme&#39; was stopped.');
    expect(statusOf(stopped.body, 'acme')).toBe('stopped');

    // Only an instance ID fits in the URL: a filter such as `*` does not select every instance.
    expect((await client.submit('/instances', '/instances/*/start', {})).status).toBe(404);
    const unknown = await client.submit('/instances', '/instances/nosuch/start', {});
    expect(unknown.headers.location).toBe('/instances');
    expect((await client.request('GET', '/instances')).body).toContain('nosuch');
  });

  it('takes a new administrator through logon and MFA enrolment in chromium', async () => {
    const admins = server.management!.parts.admins;
    await admins.create({ userName: 'eve', fullName: 'Eve Operator' }, 'eve-password-1');
    await admins.enableMfa('eve');

    const context = await browser.newContext({ ignoreHTTPSErrors: true, locale: 'en-US', viewport: { width: 1100, height: 720 } });
    const page = await context.newPage();
    const cspReports: string[] = [];
    page.on('console', (message) => { if (/Content Security Policy|Refused to/i.test(message.text())) cspReports.push(message.text()); });
    try {
      const origin = `https://127.0.0.1:${consolePort}`;
      await page.goto(`${origin}/`);
      await expect.poll(() => page.url()).toBe(`${origin}/login`);
      await page.getByLabel('User name').fill('eve');
      await page.getByLabel('Password').fill('eve-password-1');
      await page.screenshot({ path: path.join(ARTIFACTS, 'console-login.png') });
      await page.getByRole('button', { name: 'OK' }).click();

      await page.getByRole('heading', { name: 'Set up Multi-Factor Authentication' }).waitFor();
      const secret = (await page.locator('#mfa-secret').innerText()).replace(/\s+/g, '');
      expect(secret).toBe(admins.pendingEnrolment('eve')!.secret);
      await page.getByText('Setup link (otpauth URI)').click();
      expect(await page.locator('#mfa-uri').getAttribute('href')).toMatch(/^otpauth:\/\/totp\/.*secret=/);
      await page.screenshot({ path: path.join(ARTIFACTS, 'console-mfa-enrolment.png'), fullPage: true });
      expect(await page.getByRole('img', { name: 'QR code of the MFA secret' }).isVisible()).toBe(true);
      await page.getByLabel('Code', { exact: true }).fill(await generate({ secret }));
      await page.getByRole('button', { name: 'OK' }).click();

      await page.getByRole('heading', { name: 'Instances' }).waitFor();
      expect(page.url()).toBe(`${origin}/instances`);
      await expect.poll(() => page.locator('tr[data-instance="acme"]').count()).toBe(1);
      expect(admins.get('eve')!.mfaStatus).toBe('active');
      await page.screenshot({ path: path.join(ARTIFACTS, 'console-instances.png'), fullPage: true });

      await page.getByRole('link', { name: 'Your MFA Settings' }).click();
      await expect.poll(() => page.locator('#mfa-status').innerText()).toBe('Active');
      await page.screenshot({ path: path.join(ARTIFACTS, 'console-mfa-settings.png'), fullPage: true });

      await page.getByRole('button', { name: 'Logout' }).click();
      await page.getByText('You have logged out.').waitFor();
      expect(cspReports).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
