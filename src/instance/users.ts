/**
 * Users of an instance: privileges of the Function Reference (global, login channels, folder
 * privileges on top-level archives), integrated authentication with scrypt hashes, sessions.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Db } from './instance-db.js';
import { hashPassword, verifyPassword } from '../common/password.js';
import { GLOBAL_PRIVILEGES, LOGIN_CHANNELS, type AuthResult, type FolderPrivilege, type GlobalPrivilege, type LoginChannel } from './api.js';
import { InstanceError } from './errors.js';
import { matchTotpCode } from '../common/totp.js';

export interface UserRow {
  name: string; full_name: string; distinguished_name: string; authentication: string; password_hash: string | null;
  privileges: string; login_privileges: string; email_addresses: string; pop3_user_names: string; mfa_secret: string | null; mfa_state: string;
}

export interface UserSession {
  token: string; userName: string; isAdmin: boolean; privileges: GlobalPrivilege[]; channel: LoginChannel; createdAt: number; lastUsed: number;
  /** The instance requires MFA for web logins and this user has none yet: only enrolment is allowed. */
  mfaEnrolmentRequired?: boolean;
}

/** What the instance's settings say about logins (read on every login, so a change applies at once). */
export interface LoginPolicy {
  /** Web logins need TOTP MFA: a user without it is led into enrolment and can do nothing else first. */
  requireMfaForWeb(): boolean;
}

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

/** "Trust this device": the second factor is skipped this long on a browser that holds the token. */
export const TRUSTED_DEVICE_TTL_MS = 14 * 86_400_000;
/** Trusted browsers kept per user; the oldest goes when a new one is added (a user has a few devices, not hundreds). */
const MAX_TRUSTED_DEVICES_PER_USER = 20;
/** Random bytes of a device token: 256 bits, so a plain SHA-256 of it is a safe thing to store. */
const DEVICE_TOKEN_BYTES = 32;

/**
 * Trusted devices live next to users in the instance database. Only a hash of each token is kept;
 * `mfa_fingerprint` ties a token to the TOTP secret it was earned with, so a token never outlives
 * the enrolment (re-enrolled, removed, user deleted and re-created) even if a revocation were missed.
 */
const TRUSTED_DEVICES_SCHEMA = `
CREATE TABLE IF NOT EXISTS trusted_devices (
  token_hash BLOB PRIMARY KEY,
  user_name TEXT NOT NULL COLLATE NOCASE,
  mfa_fingerprint BLOB NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS trusted_devices_user ON trusted_devices (user_name, created_at);
`;

const sha256 = (s: string): Buffer => createHash('sha256').update(s).digest();

export class Users {
  private sessions = new Map<string, UserSession>();
  private failures = new Map<string, { count: number; last: number }>();
  /** Last accepted TOTP time step per user: a code works once (RFC 6238 §5.2). */
  private lastTotpStep = new Map<string, number>();

  constructor(private db: Db, private isSafeMode: () => boolean, private policy: LoginPolicy = { requireMfaForWeb: () => false }) {
    db.exec(TRUSTED_DEVICES_SCHEMA);
  }

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
    const hash = await hashPassword(password);
    this.db.transaction(() => {
      this.db.prepare('UPDATE users SET password_hash = ? WHERE name = ?').run(hash, name);
      // A new password (by the user or an administrator) ends every "trusted device" of the user.
      this.forgetTrustedDevices(name);
    })();
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

  /**
   * Password, privileges, then the second factor. On the web channel a valid, unexpired device
   * token of the same user stands in for the TOTP code; `trustDevice` with a right code issues one.
   */
  async authenticate(p: { user: string; password: string; channel: LoginChannel; remote?: string; totp?: string; deviceToken?: string; trustDevice?: boolean }): Promise<AuthResult & { userName?: string }> {
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
    let deviceToken: { token: string; expiresAt: number } | undefined;
    let mfaEnrolmentRequired = false;
    const hasMfa = u.mfa_state === 'active' && !!u.mfa_secret;
    if (hasMfa) {
      // The password was right; the second factor decides. IMAP clients cannot ask for a code,
      // so users with MFA read over IMAP only when the channel allows it without (not by default).
      const trusted = p.channel === 'web' && typeof p.deviceToken === 'string' && this.isTrustedDevice(u.name, u.mfa_secret!, p.deviceToken);
      if (!trusted) {
        if (!p.totp) return { ok: false, reason: 'mfaRequired', message: 'enter the code from your authenticator app' };
        const step = await matchTotpCode(u.mfa_secret!, p.totp, this.lastTotpStep.get(u.name.toLowerCase()));
        if (step === null) { this.noteFailure(keys); return { ok: false, reason: 'credentials', message: 'invalid code' }; }
        this.lastTotpStep.set(u.name.toLowerCase(), step);
        if (p.trustDevice === true && p.channel === 'web') deviceToken = this.trustDevice(u.name, u.mfa_secret!);
      }
    } else if (p.channel === 'web' && this.policy.requireMfaForWeb()) {
      mfaEnrolmentRequired = true;
    }
    for (const k of keys) this.failures.delete(k);
    this.sweepSessions();
    const token = randomBytes(24).toString('base64url');
    this.sessions.set(token, { token, userName: u.name, isAdmin, privileges, channel: p.channel, createdAt: Date.now(), lastUsed: Date.now(), ...(mfaEnrolmentRequired ? { mfaEnrolmentRequired } : {}) });
    return {
      ok: true, session: token, userName: u.name, fullName: u.full_name, isAdmin, privileges, emailAddress: (JSON.parse(u.email_addresses) as string[])[0] ?? null,
      ...(deviceToken ? { deviceToken } : {}), ...(mfaEnrolmentRequired ? { mfaEnrolmentRequired } : {}),
    };
  }

  /** Issues a device token (returned once, stored only as a hash) for a user who just passed TOTP. */
  private trustDevice(userName: string, mfaSecret: string): { token: string; expiresAt: number } {
    const token = randomBytes(DEVICE_TOKEN_BYTES).toString('base64url');
    const now = Date.now();
    const expiresAt = now + TRUSTED_DEVICE_TTL_MS;
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM trusted_devices WHERE expires_at <= ?').run(now);
      this.db.prepare('INSERT INTO trusted_devices (token_hash, user_name, mfa_fingerprint, created_at, expires_at) VALUES (?, ?, ?, ?, ?)')
        .run(sha256(token), userName, sha256(mfaSecret), now, expiresAt);
      this.db.prepare(`DELETE FROM trusted_devices WHERE user_name = ? AND token_hash NOT IN
        (SELECT token_hash FROM trusted_devices WHERE user_name = ? ORDER BY created_at DESC LIMIT ${MAX_TRUSTED_DEVICES_PER_USER})`).run(userName, userName);
    })();
    return { token, expiresAt };
  }

  /** A token of this very user, earned with the TOTP secret the user has now, and not expired. */
  private isTrustedDevice(userName: string, mfaSecret: string, token: string): boolean {
    if (token.length < 20 || token.length > 200) return false;
    const row = this.db.prepare('SELECT user_name, mfa_fingerprint, expires_at FROM trusted_devices WHERE token_hash = ?').get(sha256(token)) as
      { user_name: string; mfa_fingerprint: Buffer; expires_at: number } | undefined;
    if (!row) return false;
    if (row.expires_at <= Date.now()) { this.db.prepare('DELETE FROM trusted_devices WHERE token_hash = ?').run(sha256(token)); return false; }
    return row.user_name.toLowerCase() === userName.toLowerCase() && row.mfa_fingerprint.equals(sha256(mfaSecret));
  }

  /** Revokes every trusted device of a user (password changed, MFA removed or enrolled again). */
  forgetTrustedDevices(userName: string): number {
    return this.db.prepare('DELETE FROM trusted_devices WHERE user_name = ?').run(userName).changes;
  }

  /** Unexpired trusted devices of a user (for tests and the account page). */
  trustedDeviceCount(userName: string): number {
    return this.db.prepare('SELECT count(*) FROM trusted_devices WHERE user_name = ? AND expires_at > ?').pluck().get(userName, Date.now()) as number;
  }

  /**
   * The session of a token. A session still owing its MFA enrolment is refused for everything but
   * the calls that enrol (`duringEnrolment`), so the archive stays closed until enrolment is done.
   */
  session(token: string, opts: { duringEnrolment?: boolean } = {}): UserSession {
    const s = this.sessions.get(token);
    if (!s || Date.now() - s.lastUsed > SESSION_IDLE_MS) {
      if (s) this.sessions.delete(token);
      throw new InstanceError('SESSION_INVALID', 'session is not valid (logged out, expired or instance restarted)');
    }
    if (s.mfaEnrolmentRequired && !opts.duringEnrolment) throw new InstanceError('NO_PERMISSION', 'this archive requires two-factor authentication: set it up first');
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

  mfaStatus(token: string): 'on' | 'off' { return this.require(this.session(token, { duringEnrolment: true }).userName).mfa_state === 'active' ? 'on' : 'off'; }

  /** Whether this session may only enrol MFA (the instance requires it and the user has none yet). */
  mustEnrolMfa(token: string): boolean { return this.session(token, { duringEnrolment: true }).mfaEnrolmentRequired === true; }

  /**
   * Stores a TOTP secret the user has confirmed with a code (the CAS checked it). Devices trusted
   * with an earlier secret are forgotten; sessions waiting for enrolment are opened.
   */
  mfaEnable(token: string, secret: string): void {
    if (!/^[A-Z2-7]{16,64}=*$/i.test(secret)) throw new InstanceError('INVALID_ARGUMENT', 'secret: expected a base32 TOTP secret');
    const s = this.session(token, { duringEnrolment: true });
    this.db.transaction(() => {
      this.db.prepare(`UPDATE users SET mfa_secret = ?, mfa_state = 'active' WHERE name = ?`).run(secret.toUpperCase(), s.userName);
      this.forgetTrustedDevices(s.userName);
    })();
    for (const other of this.sessions.values()) if (other.userName.toLowerCase() === s.userName.toLowerCase()) delete other.mfaEnrolmentRequired;
  }

  mfaDisable(token: string, isRequired: boolean): void {
    const s = this.session(token);
    if (isRequired) throw new InstanceError('NO_PERMISSION', 'this archive requires MFA for every user');
    this.db.transaction(() => {
      this.db.prepare(`UPDATE users SET mfa_secret = NULL, mfa_state = 'disabled' WHERE name = ?`).run(s.userName);
      this.forgetTrustedDevices(s.userName);
    })();
  }

  endSession(token: string): void { this.sessions.delete(token); }
}
