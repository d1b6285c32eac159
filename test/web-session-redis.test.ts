/**
 * Web Access sessions in a real Redis (Debian's redis-server, started here on a free port) shared by
 * two CAS web apps on two ports, as two CASes behind one name: a login on one is the session on the
 * other (CSRF token included), logout on one ends it on both, idle sessions expire in Redis and end
 * their instance session, and a Redis outage (hung or stopped) answers the 503 "sessions unavailable"
 * page while the server stays up, until Redis is back. Configuration and `coffer start` wiring too.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { startEngine, type Engine } from './helpers/engine.js';
import { WebClient, csrfOf } from './helpers/web-client.js';
import { randomPortOffset } from './helpers/ports.js';
import type { InstanceClient } from '../src/instance/client.js';
import { generateSelfSigned } from '../src/common/certs.js';
import { createLogger } from '../src/common/logger.js';
import { ConfigError, loadConfig } from '../src/common/config.js';
import { BrandingStore, defaultSampleDir } from '../src/cas/web/branding.js';
import { listenWebAccess } from '../src/cas/web/app.js';
import { RedisSessionStore } from '../src/cas/web/redis-session-store.js';

const PREFIX = 'coffer:sess:';
const SECRET = 'a-cookie-secret-both-cases-share-1234567890';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

/** A redis-server of our own: no persistence unless asked (SAVE), data in `dir`. */
class RedisProcess {
  child: ChildProcess | null = null;
  constructor(readonly port: number, readonly dir: string) {}
  get url(): string { return `redis://127.0.0.1:${this.port}/0`; }

  async start(): Promise<void> {
    const child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', this.dir, '--dbfilename', 'dump.rdb'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout!.on('data', (d: Buffer) => { output += d.toString(); });
    child.stderr!.on('data', (d: Buffer) => { output += d.toString(); });
    const failed = new Promise<never>((_, reject) => {
      child.on('error', (e) => reject(new Error(`redis-server could not be started (apt-get install redis-server): ${e.message}`)));
      child.on('exit', (code) => reject(new Error(`redis-server exited with ${code}:\n${output}`)));
    });
    failed.catch(() => {});
    this.child = child;
    const until = Date.now() + 10_000;
    while (!/Ready to accept connections/.test(output)) {
      await Promise.race([sleep(50), failed]);
      if (Date.now() > until) throw new Error(`redis-server did not come up:\n${output}`);
    }
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
    this.child = null;
  }
}

const branding = (dir: string) => {
  cpSync(defaultSampleDir(), path.join(dir, 'branding'), { recursive: true });
  return new BrandingStore({ dir: path.join(dir, 'branding'), log: createLogger('silent') });
};

describe('web access sessions in a shared Redis, two CASes', () => {
  let redis: RedisProcess;
  let inspect: Redis;
  let engine: Engine;
  let acme: InstanceClient;
  let dir: string;
  let ca: string;
  const apps: Awaited<ReturnType<typeof listenWebAccess>>[] = [];
  const stores: RedisSessionStore[] = [];

  /** Two CAS web apps over the same Redis (each with its own client, as two machines would have). */
  async function twoCases(opts: { idleTimeoutMs?: number; sweepIntervalMs?: number } = {}) {
    const cert = generateSelfSigned('localhost');
    ca = cert.certPem;
    const started: { port: number; store: RedisSessionStore }[] = [];
    for (const name of ['cas-a', 'cas-b']) {
      let store!: RedisSessionStore;
      const app = await listenWebAccess({
        resolveInstance: async (n) => (n === 'acme' ? { ok: true, instanceId: 'acme', client: acme } : { ok: false, reason: 'unknown', message: 'no such instance' }),
        branding: branding(mkdtempSync(path.join(dir, `${name}-`))), cookieSecret: SECRET, logger: createLogger('silent'),
        ...(opts.idleTimeoutMs ? { idleTimeoutMs: opts.idleTimeoutMs } : {}),
        sessionStore: (binding) => {
          store = new RedisSessionStore({ url: redis.url, ...binding, commandTimeoutMs: 500, sweepIntervalMs: opts.sweepIntervalMs ?? 3_600_000 });
          stores.push(store);
          return store;
        },
      }, { port: 0, host: '127.0.0.1', tls: { key: cert.keyPem, cert: cert.certPem } });
      apps.push(app);
      expect(await store.waitUntilReady(5_000)).toBe(true);
      started.push({ port: app.port, store });
    }
    return { a: started[0]!, b: started[1]! };
  }

  /** The same browser (cookie jar) talking to the other CAS. */
  const sameBrowserOn = (c: WebClient, port: number) => { const o = new WebClient(port, ca); o.cookies = c.cookies; return o; };
  const sessionIdOf = (c: WebClient) => decodeURIComponent(c.cookies.get('coffer_session')!).split('.')[0]!;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'coffer-web-redis-'));
    redis = new RedisProcess(await freePort(), dir);
    await redis.start();
    inspect = new Redis(redis.url, { lazyConnect: false, maxRetriesPerRequest: 1, retryStrategy: () => 100 });
    inspect.on('error', () => {});
    engine = await startEngine();
    acme = await engine.startInstance('acme');
    await acme.management('CreateUser', { userName: 'jane', fullName: 'Jane Doe', privileges: 'login,export', password: 'pw-jane' });
    await acme.ingest('jane', [{ name: 'm1', folder: 'Inbox', raw: Buffer.from('From: a@b.example\r\nSubject: Shared session note\r\nDate: Wed, 03 Jan 2024 10:00:00 +0000\r\n\r\nbody\r\n') }]);
  });

  afterAll(async () => {
    for (const app of apps) await app.close().catch(() => {});
    inspect?.disconnect();
    await redis?.stop();
    await engine?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('serves a login made on one CAS from the other, with the same CSRF token, and keeps the session in Redis with a sliding TTL', async () => {
    const { a, b } = await twoCases();
    const onA = new WebClient(a.port, ca);
    expect((await onA.login('/acme', 'jane', 'pw-jane')).status).toBe(303);
    const pageA = await onA.get('/acme/folders');
    expect(pageA.status).toBe(200);

    const onB = sameBrowserOn(onA, b.port);
    const pageB = await onB.get('/acme/folders');
    expect(pageB.status).toBe(200);
    expect(pageB.text).toContain('My Archive');
    expect(pageB.text).toContain('Sign out');
    expect(csrfOf(pageB.text)).not.toBe('');
    expect(csrfOf(pageB.text)).toBe(csrfOf(pageA.text));
    // A browser without the cookie gets nothing on either CAS.
    expect((await new WebClient(b.port, ca).get('/acme/folders')).headers.location).toBe('/acme/login');

    // The session in Redis: JSON with the login, a TTL of twice the (default 30 min) idle timeout.
    const id = sessionIdOf(onA);
    const stored = JSON.parse((await inspect.get(PREFIX + id))!) as { login: { userName: string; token: string }; csrf: string };
    expect(stored.login.userName).toBe('jane');
    expect(stored.csrf).toBe(csrfOf(pageA.text));
    await inspect.pexpire(PREFIX + id, 10_000);
    await onB.get('/acme/folders'); // a read renews the TTL (GETEX), with no write
    expect(await inspect.pttl(PREFIX + id)).toBeGreaterThan(3_500_000);

    // The CSRF token is checked on B: a forged one is refused, the one A handed out works (a state-changing POST).
    expect((await onB.post('/acme/logout', { _csrf: 'forged-token-000000000000000000' })).status).toBe(403);
    expect((await onB.get('/acme/folders')).status).toBe(200);
    expect((await onB.post('/acme/logout', { _csrf: csrfOf(pageA.text) })).status).toBe(303);
  });

  it('ends the session on both CASes and on the instance when the user logs out on one', async () => {
    const { a, b } = await twoCases();
    const onA = new WebClient(a.port, ca);
    expect((await onA.login('/acme', 'jane', 'pw-jane')).status).toBe(303);
    const onB = sameBrowserOn(onA, b.port);
    const page = await onB.get('/acme/folders');
    expect(page.status).toBe(200);
    const id = sessionIdOf(onA);
    const token = (JSON.parse((await inspect.get(PREFIX + id))!) as { login: { token: string } }).login.token;
    expect(await inspect.hexists(`${PREFIX}~logins`, id)).toBe(1);
    await acme.listFolders({ session: token }); // the instance session is alive

    expect((await onB.post('/acme/logout', { _csrf: csrfOf(page.text) })).status).toBe(303);
    const afterA = await onA.get('/acme/folders');
    expect(afterA.status).toBe(303);
    expect(afterA.headers.location).toBe('/acme/login');
    expect((await onB.get('/acme/folders')).status).toBe(303);
    expect(await inspect.exists(PREFIX + id)).toBe(0);
    expect(await inspect.hexists(`${PREFIX}~logins`, id)).toBe(0);
    expect(await inspect.zscore(`${PREFIX}~expiry`, id)).toBeNull();
    await expect(acme.listFolders({ session: token })).rejects.toMatchObject({ code: 'SESSION_INVALID' });
  });

  it('keeps an active session, expires an idle one on every CAS, and ends the instance session of one Redis dropped unseen', async () => {
    const { a, b } = await twoCases({ idleTimeoutMs: 2000, sweepIntervalMs: 100 });
    // Activity through either CAS keeps the session beyond the idle timeout.
    const active = new WebClient(a.port, ca);
    expect((await active.login('/acme', 'jane', 'pw-jane')).status).toBe(303);
    const activeOnB = sameBrowserOn(active, b.port);
    for (let i = 0; i < 6; i++) {
      await sleep(500);
      expect((await (i % 2 ? active : activeOnB).get('/acme/folders')).status).toBe(200);
    }
    // Idle past the timeout: the app says the session ended, on the other CAS too.
    await sleep(2600);
    const expired = await activeOnB.get('/acme/folders');
    expect(expired.status).toBe(303);
    expect((await active.get('/acme/login')).text).toContain('Your session has ended');

    // A session nobody comes back to: Redis drops it after twice the idle timeout, and a sweep
    // (on one CAS only) ends its instance session.
    const idle = new WebClient(b.port, ca);
    expect((await idle.login('/acme', 'jane', 'pw-jane')).status).toBe(303);
    const id = sessionIdOf(idle);
    const token = (JSON.parse((await inspect.get(PREFIX + id))!) as { login: { token: string } }).login.token;
    expect(await inspect.pttl(PREFIX + id)).toBeLessThanOrEqual(4000);
    await acme.listFolders({ session: token });
    const until = Date.now() + 15_000;
    while ((await inspect.exists(PREFIX + id)) || (await inspect.hexists(`${PREFIX}~logins`, id))) {
      if (Date.now() > until) throw new Error('the idle session was not dropped and swept');
      await sleep(100);
    }
    // The sweep that took it out ended the instance session (logout runs asynchronously).
    const ended = Date.now() + 5_000;
    for (;;) {
      try { await acme.listFolders({ session: token }); } catch (e) { expect((e as { code?: string }).code).toBe('SESSION_INVALID'); break; }
      if (Date.now() > ended) throw new Error('the instance session of the dropped web session is still alive');
      await sleep(100);
    }
    expect(await inspect.zscore(`${PREFIX}~expiry`, id)).toBeNull();
  });

  it('answers the 503 "sessions unavailable" page while Redis hangs or is down, stays up, and carries on when Redis is back', async () => {
    const { a, b } = await twoCases();
    const onA = new WebClient(a.port, ca);
    expect((await onA.login('/acme', 'jane', 'pw-jane')).status).toBe(303);
    const onB = sameBrowserOn(onA, b.port);
    expect((await onB.get('/acme/folders')).status).toBe(200);

    // Hung: the command times out (500 ms here) instead of holding the request.
    process.kill(redis.child!.pid!, 'SIGSTOP');
    try {
      const t0 = Date.now();
      const hung = await onB.get('/acme/folders');
      expect(Date.now() - t0).toBeLessThan(5_000);
      expect(hung.status).toBe(503);
      expect(hung.text).toContain('Sessions temporarily unavailable');
      expect(hung.headers['retry-after']).toBe('30');
      expect(String(hung.headers['content-security-policy'])).toContain("script-src 'self'");
      expect(hung.text).not.toMatch(/Error:|\bat .*\.(ts|js):\d+/);
      // Provider pages and the page's own styles do not depend on the store.
      expect((await onB.get('/static/app.css')).status).toBe(200);
      expect((await onB.get('/')).status).toBe(200);
    } finally {
      process.kill(redis.child!.pid!, 'SIGCONT');
    }
    expect((await onB.get('/acme/folders')).status).toBe(200);

    // Down: keep the data on disk, stop the server; every kind of request fails fast and cleanly.
    await inspect.save();
    await redis.stop();
    const down = await onA.get('/acme/folders');
    expect(down.status).toBe(503);
    expect(down.text).toContain('Sessions temporarily unavailable');
    const fresh = new WebClient(a.port, ca);
    const loginPage = await fresh.get('/acme/login'); // a new session that cannot be saved
    expect(loginPage.status).toBe(503);
    expect(loginPage.text).toContain('Sessions temporarily unavailable');
    const german = await onB.get('/acme/folders', { 'accept-language': 'de' });
    expect(german.status).toBe(503);
    expect(german.text).toContain('Sitzungen vorübergehend nicht verfügbar');
    const post = await onB.post('/acme/logout', { _csrf: 'whatever' });
    expect(post.status).toBe(503);
    expect((await onA.get('/static/app.css')).status).toBe(200);

    // Back (same port, same data): both CASes reconnect by themselves and the session is still there.
    await redis.start();
    const until = Date.now() + 15_000;
    while ((await onA.get('/acme/folders')).status !== 200) {
      if (Date.now() > until) throw new Error('CAS A did not recover after Redis came back');
      await sleep(200);
    }
    const back = await onB.get('/acme/folders');
    expect(back.status).toBe(200);
    expect(back.text).toContain('My Archive');
    expect((await fresh.login('/acme', 'jane', 'pw-jane')).status).toBe(303);
  });
});

describe('web session store configuration', () => {
  const load = (flags: Record<string, unknown>, env: NodeJS.ProcessEnv = {}) => loadConfig({ data: os.tmpdir(), ...flags }, env);

  it('defaults to memory and takes a Redis URL from the flag, the environment or the config file, flag first', () => {
    expect(load({}).webSessionStore).toEqual({ kind: 'memory' });
    expect(load({ 'web-session-store': 'memory' }).webSessionStore).toEqual({ kind: 'memory' });
    expect(load({}, { COFFER_WEB_SESSION_STORE: 'redis://cache.example:6380/2' }).webSessionStore).toEqual({ kind: 'redis', url: 'redis://cache.example:6380/2' });
    expect(load({ 'web-session-store': 'rediss://:pw@cache.example' }, { COFFER_WEB_SESSION_STORE: 'memory' }).webSessionStore).toEqual({ kind: 'redis', url: 'rediss://:pw@cache.example' });
  });

  it('refuses a bad Redis URL at start-up with a message naming the option, never echoing the password', () => {
    const bad: [string, RegExp][] = [
      ['localhost:6379', /unsupported scheme "localhost:"/],
      ['http://cache.example:6379', /unsupported scheme "http:"/],
      ['redis://', /not valid|no host|expected "memory"/],
      ['redis://cache.example:0', /port 0/],
      ['redis://cache.example:6379/zero', /database "zero"/],
      ['redis://cache.example:6379/0?tls=1', /query or fragment/],
      ['redis://user:s3cret-pw@cache.example:6379/x', /database "x"/],
      ['not a url', /expected "memory" or a Redis URL/],
    ];
    for (const [value, message] of bad) {
      let error: unknown;
      try { load({ 'web-session-store': value }); } catch (e) { error = e; }
      expect(error, value).toBeInstanceOf(ConfigError);
      expect((error as Error).message, value).toMatch(/^--web-session-store: /);
      expect((error as Error).message, value).toMatch(message);
      expect((error as Error).message).not.toContain('s3cret-pw');
    }
  });
});

describe('coffer start with --web-session-store', () => {
  const CLI = path.resolve(__dirname, '../dist/cli.js');
  const run = promisify(execFile);
  let redis: RedisProcess | undefined;
  let child: ChildProcess | undefined;
  let dir = '';
  afterAll(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    await redis?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a bad URL before starting anything, and keeps Web Access sessions in the Redis it names', async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'coffer-cli-redis-'));
    const refused = await run(process.execPath, [CLI, 'start', '--data', path.join(dir, 'data'), '--web-session-store', 'http://cache.example'], { env: { ...process.env, COFFER_LOG_LEVEL: 'warn' } })
      .then(() => ({ code: 0, stderr: '' }), (e: { code: number; stderr: string }) => ({ code: e.code, stderr: e.stderr }));
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/--web-session-store: unsupported scheme "http:"/);
    expect(existsSync(path.join(dir, 'data', 'certs'))).toBe(false);

    redis = new RedisProcess(await freePort(), dir);
    await redis.start();
    const offset = randomPortOffset();
    const env = { ...process.env, COFFER_LOG_LEVEL: 'warn', COFFER_WEB_SESSION_STORE: redis.url };
    delete env.COFFER_ADMIN_PASSWORD;
    child = spawn(process.execPath, [CLI, 'start', '--data', path.join(dir, 'data'), '--port-offset', String(offset), '--demo'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout!.on('data', (d: Buffer) => { output += d.toString(); });
    child.stderr!.on('data', (d: Buffer) => { output += d.toString(); });
    const until = Date.now() + 90_000;
    while (!output.includes('Stop with Ctrl+C')) {
      if (child.exitCode !== null || Date.now() > until) throw new Error(`coffer start did not come up:\n${output}`);
      await sleep(100);
    }
    expect(output).toMatch(new RegExp(`Web Access sessions\\s+Redis redis://127\\.0\\.0\\.1:${redis.port}/0`));

    const password = readFileSync(path.join(dir, 'data', 'config', 'demo-password.txt'), 'utf8').trim();
    const casCert = readFileSync(path.join(dir, 'data', 'certs', 'cas.crt.pem'), 'utf8');
    const web = new WebClient(443 + offset, casCert);
    expect((await web.login('/demo', 'demo', password)).status).toBe(303);
    expect((await web.get('/demo/folders')).status).toBe(200);
    const inspect = new Redis(redis.url);
    try {
      const id = decodeURIComponent(web.cookies.get('coffer_session')!).split('.')[0]!;
      const stored = JSON.parse((await inspect.get(PREFIX + id))!) as { login: { userName: string; instanceId: string } };
      expect(stored.login).toMatchObject({ userName: 'demo', instanceId: 'demo' });
    } finally { inspect.disconnect(); }

    const exited = new Promise((r) => child!.once('exit', r));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 150_000);
});
