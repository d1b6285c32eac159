/**
 * Management API functions that act on one instance (Function Reference), executed inside the
 * instance process. The Management Server validates argument types at its edge and forwards
 * `{fn, args}` here; values are checked again where their meaning is instance-specific.
 */
import type { Archive } from './archive.js';
import type { Users, UserRow } from './users.js';
import { parseGlobalPrivileges, parseLoginPrivileges } from './users.js';
import { InstanceError } from './errors.js';
import { compactStore, rebuildIndex, recoverStore, verifyArchiveStore, type Progress } from './store/maintenance.js';
import { STORE_STATES, type StoreState } from './store/store.js';
import { normalizeFolderPath } from './instance-db.js';
import { maintainDatabases, mergeStore, moveFolder, recreateRecoveryRecords, repairStoreDatabase } from './store/store-admin.js';

export interface CallContext { progress: Progress; signal: AbortSignal }
type Fn = (args: Record<string, any>, ctx: CallContext) => unknown;

function userInfo(u: UserRow, users: Users) {
  return {
    userName: u.name, fullName: u.full_name || null, distinguishedName: u.distinguished_name || null, authentication: u.authentication,
    emailAddresses: JSON.parse(u.email_addresses) as string[], pop3UserNames: JSON.parse(u.pop3_user_names) as string[],
    privileges: u.privileges || 'none', loginPrivileges: u.login_privileges || 'none',
    privilegesOnFolders: [...users.folderPrivileges(u.name)].map(([folder, p]) => ({ folder, privileges: p.join(',') })),
    mfaStatus: u.mfa_state,
  };
}

function storeState(s: unknown): StoreState {
  if (!STORE_STATES.includes(s as StoreState)) throw new InstanceError('INVALID_ARGUMENT', `requestedState: expected one of ${STORE_STATES.join(', ')}, got ${JSON.stringify(s)}`);
  return s as StoreState;
}

function num(v: unknown, name: string): number {
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isInteger(n)) throw new InstanceError('INVALID_ARGUMENT', `${name}: expected an integer`);
  return n;
}

export function instanceFunctions(archive: Archive, users: Users, safeMode: () => boolean): Record<string, Fn> {
  const stores = (includeSize = true) => archive.storeRows().map((r) => {
    const open = archive.openStoresList().find((s) => s.id === r.id);
    const err = archive.storeError(r.id);
    return {
      id: r.id, name: r.name, databasePath: r.database_path, contentPath: r.content_path, indexPath: r.index_path,
      requestedState: r.requested_state, actualState: err ? 'error' : r.requested_state, error: err,
      messageCount: open ? open.messageCount() : null, size: includeSize && open ? open.diskBytes() : null,
    };
  });
  const needStore = (id: unknown) => { const n = num(id, 'id'); if (!archive.storeRows().some((r) => r.id === n)) throw new InstanceError('NOT_FOUND', `archive store ${n} does not exist`); return n; };
  const user = (name: unknown) => users.require(String(name));

  return {
    // Users and privileges
    CreateUser: async (a) => { await users.create(a as any); return null; },
    DeleteUser: (a) => { user(a.userName); archive.db.prepare('DELETE FROM users WHERE name = ?').run(a.userName); archive.db.prepare('DELETE FROM folder_privileges WHERE user_name = ?').run(a.userName); return null; },
    GetUsers: () => users.list().map((u) => ({ userName: u.name, fullName: u.full_name || null, distinguishedName: u.distinguished_name || null, authentication: u.authentication })),
    GetUserInfo: (a) => userInfo(user(a.userName), users),
    SetUserPassword: async (a) => { await users.setPassword(String(a.userName), String(a.password)); return null; },
    SetUserPrivileges: (a) => { user(a.userName); archive.db.prepare('UPDATE users SET privileges = ? WHERE name = ?').run(parseGlobalPrivileges(String(a.privileges)).join(',') || 'none', a.userName); return null; },
    SetUserLoginPrivileges: (a) => { user(a.userName); archive.db.prepare('UPDATE users SET login_privileges = ? WHERE name = ?').run(parseLoginPrivileges(String(a.loginPrivileges ?? a.privileges)).join(',') || 'none', a.userName); return null; },
    SetUserPrivilegesOnFolder: (a) => { users.setFolderPrivileges(String(a.userName), String(a.folder), String(a.privileges)); return null; },
    ClearUserPrivilegesOnFolders: (a) => { user(a.userName); archive.db.prepare('DELETE FROM folder_privileges WHERE user_name = ?').run(a.userName); return null; },
    SetUserFullName: (a) => { user(a.userName); archive.db.prepare('UPDATE users SET full_name = ? WHERE name = ?').run(a.fullName ?? '', a.userName); return null; },
    SetUserDistinguishedName: (a) => { user(a.userName); archive.db.prepare('UPDATE users SET distinguished_name = ? WHERE name = ?').run(a.distinguishedName ?? '', a.userName); return null; },
    SetUserAuthentication: (a) => {
      user(a.userName);
      if (a.authentication !== 'integrated' && a.authentication !== 'directoryServices') throw new InstanceError('INVALID_ARGUMENT', `authentication: expected 'integrated' or 'directoryServices'`);
      archive.db.prepare('UPDATE users SET authentication = ? WHERE name = ?').run(a.authentication, a.userName); return null;
    },
    SetUserEmailAddresses: (a) => { user(a.userName); archive.db.prepare('UPDATE users SET email_addresses = ? WHERE name = ?').run(JSON.stringify(splitList(a.emailAddresses)), a.userName); return null; },
    SetUserPop3UserNames: (a) => { user(a.userName); archive.db.prepare('UPDATE users SET pop3_user_names = ? WHERE name = ?').run(JSON.stringify(splitList(a.pop3UserNames)), a.userName); return null; },
    RenameUser: (a) => {
      user(a.oldUserName);
      if (users.get(String(a.newUserName))) throw new InstanceError('ALREADY_EXISTS', `user ${JSON.stringify(a.newUserName)} already exists`);
      archive.db.transaction(() => {
        archive.db.prepare('UPDATE users SET name = ? WHERE name = ?').run(a.newUserName, a.oldUserName);
        archive.db.prepare('UPDATE folder_privileges SET user_name = ? WHERE user_name = ?').run(a.newUserName, a.oldUserName);
      })();
      return null;
    },

    // Folders
    GetChildFolders: (a) => {
      const base = a.folder ? normalizeFolderPath(String(a.folder)) : '';
      const maxLevels = a.maxLevels === undefined || a.maxLevels === null ? Infinity : num(a.maxLevels, 'maxLevels');
      const depth0 = base ? base.split('/').length : 0;
      if (base && !archive.folders.find(base)) throw new InstanceError('NOT_FOUND', `folder ${JSON.stringify(base)} does not exist`);
      return archive.folders.all().filter((f) => (!base || f.path.startsWith(`${base}/`)) && f.path.split('/').length - depth0 <= maxLevels).map((f) => f.path);
    },
    GetFolderStatistics: () => archive.folders.all().map((f) => ({ folder: f.path, count: f.messages, size: f.size })),
    DeleteEmptyFolders: (a) => {
      const base = a.folder ? normalizeFolderPath(String(a.folder)) : '';
      let removed = 0;
      for (const f of archive.folders.all().reverse()) {
        if (base && f.path !== base && !f.path.startsWith(`${base}/`)) continue;
        if (f.messages === 0 && archive.folders.children(f.id).length === 0 && f.parent_id !== null) { archive.db.prepare('DELETE FROM folders WHERE id = ?').run(f.id); removed++; }
      }
      return { removed };
    },

    // Stores
    GetStores: (a) => stores(a.includeSize !== false),
    CreateStore: (a) => { const r = archive.createStore({ name: String(a.name), databasePath: a.databasePath ?? a.path, contentPath: a.contentPath, indexPath: a.indexPath, requestedState: a.requestedState ? storeState(a.requestedState) : 'normal' }); return { id: r.id }; },
    AttachStore: (a) => { const r = archive.createStore({ name: String(a.name), databasePath: a.databasePath ?? a.path, contentPath: a.contentPath, indexPath: a.indexPath, requestedState: a.requestedState ? storeState(a.requestedState) : 'normal' }); archive.recountFolders(); return { id: r.id }; },
    DetachStore: (a) => { archive.detachStore(needStore(a.id)); return null; },
    RenameStore: (a) => { const id = needStore(a.id); archive.db.prepare('UPDATE stores SET name = ? WHERE id = ?').run(String(a.name), id); return null; },
    SetStoreRequestedState: (a) => { archive.setStoreState(needStore(a.id), storeState(a.requestedState)); return null; },
    SetStorePath: (a) => {
      const id = needStore(a.id);
      const row = archive.storeRows().find((r) => r.id === id)!;
      if (archive.openStoresList().some((s) => s.id === id)) throw new InstanceError('INVALID_STATE', `archive store ${id} must be disabled before its path changes`);
      const db = String(a.databasePath ?? a.path);
      archive.db.prepare('UPDATE stores SET database_path = ?, content_path = ?, index_path = ? WHERE id = ?').run(db, a.contentPath ?? db, a.indexPath ?? db, row.id);
      return null;
    },
    GetStoreAutoCreateConfiguration: () => archive.autoCreateConfig(),
    SetStoreAutoCreateConfiguration: (a) => { archive.setAutoCreateConfig({ ...archive.autoCreateConfig(), ...(a.config as object) }); return null; },
    VerifyStore: (a, ctx) => verifyArchiveStore(archive, archive.store(needStore(a.id)), a.includeIndexes === true, ctx.progress, ctx.signal),
    VerifyStores: (a, ctx) => archive.openStoresList().map((s) => verifyArchiveStore(archive, s, a.includeIndexes === true, ctx.progress, ctx.signal)),
    RecoverStore: (a, ctx) => {
      const id = needStore(a.id);
      const row = archive.storeRows().find((r) => r.id === id)!;
      if (row.requested_state !== 'disabled' && !archive.storeError(id)) throw new InstanceError('INVALID_STATE', `archive store ${id} must be in the disabled or error state to be recovered (SetStoreRequestedState)`);
      return recoverStore(archive, id, ctx.progress, ctx.signal);
    },
    CompactStore: (a, ctx) => compactStore(archive, needStore(a.id), ctx.progress, ctx.signal),
    RebuildSelectedStoreIndexes: async (_a, ctx) => {
      const selected = archive.settings.read<number[]>('indexesSelectedForRebuild', []);
      const out: { id: number; messages: number }[] = [];
      for (const id of selected.filter((x) => archive.openStoresList().some((s) => s.id === x))) out.push({ id, ...(await rebuildIndex(archive, id, ctx.progress, ctx.signal)) });
      archive.settings.write('indexesSelectedForRebuild', []);
      return out;
    },
    SelectAllStoreIndexesForRebuild: () => { archive.settings.write('indexesSelectedForRebuild', archive.storeRows().map((r) => r.id)); return null; },
    RefreshAllStoreStatistics: () => { archive.recountFolders(); return null; },
    MergeStore: (a, ctx) => mergeStore(archive, needStore(a.id), needStore(a.sourceId), ctx.progress, ctx.signal),
    RecreateRecoveryRecords: (a, ctx) => recreateRecoveryRecords(archive, archive.store(needStore(a.id)), ctx.progress, ctx.signal),
    RepairStoreDatabase: (a) => repairStoreDatabase(archive.store(needStore(a.id))),
    // Coffer has one store format; there is nothing older to upgrade (said plainly, not failed).
    UpgradeStore: (a) => { needStore(a.id); return { upgraded: false, message: 'the archive store is already in the current format' }; },
    MaintainFileSystemDatabases: (_a, ctx) => maintainDatabases(archive, ctx.progress, ctx.signal),
    MoveFolder: (a) => moveFolder(archive, String(a.fromFolder ?? ''), String(a.toFolder ?? '')),
    RetryOpenStores: () => { for (const r of archive.storeRows()) archive.reopenStore(r.id); return stores(false); },

    // Statistics
    GetInstanceStatistics: () => {
      const folders = archive.folders.all();
      return { messageCount: folders.reduce((n, f) => n + f.messages, 0), totalSize: folders.reduce((n, f) => n + f.size, 0), folderCount: folders.length, userCount: users.list().length };
    },
    GetInstanceProcessLiveStatistics: () => ({ pid: process.pid, uptimeSeconds: Math.round(process.uptime()), memory: process.memoryUsage(), safeMode: safeMode() }),
  };
}

function splitList(v: unknown): string[] {
  if (Array.isArray(v)) return v.map(String);
  if (typeof v === 'string') return v.split(',').map((s) => s.trim()).filter(Boolean);
  return [];
}
