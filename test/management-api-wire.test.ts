import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Fastify, { type FastifyInstance } from 'fastify';
import forge from 'node-forge';
import { pino } from 'pino';
import { managementApiPlugin } from '../src/management/api/plugin.js';
import { fn, num, str, LONG_RUNNING, type FunctionDeclaration } from '../src/management/api/metadata.js';
import { ManagementApiClient, encodeArgs, parseJsonBody } from '../src/management/client/api-client.js';
import { ManagementError } from '../src/management/errors.js';
import type { Envelope } from '../src/management/api/envelope.js';

function selfSignedCertificate(): { key: string; cert: string } {
  const keys = forge.pki.rsa.generateKeyPair(2048);
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = '01';
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + 86_400_000);
  const attrs = [{ name: 'commonName', value: 'localhost' }];
  cert.setSubject(attrs);
  cert.setIssuer(attrs);
  cert.setExtensions([{ name: 'basicConstraints', cA: true }, { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] }]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return { key: forge.pki.privateKeyToPem(keys.privateKey), cert: forge.pki.certificateToPem(cert) };
}

interface TestAdmin {
  userName: string;
}

/** Test-only declarations, registered through the plugin options. */
const SLOW_COUNT: FunctionDeclaration = fn('TestSlowCount', 'Counts to steps, one step per stepMs.', [num('steps', 'How many steps.'), num('stepMs', 'Pause per step.')], LONG_RUNNING);
const WAIT_FOR_CANCEL: FunctionDeclaration = fn('TestWaitForCancel', 'Runs until cancelled.', [], LONG_RUNNING);
const THROW_BUG: FunctionDeclaration = fn('TestThrowBug', 'Throws a TypeError.', [str('secret', 'Something not to leak.', { nullable: true })]);

describe('Management API over HTTPS', () => {
  let app: FastifyInstance;
  let port: number;
  let ca: string;
  const calls: { name: string; args: Record<string, unknown> }[] = [];
  const logLines: string[] = [];
  const client = (user = 'admin', password = 'right-password') => new ManagementApiClient({ host: '127.0.0.1', port, user, password, ca });

  beforeAll(async () => {
    const tlsMaterial = selfSignedCertificate();
    ca = tlsMaterial.cert;
    const logger = pino({ level: 'info' }, { write: (line: string) => void logLines.push(line) });
    app = Fastify({ https: { key: tlsMaterial.key, cert: tlsMaterial.cert }, loggerInstance: logger }) as unknown as FastifyInstance;
    await app.register(managementApiPlugin<TestAdmin>, {
      extraFunctions: [SLOW_COUNT, WAIT_FOR_CANCEL, THROW_BUG],
      backoff: { baseDelayMs: 100, maxDelayMs: 400 },
      authenticate: async (user, password) =>
        (user === 'admin' && password === 'right-password') || (user === 'other' && password === 'pw') || (user === 'third' && password === 'pw') ? { userName: user } : null,
      invoke: async (declaration, args, context) => {
        calls.push({ name: declaration.name, args });
        switch (declaration.name) {
          case 'Ping':
            return null;
          case 'GetEnvironmentInfo':
            return { userName: context.admin.userName };
          case 'DeleteSystemAdministrator':
            throw new ManagementError('NOT_FOUND', `System administrator '${String(args.userName)}' does not exist.`);
          case 'TestThrowBug':
            throw new TypeError('cannot read properties of undefined (internal detail)');
          case 'TestSlowCount': {
            const steps = args.steps as number;
            for (let step = 1; step <= steps; step++) {
              await new Promise((resolve) => setTimeout(resolve, args.stepMs as number));
              context.progress((step / steps) * 100, `step ${step} of ${steps}`);
              context.log(`did step ${step}`);
            }
            return { counted: steps };
          }
          case 'TestWaitForCancel':
            await new Promise((_resolve, reject) => context.signal.addEventListener('abort', () => reject(context.signal.reason)));
            return 'not reached';
          default:
            return { echo: args };
        }
      },
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.server.address();
    port = typeof address === 'object' && address ? address.port : 0;
  });

  afterAll(async () => {
    await app.close();
  });

  it('challenges a request without credentials with 401 and a Basic realm, then accepts the credentials', async () => {
    const anonymous = await client().post('/api/invoke/Ping', '', {}, false);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers['www-authenticate']).toMatch(/^Basic realm="MailStore Service Provider Edition Management API"/);
    const answer = await client().post('/api/invoke/Ping', '');
    expect(answer.status).toBe(200);
    expect(parseJsonBody(answer.body)).toEqual({
      error: null,
      token: null,
      statusVersion: 2,
      statusCode: 'succeeded',
      percentProgress: null,
      statusText: null,
      result: null,
      logOutput: null,
    });
  });

  it('answers UTF-8 JSON with a byte order mark and Content-Type application/json', async () => {
    const answer = await client().post('/api/invoke/GetEnvironmentInfo', '');
    expect([...answer.body.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(answer.headers['content-type']).toMatch(/^application\/json/);
    expect((parseJsonBody(answer.body) as Envelope).result).toEqual({ userName: 'admin' });
  });

  it('refuses wrong credentials with 401', async () => {
    const answer = await client('admin', 'wrong').post('/api/invoke/Ping', '');
    expect(answer.status).toBe(401);
    expect(answer.headers['www-authenticate']).toMatch(/^Basic /);
  });

  it('reads urlencoded form fields, an empty body, and a body without Content-Type', async () => {
    const form = await client().post('/api/invoke/SetUserFullName', encodeArgs({ instanceID: 'acme', userName: 'jö doe', fullName: 'Jö Doe & Co' }));
    expect((parseJsonBody(form.body) as Envelope).result).toEqual({ echo: { instanceID: 'acme', userName: 'jö doe', fullName: 'Jö Doe & Co' } });
    const bare = await client().post('/api/invoke/GetUsers', 'instanceID=acme', { 'Content-Type': '' });
    expect((parseJsonBody(bare.body) as Envelope).result).toEqual({ echo: { instanceID: 'acme' } });
    const empty = await client().post('/api/invoke/Ping', '', { 'Content-Length': '0' });
    expect((parseJsonBody(empty.body) as Envelope).statusCode).toBe('succeeded');
  });

  it('serves paths with doubled slashes as published clients send them', async () => {
    for (const path of ['//api/invoke/Ping', '/api//invoke/Ping', '/api//get-metadata']) {
      const answer = await client().post(path, '');
      expect(answer.status, path).toBe(200);
    }
    const started = await client().call('TestSlowCount', { steps: 1, stepMs: 1 });
    const polled = await client().post('/api//get-status', encodeArgs({ token: started.token, lastKnownStatusVersion: -1, millisecondsTimeout: 10 }));
    expect((parseJsonBody(polled.body) as Envelope).token).toBe(started.token);
  });

  it('runs a long-running function under a token and reports progress until it succeeds', async () => {
    const first = await client().call('TestSlowCount', { steps: 4, stepMs: 30 });
    expect(first).toMatchObject({ statusCode: 'running', error: null, percentProgress: 0 });
    expect(typeof first.token).toBe('string');
    const seen: Envelope[] = [];
    let status = first;
    while (status.statusCode === 'running') {
      const next = await client().getStatus(first.token!, status.statusVersion, 5_000);
      expect(next.statusVersion).toBeGreaterThan(status.statusVersion);
      seen.push(next);
      status = next;
    }
    expect(status).toMatchObject({ statusCode: 'succeeded', result: { counted: 4 }, percentProgress: 100, token: first.token });
    expect(status.logOutput).toBe('did step 1\ndid step 2\ndid step 3\ndid step 4');
    expect(seen.some((s) => s.statusCode === 'running' && s.percentProgress === 50 && s.statusText === 'step 2 of 4')).toBe(true);
  });

  it('holds get-status until the timeout when nothing changes', async () => {
    const first = await client().call('TestWaitForCancel');
    const started = Date.now();
    const same = await client().getStatus(first.token!, first.statusVersion, 300);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(same).toMatchObject({ statusCode: 'running', statusVersion: first.statusVersion });
    await client().cancel(first.token!);
  });

  it('cancels a long-running function through cancel-async and its AbortSignal', async () => {
    const first = await client().call('TestWaitForCancel');
    const cancelling = await client().cancel(first.token!);
    expect(cancelling.token).toBe(first.token);
    let status = cancelling;
    while (status.statusCode === 'running') status = await client().getStatus(first.token!, status.statusVersion, 2_000);
    expect(status.statusCode).toBe('cancelled');
    expect(status.error?.message).toMatch(/cancelled/);
  });

  it('answers an unknown status token with failed and a clear message', async () => {
    const status = await client().getStatus('0123456789abcdef', 1, 10);
    expect(status.statusCode).toBe('failed');
    expect(status.error?.message).toMatch(/Unknown status token '0123456789abcdef'/);
    const cancel = await client().cancel('nope');
    expect(cancel.error?.message).toMatch(/Unknown status token/);
  });

  it('lists every function with its arguments in get-metadata as a bare array', async () => {
    const metadata = (await client().metadata()) as { name: string; args: { name: string; type: string; nullable: boolean }[] }[];
    expect(Array.isArray(metadata)).toBe(true);
    expect(metadata.length).toBe(106 + 3);
    const attach = metadata.find((m) => m.name === 'AttachStore');
    expect(attach?.args.map((a) => [a.name, a.type, a.nullable])).toEqual([
      ['instanceID', 'string', false],
      ['name', 'string', false],
      ['databasePath', 'string', false],
      ['contentPath', 'string', true],
      ['indexPath', 'string', true],
      ['requestedState', 'string', true],
    ]);
    expect(metadata.every((m) => !('path' in m))).toBe(true);
  });

  it('accepts the older argument name path for databasePath', async () => {
    const status = await client().invoke('CreateStore', { instanceID: 'acme', name: 's1', path: '~/s1' });
    expect(status.result).toEqual({ echo: { instanceID: 'acme', name: 's1', databasePath: '~/s1' } });
  });

  it.each([
    ['an unknown argument', 'GetUsers', { instanceID: 'acme', bogus: '1' }, /Unknown argument 'bogus' for GetUsers \(expected instanceID\)/],
    ['a missing argument', 'GetUserInfo', { instanceID: 'acme' }, /Missing required argument 'userName'/],
    ['a capitalised boolean', 'VerifyStores', { instanceID: 'acme', includeIndexes: 'True' }, /'includeIndexes'.*true or false \(lower case\); got 'True'/],
    ['a number with a unit', 'CompactStore', { instanceID: 'acme', id: '1.5x' }, /'id'.*decimal number; got '1.5x'/],
    ['broken JSON', 'CreateInstance', { config: '{bad json' }, /'config'.*not valid JSON/],
    ['JSON of the wrong shape', 'CreateInstance', { config: { instanceID: 'acme', instanceHost: 'h', startMode: 'sometimes' } }, /config\.startMode: expected one of automatic, manual, disabled/],
    ['an invalid instance ID', 'GetUsers', { instanceID: 'Acme!' }, /'instanceID'.*not a valid instance ID/],
    ['an unknown store state', 'SetStoreRequestedState', { instanceID: 'acme', id: 1, requestedState: 'frozen' }, /'requestedState' .*must be one of current, normal, writeProtected, disabled/],
    ['an invalid privilege list', 'SetUserPrivileges', { instanceID: 'acme', userName: 'x', privileges: 'admin,login' }, /'admin' must be the only value/],
    ['an invalid instance filter', 'GetInstances', { instanceFilter: '* .sleeping' }, /'instanceFilter'.*unknown status suffix/],
  ])('refuses %s with statusCode failed naming the argument', async (_label, name, args, message) => {
    const answer = await client().post(`/api/invoke/${name}`, encodeArgs(args as Record<string, string>));
    expect(answer.status).toBe(200);
    const envelope = parseJsonBody(answer.body) as Envelope;
    expect(envelope.statusCode).toBe('failed');
    expect(envelope.error?.message).toMatch(message);
  });

  it('refuses a repeated argument and a JSON request body', async () => {
    const repeated = parseJsonBody((await client().post('/api/invoke/GetUsers', 'instanceID=a1c&instanceID=b2c')).body) as Envelope;
    expect(repeated.error?.message).toMatch(/'instanceID' of GetUsers is given more than once/);
    const jsonBody = parseJsonBody((await client().post('/api/invoke/GetUsers', '{"instanceID":"acme"}', { 'Content-Type': 'application/json' })).body) as Envelope;
    expect(jsonBody.error?.message).toMatch(/application\/x-www-form-urlencoded/);
  });

  it('answers a body over the size limit with failed, not an HTTP error', async () => {
    const answer = await client().post('/api/invoke/GetUsers', `instanceID=acme&padding=${'x'.repeat(1024 * 1024 + 10)}`);
    expect(answer.status).toBe(200);
    expect((parseJsonBody(answer.body) as Envelope).error?.message).toMatch(/exceeds 1048576 bytes/);
  });

  it('answers an unknown function with failed and a clear message', async () => {
    const status = await client().call('NoSuchFunction');
    expect(status.statusCode).toBe('failed');
    expect(status.error?.message).toMatch(/Unknown function 'NoSuchFunction'/);
  });

  it('shows the message of an expected error and hides the details of a bug', async () => {
    const expected = await client().call('DeleteSystemAdministrator', { userName: 'ghost' });
    expect(expected).toMatchObject({ statusCode: 'failed', error: { message: "System administrator 'ghost' does not exist." } });
    const bug = await client().call('TestThrowBug', { secret: 'hunter2' });
    expect(bug.statusCode).toBe('failed');
    expect(bug.error?.message).toMatch(/^Internal error in TestThrowBug \(reference [0-9a-f]{8}\)/);
    expect(JSON.stringify(bug)).not.toMatch(/internal detail|hunter2/);
  });

  it('slows down repeated failures for one user name, and a success clears them', async () => {
    const timeFailure = async () => {
      const started = Date.now();
      const answer = await client('other', 'bad').post('/api/invoke/Ping', '');
      expect(answer.status).toBe(401);
      return Date.now() - started;
    };
    expect(await timeFailure()).toBeLessThan(100);
    expect(await timeFailure()).toBeGreaterThanOrEqual(90);
    expect(await timeFailure()).toBeGreaterThanOrEqual(190);
    expect(await timeFailure()).toBeGreaterThanOrEqual(390);
    expect(await timeFailure()).toBeLessThan(700); // bounded by maxDelayMs
    const ok = await client('other', 'pw').post('/api/invoke/Ping', '');
    expect(ok.status).toBe(200);
    expect(await timeFailure()).toBeLessThan(100);
    await client('other', 'pw').post('/api/invoke/Ping', '');
  });

  it('slows down repeated failures from one address across different user names', async () => {
    const attempt = async (user: string) => {
      const started = Date.now();
      expect((await new ManagementApiClient({ host: '127.0.0.1', port, user, password: 'bad', ca }).post('/api/invoke/Ping', '')).status).toBe(401);
      return Date.now() - started;
    };
    await attempt('spray-1');
    await attempt('spray-2');
    expect(await attempt('spray-3')).toBeGreaterThanOrEqual(190);
    // A success from the address clears its count.
    expect((await client('third', 'pw').post('/api/invoke/Ping', '')).status).toBe(200);
  });

  it('does not let parallel guesses dodge the growing delay', async () => {
    const guess = () => new ManagementApiClient({ host: '127.0.0.1', port, user: 'parallel', password: 'bad', ca }).post('/api/invoke/Ping', '');
    await guess();
    const started = Date.now();
    const durations = await Promise.all(Array.from({ length: 4 }, async () => (await guess(), Date.now() - started)));
    expect(Math.max(...durations)).toBeGreaterThanOrEqual(390);
    expect((await client('third', 'pw').post('/api/invoke/Ping', '')).status).toBe(200);
  });

  it('logs failed logins with address and user name, never the password', async () => {
    logLines.length = 0;
    await client('admin', 'hunter2-not-logged').post('/api/invoke/Ping', '');
    await client('admin', 'right-password').post('/api/invoke/Ping', '');
    const failures = logLines.filter((line) => line.includes('authentication failed'));
    expect(failures).toHaveLength(1);
    expect(JSON.parse(failures[0]!)).toMatchObject({ user: 'admin', remote: '127.0.0.1', failures: 1 });
    expect(logLines.join('\n')).not.toContain('hunter2-not-logged');
  });

  it('logs the detail of a bug under the reference it answered with', async () => {
    logLines.length = 0;
    const bug = await client().call('TestThrowBug');
    const reference = /reference ([0-9a-f]{8})/.exec(bug.error?.message ?? '')?.[1];
    const logged = logLines.map((line) => JSON.parse(line) as { reference?: string; err?: { message?: string } }).find((entry) => entry.reference === reference);
    expect(logged?.err?.message).toContain('internal detail');
  });
});
