import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, readdir, rm, stat, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManagementDb } from '../src/management/db/management-db.js';
import { emptyDatabase, parseManagementDatabase } from '../src/management/db/schema.js';
import { ManagementError } from '../src/management/errors.js';

const instance = (id: string, alias: string | null = null) => ({
  id,
  alias,
  host: 'host1',
  startMode: 'automatic' as const,
  config: {
    displayName: id,
    baseDirectory: `/data/instances/${id}`,
    debugLogEnabled: false,
    imapServerConnectionLogEnabled: false,
    vssWriterEnabled: false,
    vssWriterExcludeIndexes: false,
  },
});

describe('management database', () => {
  let dataDir: string;
  let dbPath: string;

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'coffer-mgmt-db-'));
    dbPath = join(dataDir, 'config', 'management-db.json');
  });
  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('creates an empty database file with mode 0600 on first start', async () => {
    const db = await ManagementDb.open(dataDir);
    expect(db.read()).toEqual(emptyDatabase());
    expect(JSON.parse(await readFile(dbPath, 'utf8'))).toEqual(emptyDatabase());
    expect((await stat(dbPath)).mode & 0o777).toBe(0o600);
  });

  it('writes each change atomically and reads it back after a restart', async () => {
    const db = await ManagementDb.open(dataDir);
    await db.update((draft) => {
      draft.instances.push(instance('acme', 'acme-corp'));
      draft.routingTableVersion++;
    });
    expect((await readdir(join(dataDir, 'config'))).sort()).toEqual(['management-db.json']);
    const reopened = await ManagementDb.open(dataDir);
    expect(reopened.read().instances[0]).toMatchObject({ id: 'acme', alias: 'acme-corp' });
    expect(reopened.read().routingTableVersion).toBe(1);
  });

  it('serialises concurrent updates so that none is lost', async () => {
    const db = await ManagementDb.open(dataDir);
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        db.update(async (draft) => {
          await new Promise((resolve) => setTimeout(resolve, Math.random() * 5));
          draft.instances.push(instance(`tenant-${i}`));
        }),
      ),
    );
    expect(db.read().instances).toHaveLength(20);
    expect((await ManagementDb.open(dataDir)).read().instances).toHaveLength(20);
  });

  it('leaves file and state untouched when a change throws or would break the schema', async () => {
    const db = await ManagementDb.open(dataDir);
    await db.update((draft) => void draft.instances.push(instance('acme')));
    const before = await readFile(dbPath, 'utf8');
    await expect(
      db.update(() => {
        throw new ManagementError('ALREADY_EXISTS', 'nope');
      }),
    ).rejects.toThrow('nope');
    await expect(db.update((draft) => void draft.instances.push(instance('other', 'acme')))).rejects.toThrow(/instance name 'acme'/);
    expect(await readFile(dbPath, 'utf8')).toBe(before);
    expect(db.read().instances).toHaveLength(1);
    await db.update((draft) => void draft.instances.push(instance('globex')));
    expect(db.read().instances).toHaveLength(2);
  });

  it('refuses to start on a file that is not JSON, and keeps the file as it was', async () => {
    await mkdir(join(dataDir, 'config'), { recursive: true });
    await writeFile(dbPath, '{"schemaVersion": 1, "instances": [');
    await expect(ManagementDb.open(dataDir)).rejects.toThrow(/management-db\.json is damaged: not valid JSON/);
    expect(await readFile(dbPath, 'utf8')).toBe('{"schemaVersion": 1, "instances": [');
  });

  it('refuses to start on a broken field and names it with its path', async () => {
    await mkdir(join(dataDir, 'config'), { recursive: true });
    const broken = { ...emptyDatabase(), instances: [instance('one'), instance('two'), { ...instance('three'), startMode: 'sometimes' }] };
    const text = JSON.stringify(broken);
    await writeFile(dbPath, text);
    const error = await ManagementDb.open(dataDir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ManagementError);
    expect((error as ManagementError).code).toBe('DATABASE_DAMAGED');
    expect((error as Error).message).toContain('instances[2].startMode: expected one of automatic, manual, disabled');
    expect(await readFile(dbPath, 'utf8')).toBe(text);
  });

  it('removes temporary files left by a crash during a write', async () => {
    await ManagementDb.open(dataDir);
    await writeFile(`${dbPath}.tmp-123-abcd`, '{half');
    await ManagementDb.open(dataDir);
    expect(await readdir(join(dataDir, 'config'))).toEqual(['management-db.json']);
  });

  it.each([
    [{ ...emptyDatabase(), schemaVersion: 2 }, 'schemaVersion: expected 1'],
    [{ ...emptyDatabase(), extra: 1 }, '(root).extra: unknown field'],
    [{ ...emptyDatabase(), instances: [instance('9lives')] }, "instances[0].id: '9lives' must start with a lower-case letter"],
    [{ ...emptyDatabase(), instances: [instance('acme'), instance('ACME'.toLowerCase())] }, "instances[1].id: instance name 'acme' is also used by instances[0].id"],
    [{ ...emptyDatabase(), instanceHosts: [{ serverName: 'h', port: 70000, thumbprint: null, baseDirectory: null }] }, 'instanceHosts[0].port: expected an integer from 1 to 65535'],
    [
      { ...emptyDatabase(), systemAdministrators: [{ userName: 'a', fullName: '', emailAddress: '', passwordHash: 'scrypt$1', apiPasswordHash: null, mfa: { status: 'active', secret: null } }] },
      'systemAdministrators[0].mfa.secret: required while MFA is active',
    ],
  ])('validates %#: %s', (value, message) => {
    const parsed = parseManagementDatabase(value);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.message).toContain(message);
  });
});
