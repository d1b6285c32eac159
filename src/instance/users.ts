/**
 * Users of an instance: privileges of the Function Reference (global, login channels, folder
 * privileges on top-level archives), integrated authentication with scrypt hashes, sessions.
 */
import { randomBytes } from 'node:crypto';
import type { Db } from './instance-db.js';
import { hashPassword, verifyPassword } from '../common/password.js';
import { GLOBAL_PRIVILEGES, LOGIN_CHANNELS, type AuthResult, type FolderPrivilege, type GlobalPrivilege, type LoginChannel } from './api.js';
import { InstanceError } from './errors.js';
import { matchTotpCode } from '../common/totp.js';

export interface UserRow {
  name: string; full_name: string; distinguished_name: string; authentication: string; password_hash: string | null;
  privileges: string; login_privileges: string; email_addresses: string; pop3_user_names: string; mfa_secret: string | null; mfa_state: string;
}

export interface UserSession { token: string; userName: string; isAdmin: boolean; privileges: GlobalPrivilege[]; channel: LoginChannel; createdAt: number; lastUsed: number }

/** An instance session unused this long ends; the CAS's own web sessions time out sooner. */
const SESSION_IDLE_MS = 24 * 3600_000;

/** A user name is what appears as a top-level archive folder, so it must be a valid folder segment. */
export function validateUserName(name: string): string {
  const n = name.trim();
  if (!n) throw new InstanceError('INVALID_ARGUMENT', 'userName must not be empty');
  if (n.length > 255) throw new InstanceError('INVALID_ARGUMENT', 'userName is longer than 255 characters');
  if (/[\/\u0000-\u001f\u007f]/.test(n)) throw new InstanceError('INVALID_ARGUMENT', `userName ${JSON.stringify(n)} must not contain '/' or control characters`);
  return n;
}

export function parseGlobalPrivileges(csv: string): GlobalPrivilege[] {
  const list = csv.split(',').map((s) => s.trim()).filter(Boolean);
  if (list.length === 1 && list[0] === 'none') return [];
  if (list.includes('none')) throw new InstanceError('INVALID_ARGUMENT', "privileges: 'none' must be the only value when given");
  for (const p of list) if (!GLOBAL_PRIVILEGES.includes(p as GlobalPrivilege)) throw new InstanceError('INVALID_ARGUMENT', `privileges: unknown privilege ${JSON.stringify(p)}; expected none or any of ${GLOBAL_PRIVILEGES.join(', ')}`);
  return [...new Set(list)] as GlobalPrivilege[];
}

export function parseLoginPrivileges(csv: string): LoginChannel[] {
  const list = csv.split(',').map((s) => s.trim()).filter(Boolean);
  if (list.length === 1 && list[0] === 'none') return [];
  for (const p of list) if (!LOGIN_CHANNELS.includes(p as LoginChannel)) throw new InstanceError('INVALID_ARGUMENT', `loginPrivileges: unknown value ${JSON.stringify(p)}; expected none or any of ${LOGIN_CHANNELS.join(', ')}`);
  return [...new Set(list)] as LoginChannel[];
}

export function parseFolderPrivileges(csv: string): FolderPrivilege[] {
  const list = csv.split(',').map((s) => s.trim()).filter(Boolean);
  if (list.length === 1 && list[0] === 'none') return [];
  for (const p of list) if (!['read', 'write', 'delete'].includes(p)) throw new InstanceError('INVALID_ARGUMENT', `privileges: unknown folder privilege ${JSON.stringify(p)}; expected none, read, write, delete`);
  return [...new Set(list)] as FolderPrivilege[];
}

/** Failed logins slow down per user name and per address, so guessing is expensive. */
const FAILURE_WINDOW_MS = 15 * 60_000;

export class Users {
  private sessions = new Map<string, UserSession>();
  private failures = new Map<string, { count: number; last: number }>();
  /** Last accepted TOTP time step per user: a code works once (RFC 6238 §5.2). */
  private lastTotpStep = new Map<string, number>();

  constructor(private db: Db, private isSafeMode: () => boolean) {}

  get(name: string): UserRow | undefined { return this.db.prepare('SELECT * FROM users WHERE name = ?').get(name) as UserRow | undefined; }

  require(name: string): UserRow {
    const u = this.get(name);
    if (!u) throw new InstanceError('NOT_FOUND', `user ${JSON.stringify(name)} does not exist`);
    return u;
  }

  list(): UserRow[] { return this.db.prepare('SELECT * FROM users ORDER BY name').all() as UserRow[]; }

  async create(p: { userName: string; privileges: string; fullName?: string | null; distinguishedName?: string | null; authentication?: string | null; password?: string | null }): Promise<void> {
    const name = validateUserName(p.userName);
    const privileges = parseGlobalPrivileges(p.privileges);
    const auth = p.authentication ?? 'integrated';
    if (auth !== 'integrated' && auth !== 'directoryServices') throw new InstanceError('INVALID_ARGUMENT', `authentication: expected 'integrated' or 'directoryServices', got ${JSON.stringify(auth)}`);
    if (this.get(name)) throw new InstanceError('ALREADY_EXISTS', `user ${JSON.stringify(name)} already exists`);
    const hash = p.password ? await hashPassword(p.password) : null;
    this.db.transaction(() => {
      this.db.prepare('INSERT INTO users (name, full_name, distinguished_name, authentication, password_hash, privileges) VALUES (?, ?, ?, ?, ?, ?)')
        .run(name, p.fullName ?? '', p.distinguishedName ?? '', auth, hash, privileges.join(','));
      // Decision (docs/decisions.md): a new user can read their own archive, as users of an archive expect;
      // SetUserPrivilegesOnFolder with 'none' takes it away.
      this.db.prepare('INSERT OR IGNORE INTO folder_privileges (user_name, archive, privileges) VALUES (?, ?, ?)').run(name, name, 'read');
    })();
  }

  async setPassword(name: string, password: string): Promise<void> {
    this.require(name);
    if (!password) throw new InstanceError('INVALID_ARGUMENT', 'password must not be empty');
    this.db.prepare('UPDATE users SET password_hash = ? WHERE name = ?').run(await hashPassword(password), name);
  }

  folderPrivileges(userName: string): Map<string, FolderPrivilege[]> {
    const rows = this.db.prepare('SELECT archive, privileges FROM folder_privileges WHERE user_name = ?').all(userName) as { archive: string; privileges: string }[];
    return new Map(rows.map((r) => [r.archive.toLowerCase(), r.privileges.split(',').filter(Boolean) as FolderPrivilege[]]));
  }

  setFolderPrivileges(userName: string, archive: string, csv: string): void {
    this.require(userName);
    const privs = parseFolderPrivileges(csv);
    const top = archive.split('/').filter(Boolean)[0];
    if (!top) throw new InstanceError('INVALID_ARGUMENT', 'folder must name a top-level archive folder');
    if (privs.length === 0) this.db.prepare('DELETE FROM folder_privileges WHERE user_name = ? AND archive = ?').run(userName, top);
    else this.db.prepare('INSERT INTO folder_privileges (user_name, archive, privileges) VALUES (?, ?, ?) ON CONFLICT (user_name, archive) DO UPDATE SET privileges = excluded.privileges').run(userName, top, privs.join(','));
  }

  /** Archives (top-level folder names, lower-cased) the user may read. */
  readableArchives(userName: string): Set<string> {
    const out = new Set<string>();
    for (const [archive, privs] of this.folderPrivileges(userName)) if (privs.includes('read')) out.add(archive);
    return out;
  }

  private failureDelayMs(keys: string[]): number {
    const now = Date.now();
    let worst = 0;
    for (const k of keys) {
      const f = this.failures.get(k);
      if (f && now - f.last < FAILURE_WINDOW_MS) worst = Math.max(worst, f.count);
    }
    return worst === 0 ? 0 : Math.min(250 * 2 ** (worst - 1), 8000);
  }

  private noteFailure(keys: string[]): void {
    const now = Date.now();
    for (const k of keys) {
      const f = this.failures.get(k);
      this.failures.set(k, { count: f && now - f.last < FAILURE_WINDOW_MS ? f.count + 1 : 1, last: now });
    }
    if (this.failures.size > 10_000) for (const [k, f] of this.failures) if (now - f.last > FAILURE_WINDOW_MS) this.failures.delete(k);
  }

  async authenticate(p: { user: string; password: string; channel: LoginChannel; remote?: string; totp?: string }): Promise<AuthResult & { userName?: string }> {
    const keys = [`u:${p.user.toLowerCase()}`, ...(p.remote ? [`a:${p.remote}`] : [])];
    const delay = this.failureDelayMs(keys);
    if (delay) await new Promise((r) => setTimeout(r, delay));
    const u = this.get(p.user);
    // Always run scrypt so a missing user costs as much as a wrong password.
    const ok = await verifyPassword(p.password, u?.password_hash ?? 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=');
    if (!u || !ok || u.authentication !== 'integrated') {
      this.noteFailure(keys);
      return { ok: false, reason: 'credentials', message: 'invalid user name or password' };
    }
    const privileges = parseGlobalPrivileges(u.privileges || 'none');
    const isAdmin = privileges.includes('admin');
    if (this.isSafeMode() && !isAdmin) return { ok: false, reason: 'safeMode', message: 'the archive is in safe mode: only administrators may log in' };
    const channels = parseLoginPrivileges(u.login_privileges || 'none');
    if (!(isAdmin || privileges.includes('login')) || !channels.includes(p.channel)) {
      return { ok: false, reason: 'privilege', message: `user ${u.name} may not log in via ${p.channel}` };
    }
    if (u.mfa_state === 'active' && u.mfa_secret) {
      // The password was right; the second factor decides. IMAP clients cannot ask for a code,
      // so users with MFA read over IMAP only when the channel allows it without (not by default).
      if (!p.totp) return { ok: false, reason: 'mfaRequired', message: 'enter the code from your authenticator app' };
      const step = await matchTotpCode(u.mfa_secret, p.totp, this.lastTotpStep.get(u.name.toLowerCase()));
      if (step === null) { this.noteFailure(keys); return { ok: false, reason: 'credentials', message: 'invalid code' }; }
      this.lastTotpStep.set(u.name.toLowerCase(), step);
    }
    for (const k of keys) this.failures.delete(k);
    this.sweepSessions();
    const token = randomBytes(24).toString('base64url');
    this.sessions.set(token, { token, userName: u.name, isAdmin, privileges, channel: p.channel, createdAt: Date.now(), lastUsed: Date.now() });
    return { ok: true, session: token, userName: u.name, fullName: u.full_name, isAdmin, privileges, emailAddress: (JSON.parse(u.email_addresses) as string[])[0] ?? null };
  }

  session(token: string): UserSession {
    const s = this.sessions.get(token);
    if (!s || Date.now() - s.lastUsed > SESSION_IDLE_MS) {
      if (s) this.sessions.delete(token);
      throw new InstanceError('SESSION_INVALID', 'session is not valid (logged out, expired or instance restarted)');
    }
    s.lastUsed = Date.now();
    return s;
  }

  /** Sessions unused for a day are gone (CAS sessions end sooner; this only bounds what is kept). */
  private sweepSessions(): void {
    if (this.sessions.size < 1000) return;
    const now = Date.now();
    for (const [k, s] of this.sessions) if (now - s.lastUsed > SESSION_IDLE_MS) this.sessions.delete(k);
  }

  /** Ends every session of a user (password changed, user deleted). */
  endSessionsOf(userName: string, except?: string): void {
    for (const [k, s] of this.sessions) if (s.userName.toLowerCase() === userName.toLowerCase() && k !== except) this.sessions.delete(k);
  }

  async changePassword(token: string, oldPassword: string, newPassword: string, policy: { minLength: number }): Promise<void> {
    const s = this.session(token);
    const u = this.require(s.userName);
    if (!s.privileges.includes('changePassword') && !s.isAdmin) throw new InstanceError('NO_PERMISSION', 'you may not change your password (privilege changePassword)');
    if (u.authentication !== 'integrated') throw new InstanceError('INVALID_STATE', 'your password is managed by the directory service');
    if (!(await verifyPassword(oldPassword, u.password_hash))) throw new InstanceError('NO_PERMISSION', 'the current password is not right');
    if (newPassword.length < policy.minLength) throw new InstanceError('INVALID_ARGUMENT', `the new password needs at least ${policy.minLength} characters`);
    if (newPassword === oldPassword) throw new InstanceError('INVALID_ARGUMENT', 'the new password must differ from the current one');
    await this.setPassword(u.name, newPassword);
    this.endSessionsOf(u.name, token);
  }

  mfaStatus(token: string): 'on' | 'off' { return this.require(this.session(token).userName).mfa_state === 'active' ? 'on' : 'off'; }

  /** Stores a TOTP secret the user has confirmed with a code (the CAS checked it). */
  mfaEnable(token: string, secret: string): void {
    if (!/^[A-Z2-7]{16,64}=*$/i.test(secret)) throw new InstanceError('INVALID_ARGUMENT', 'secret: expected a base32 TOTP secret');
    const s = this.session(token);
    this.db.prepare(`UPDATE users SET mfa_secret = ?, mfa_state = 'active' WHERE name = ?`).run(secret.toUpperCase(), s.userName);
  }

  mfaDisable(token: string, isRequired: boolean): void {
    const s = this.session(token);
    if (isRequired) throw new InstanceError('NO_PERMISSION', 'this archive requires MFA for every user');
    this.db.prepare(`UPDATE users SET mfa_secret = NULL, mfa_state = 'disabled' WHERE name = ?`).run(s.userName);
  }

  endSession(token: string): void { this.sessions.delete(token); }
}
