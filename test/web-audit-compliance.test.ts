/**
 * The instance's audit log follows the compliance configuration, end to end: set through the real
 * Management API (Get/SetComplianceConfiguration, `logSuccessfulUserActivities`), pushed into the
 * running instance and again at its start, and obeyed by the instance when Web Access reports what
 * a user did. Failed logins are written whatever the list says. The audit log is read where the
 * instance keeps it: the `audit` table of `<base>/instance.db`.
 * Single server mode in this process (Management Server, Instance Host, CAS with Web Access).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { USER_ACTIVITIES } from '../src/instance/api.js';
import { InstanceClient } from '../src/instance/client.js';
import { ok, startSingleServer, type SingleServer } from './helpers/single-server.js';
import { WebClient } from './helpers/web-client.js';

interface AuditRow { id: number; user_name: string | null; action: string; details: string }

describe('the audit log follows the compliance configuration', () => {
  let single: SingleServer;
  let dataDir: string;
  let api: SingleServer['api'];
  let instance: InstanceClient;
  let inbox = 0;

  const web = () => single.web();
  const connectInstance = () => single.connectInstance();

  /** Audit entries written after entry `afterId` (the instance writes before Web Access answers). */
  const auditSince = (afterId: number): AuditRow[] => {
    const db = new Database(path.join(dataDir, 'instances', 'acme', 'instance.db'), { readonly: true });
    try { return db.prepare('SELECT id, user_name, action, details FROM audit WHERE id > ? ORDER BY id').all(afterId) as AuditRow[]; } finally { db.close(); }
  };
  const lastAuditId = (): number => auditSince(0).at(-1)?.id ?? 0;
  const setActivities = async (names: string[]) => ok(await api.invoke('SetComplianceConfiguration', { instanceID: 'acme', config: { logSuccessfulUserActivities: names } }));

  /** Logs jane in over Web Access and opens her one message; the page must show it. */
  async function viewMessage(): Promise<WebClient> {
    const c = web();
    const login = await c.login('/acme', 'jane', 'pw-jane-123');
    expect(login.headers.location).toBe('/acme/folders');
    const page = await c.get(`/acme/message/${inbox}/1`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('Budget review');
    return c;
  }

  beforeAll(async () => {
    single = await startSingleServer({ users: ['jane'], subject: 'Budget review' });
    ({ dataDir, api, instance } = single);
    inbox = single.inbox;
  }, 120_000);

  afterAll(async () => {
    instance?.close();
    await single?.close();
  });

  it('by default lists every user activity, so viewing and downloading a message are written', async () => {
    const config = ok(await api.invoke('GetComplianceConfiguration', { instanceID: 'acme' }));
    expect(config).toEqual({ adminEmailPreviewEnabled: false, legalHoldEnabled: false, logSuccessfulUserActivities: [...USER_ACTIVITIES] });
    expect(config.logSuccessfulUserActivities).toEqual(expect.arrayContaining(['MessageRetrieveContent', 'MessageDownload', 'AttachmentDownload', 'MessageExport', 'MessageRestore']));
    const mark = lastAuditId();
    const c = await viewMessage();
    expect((await c.get(`/acme/message/${inbox}/1/eml`)).status).toBe(200);
    const rows = auditSince(mark);
    const viewed = rows.find((r) => r.action === 'MessageRetrieveContent');
    expect(viewed?.user_name).toBe('jane');
    expect(JSON.parse(viewed!.details)).toMatchObject({ folder: 'jane/Inbox', uid: 1 });
    expect(rows.filter((r) => r.action === 'MessageDownload').map((r) => r.user_name)).toEqual(['jane']);
    expect(rows.some((r) => r.action === 'Login' && r.user_name === 'jane')).toBe(true);
  });

  it('is validated at the edge and keeps what a partial configuration leaves out, including SPE names Coffer does not produce', async () => {
    const bad = await api.invoke('SetComplianceConfiguration', { instanceID: 'acme', config: { logSuccessfulUserActivities: 'MessageRetrieveContent' } });
    expect(bad.statusCode).toBe('failed');
    expect(bad.error!.message).toMatch(/config\.logSuccessfulUserActivities: expected an array of strings/);
    ok(await api.invoke('SetComplianceConfiguration', { instanceID: 'acme', config: { legalHoldEnabled: true } }));
    expect(ok(await api.invoke('GetComplianceConfiguration', { instanceID: 'acme' }))).toEqual({ adminEmailPreviewEnabled: false, legalHoldEnabled: true, logSuccessfulUserActivities: [...USER_ACTIVITIES] });
    await setActivities(['UserAdd', 'MessageRetrieveContent']);
    expect(ok(await api.invoke('GetComplianceConfiguration', { instanceID: 'acme' }))).toEqual({ adminEmailPreviewEnabled: false, legalHoldEnabled: true, logSuccessfulUserActivities: ['UserAdd', 'MessageRetrieveContent'] });
    // Kept in the management database, where the next start reads it.
    const db = JSON.parse(readFileSync(path.join(dataDir, 'config', 'management-db.json'), 'utf8').replace(/^\uFEFF/, ''));
    expect(db.instanceSettings.acme.compliance.logSuccessfulUserActivities).toEqual(['UserAdd', 'MessageRetrieveContent']);
  });

  it('writes a viewed message only while the list names MessageRetrieveContent, and failed logins always', async () => {
    await setActivities(['MessageDownload']);
    let mark = lastAuditId();
    const c = await viewMessage();
    // The download in the same breath is written: the log is read right and the instance is listening.
    expect((await c.get(`/acme/message/${inbox}/1/eml`)).status).toBe(200);
    expect(auditSince(mark).map((r) => r.action)).toEqual(['MessageDownload']);

    await setActivities([]);
    mark = lastAuditId();
    const failed = await web().login('/acme', 'jane', 'not-the-password');
    expect(failed.status).toBe(401);
    await viewMessage();
    const rows = auditSince(mark);
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((r) => r.action === 'LoginFailed')).toBe(true);
    expect(rows.some((r) => r.user_name === 'jane' && JSON.parse(r.details).userAgent !== undefined)).toBe(true);

    await setActivities(['MessageRetrieveContent']);
    mark = lastAuditId();
    await viewMessage();
    expect(auditSince(mark).map((r) => r.action)).toEqual(['MessageRetrieveContent']);
  });

  it('refuses an audit action the instance does not know, so the CAS and the instance cannot drift apart', async () => {
    const s = await instance.authenticate({ user: 'jane', password: 'pw-jane-123', channel: 'web' });
    if (!s.ok) throw new Error(s.message);
    await expect(instance.audit({ session: s.session, action: 'Export', details: {} })).rejects.toThrow(/action: expected one of .*MessageExport/);
    await instance.logout({ session: s.session });
  });

  it('is pushed again at every start, and to a frozen instance when it is thawed', async () => {
    await setActivities(['Login']);
    // Change the instance's own copy behind the Management Server's back; a start puts it right.
    await instance.management('SetInstanceLocalConfiguration', { compliance: { logSuccessfulUserActivities: ['MessageRetrieveContent'] } });
    let mark = lastAuditId();
    await viewMessage();
    expect(auditSince(mark).map((r) => r.action)).toContain('MessageRetrieveContent');
    instance.close();
    ok(await api.invoke('StopInstances', { instanceFilter: 'acme' }));
    ok(await api.invoke('StartInstances', { instanceFilter: 'acme' }));
    instance = await connectInstance();
    await waitForWeb();
    mark = lastAuditId();
    await viewMessage();
    expect(auditSince(mark).map((r) => r.action).filter((a) => a !== 'Login')).toEqual([]);
    expect(auditSince(mark).some((r) => r.action === 'Login')).toBe(true);

    // Frozen: the call answers at once and the instance applies it when thawed.
    ok(await api.invoke('FreezeInstances', { instanceFilter: 'acme' }));
    const started = Date.now();
    await setActivities(['MessageRetrieveContent']);
    expect(Date.now() - started).toBeLessThan(10_000);
    ok(await api.invoke('ThawInstances', { instanceFilter: 'acme' }));
    mark = lastAuditId();
    await viewMessage();
    expect(auditSince(mark).map((r) => r.action)).toEqual(['MessageRetrieveContent']);
  }, 60_000);

  /** The CAS reconnects to the restarted instance on its own; until then the page is a 503. */
  async function waitForWeb() {
    const until = Date.now() + 20_000;
    while ((await web().get('/acme/login')).status === 503 && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 200));
  }
});
