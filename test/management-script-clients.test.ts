import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import forge from 'node-forge';
import type { FastifyInstance } from 'fastify';
import { buildManagementApiApp } from '../src/management/api/build-app.js';
import { fn, num, LONG_RUNNING } from '../src/management/api/metadata.js';
import { openManagementServer } from '../src/management/management-server.js';
import type { AuthenticatedAdmin } from '../src/management/admins.js';

const run = promisify(execFile);

function selfSignedCertificate(): { key: string; cert: string } {
  const keys = forge.pki.rsa.generateKeyPair(2048);
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = '01';
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + 86_400_000);
  cert.setSubject([{ name: 'commonName', value: 'localhost' }]);
  cert.setIssuer([{ name: 'commonName', value: 'localhost' }]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return { key: forge.pki.privateKeyToPem(keys.privateKey), cert: forge.pki.certificateToPem(cert) };
}

async function hasCommand(command: string, args: string[]): Promise<boolean> {
  try {
    await run(command, args);
    return true;
  } catch {
    return false;
  }
}

/**
 * The call pattern of MailStore's Python wrapper (mssapi BaseClient): urllib with a default-realm
 * password manager and HTTPBasicAuthHandler (credentials only after the 401 challenge), certificate
 * checks off, POST urlencoded, decode utf-8-sig, metadata extended from get-metadata, instanceID
 * appended when the metadata names it, tokens polled through get-status until not running.
 */
const MSSAPI_LIKE_SCRIPT = String.raw`
import json, ssl, sys, urllib.request, urllib.parse
host, port, user, password = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
mgr = urllib.request.HTTPPasswordMgrWithDefaultRealm()
mgr.add_password(None, "https://{}:{}".format(host, port), user, password)
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=ctx), urllib.request.HTTPBasicAuthHandler(password_mgr=mgr))
metadata = [{"name": "get-status", "args": []}, {"name": "cancel-async", "args": []}, {"name": "get-metadata", "args": []}]
instance_id = "acme"
def call(method, arguments=None, invoke=True):
    arguments = arguments or {}
    url = "https://{}:{}/api{}/{}".format(host, port, "/invoke" if invoke else "", method)
    pairs = [(k, arguments[k]) for k in list(arguments) if arguments[k]]
    for m in metadata:
        if m["name"] == method and any(a["name"] == "instanceID" for a in m["args"]):
            pairs.append(("instanceID", instance_id))
    response = opener.open(url, data=urllib.parse.urlencode(pairs).encode())
    values = json.loads(response.read().decode("utf-8-sig"))
    statuses = []
    while isinstance(values, dict) and values.get("token") is not None and values["statusCode"] == "running":
        statuses.append(values["statusCode"])
        values = call("get-status", {"token": values["token"], "millisecondsTimeout": 5000, "lastKnownStatusVersion": str(values["statusVersion"])}, False)
    return values
metadata.extend(call("get-metadata", invoke=False))
print(json.dumps({
    "functions": len(metadata),
    "ping": call("Ping"),
    "environment": call("GetEnvironmentInfo")["result"]["userName"],
    "verify": call("VerifyStores", {"includeIndexes": json.dumps(True)}),
    "badBool": call("VerifyStores", {"includeIndexes": "True"})["error"]["message"],
}))
`;

describe('published script clients against the Management API', () => {
  let dataDir: string;
  let app: FastifyInstance;
  let port: number;
  const password = 'script-client-password';

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'coffer-mgmt-scripts-'));
    const parts = await openManagementServer(dataDir, {
      facts: { productVersion: '0.1.0-test', startedAt: new Date() },
      env: { COFFER_ADMIN_PASSWORD: password },
      extraFunctions: [fn('TestLongCount', 'Counts slowly.', [num('steps', 'How many.')], LONG_RUNNING)],
      // Stand-in for an Instance Host: VerifyStores "runs" for a few progress steps.
      forward: async (declaration, args, context) => {
        if (declaration.name !== 'VerifyStores') throw new Error(`unexpected ${declaration.name}`);
        for (let percent = 25; percent <= 100; percent += 25) {
          await new Promise((resolve) => setTimeout(resolve, 20));
          context.progress(percent, `verified ${percent}%`);
        }
        return { instanceID: args.instanceID, includeIndexes: args.includeIndexes, problems: 0 };
      },
    });
    app = await buildManagementApiApp<AuthenticatedAdmin>({ tls: selfSignedCertificate(), api: parts.apiOptions });
    await app.listen({ port: 0, host: '127.0.0.1' });
    port = (app.server.address() as { port: number }).port;
  });

  afterAll(async () => {
    await app.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('works with the call pattern of MailStore\'s Python wrapper (urllib, challenge, BOM, token polling)', async (context) => {
    if (!(await hasCommand('python3', ['--version']))) return context.skip();
    const script = join(dataDir, 'mssapi_like.py');
    await writeFile(script, MSSAPI_LIKE_SCRIPT);
    const { stdout } = await run('python3', [script, '127.0.0.1', String(port), 'admin', password], { timeout: 30_000 });
    const summary = JSON.parse(stdout) as Record<string, unknown>;
    expect(summary.functions).toBe(3 + 106 + 1);
    expect(summary.ping).toMatchObject({ statusCode: 'succeeded', error: null, token: null });
    expect(summary.environment).toBe('admin');
    expect(summary.verify).toMatchObject({ statusCode: 'succeeded', percentProgress: 100, result: { instanceID: 'acme', includeIndexes: true, problems: 0 } });
    expect(summary.badBool).toMatch(/'includeIndexes'.*true or false/);
  });

  it('works with curl as operators call it: -u, no body, -d form fields, doubled slashes', async (context) => {
    if (!(await hasCommand('curl', ['--version']))) return context.skip();
    const base = `https://127.0.0.1:${port}`;
    const curl = async (...args: string[]) => (await run('curl', ['-sk', '-u', `admin:${password}`, '-X', 'POST', ...args], { timeout: 30_000, encoding: 'buffer' })).stdout as Buffer;
    const decode = (body: Buffer) => JSON.parse(body.toString('utf8').replace(/^\uFEFF/, '')) as Record<string, unknown>;
    const bare = await curl(`${base}/api/invoke/GetEnvironmentInfo`);
    expect([...bare.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(decode(bare)).toMatchObject({ statusCode: 'succeeded', result: { userName: 'admin' } });
    const form = decode(await curl(`${base}//api/invoke/CreateSystemAdministrator`, '--data-urlencode', 'config={"userName":"ops","emailAddress":"ops@example.test"}', '--data-urlencode', 'password=ops password 1'));
    expect(form).toMatchObject({ statusCode: 'succeeded', result: { userName: 'ops' } });
    const started = decode(await curl(`${base}/api/invoke/VerifyStores`, '-d', 'instanceID=acme&includeIndexes=false'));
    expect(started).toMatchObject({ statusCode: 'running' });
    let status = started;
    while (status.statusCode === 'running') {
      status = decode(await curl(`${base}/api//get-status`, '-d', `token=${String(started.token)}&lastKnownStatusVersion=${String(status.statusVersion)}&millisecondsTimeout=5000`));
    }
    expect(status).toMatchObject({ statusCode: 'succeeded', result: { includeIndexes: false } });
    const anonymous = await run('curl', ['-sk', '-o', '/dev/null', '-w', '%{http_code}', '-X', 'POST', `${base}/api/invoke/Ping`]);
    expect(anonymous.stdout).toBe('401');
  });
});
