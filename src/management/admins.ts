/**
 * System administrators (Management Console → Security → System Administrators; "Your MFA
 * Settings"): create, configure, delete, set password, MFA (disabled → pending → active after the
 * first valid code; reset; disable) and the separate Management API password.
 *
 * Basic auth of the Management API: while MFA is enabled (pending or active) only the API
 * password is accepted, as SPE documents ("When MFA has been enabled for your account, you cannot
 * use your regular password to use the Management API"); with MFA disabled the regular password
 * works, and so does an API password generated earlier (scripts keep working after MFA is turned
 * off). User names compare case-insensitively and may not contain ':' (Basic auth cannot carry it).
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { LRUCache } from 'lru-cache';
import { ManagementError } from './errors.js';
import type { ManagementDb } from './db/management-db.js';
import { writeFileAtomic } from './db/atomic-file.js';
import type { ManagementDatabase, MfaStatus, SystemAdministratorRecord } from './db/schema.js';
import { describePasswordProblem, generatePassword, hashPassword, spendVerificationTime, verifyPassword } from './security/password-hash.js';
import { createTotpSecret, matchTotpCode, totpUri } from '../common/totp.js';

export const INITIAL_ADMIN_USER_NAME = 'admin';
export const INITIAL_ADMIN_PASSWORD_ENV = 'COFFER_ADMIN_PASSWORD';
export const INITIAL_ADMIN_PASSWORD_FILE = join('config', 'admin-password.txt');
const MAX_USER_NAME_CHARS = 64;
/** A verified API credential is remembered this long, so polling scripts do not pay scrypt per request. */
const VERIFIED_CACHE_TTL_MS = 60_000;

/** What callers may see of an administrator: never a hash or a secret. */
export interface SystemAdministratorView {
  userName: string;
  fullName: string;
  emailAddress: string;
  mfaStatus: MfaStatus;
  hasApiPassword: boolean;
}

/** The identity an authenticated request carries. */
export interface AuthenticatedAdmin {
  readonly userName: string;
}

export interface AdministratorProfile {
  userName: string;
  fullName?: string | null;
  emailAddress?: string | null;
}

export interface MfaEnrolment {
  secret: string;
  otpauthUri: string;
}

export type ConsoleLoginStep = { step: 'done'; admin: AuthenticatedAdmin } | { step: 'code' | 'enrol'; admin: AuthenticatedAdmin };

export function describeUserNameProblem(userName: string): string | null {
  if (userName.trim() === '') return 'must not be empty';
  if (userName !== userName.trim()) return 'must not start or end with white space';
  if (userName.length > MAX_USER_NAME_CHARS) return `must be at most ${MAX_USER_NAME_CHARS} characters long`;
  if (userName.includes(':')) return "must not contain ':' (HTTP Basic authentication of the Management API cannot carry it)";
  if (/[\u0000-\u001f\u007f]/.test(userName)) return 'must not contain control characters';
  return null;
}

/** Loose on purpose (RFC 5321 allows much); catches a name typed into the address field. */
function assertEmailAddress(emailAddress: string | null | undefined): void {
  if (emailAddress && !/^[^\s@]+@[^\s@]+$/.test(emailAddress)) {
    throw new ManagementError('INVALID_ARGUMENT', `The e-mail address '${emailAddress.slice(0, 80)}' is not valid.`);
  }
}

function toView(record: Readonly<SystemAdministratorRecord>): SystemAdministratorView {
  return {
    userName: record.userName,
    fullName: record.fullName,
    emailAddress: record.emailAddress,
    mfaStatus: record.mfa.status,
    hasApiPassword: record.apiPasswordHash !== null,
  };
}

function findIn<T extends { userName: string }>(list: readonly T[], userName: string): T | undefined {
  const key = userName.toLowerCase();
  return list.find((admin) => admin.userName.toLowerCase() === key);
}

function mustFind(draft: ManagementDatabase, userName: string): SystemAdministratorRecord {
  const record = findIn(draft.systemAdministrators, userName);
  if (!record) throw new ManagementError('NOT_FOUND', `System administrator '${userName}' does not exist.`);
  return record;
}

function assertPassword(password: string, what = 'The password'): void {
  const problem = describePasswordProblem(password);
  if (problem) throw new ManagementError('INVALID_ARGUMENT', `${what} ${problem}.`);
}

export class AdminService {
  readonly #verified = new LRUCache<string, AuthenticatedAdmin>({ max: 1000, ttl: VERIFIED_CACHE_TTL_MS });
  /** Last accepted TOTP time step per administrator (in memory: a restart forgets, codes live 30 s). */
  readonly #lastTimeStep = new Map<string, number>();

  constructor(private readonly db: ManagementDb) {}

  list(): SystemAdministratorView[] {
    return this.db.read().systemAdministrators.map(toView);
  }

  get(userName: string): SystemAdministratorView | null {
    const record = findIn(this.db.read().systemAdministrators, userName);
    return record ? toView(record) : null;
  }

  async create(profile: AdministratorProfile, password: string): Promise<SystemAdministratorView> {
    const problem = describeUserNameProblem(profile.userName);
    if (problem) throw new ManagementError('INVALID_ARGUMENT', `The user name ${problem}.`);
    assertEmailAddress(profile.emailAddress);
    assertPassword(password);
    const passwordHash = await hashPassword(password);
    return this.db.update((draft) => {
      if (findIn(draft.systemAdministrators, profile.userName)) {
        throw new ManagementError('ALREADY_EXISTS', `System administrator '${profile.userName}' already exists.`);
      }
      const record: SystemAdministratorRecord = {
        userName: profile.userName,
        fullName: profile.fullName ?? '',
        emailAddress: profile.emailAddress ?? '',
        passwordHash,
        apiPasswordHash: null,
        mfa: { status: 'disabled', secret: null },
      };
      draft.systemAdministrators.push(record);
      return toView(record);
    });
  }

  /** The user name cannot be changed; fields left out (undefined) stay as they are. */
  async configure(profile: AdministratorProfile): Promise<SystemAdministratorView> {
    assertEmailAddress(profile.emailAddress);
    return this.db.update((draft) => {
      const record = mustFind(draft, profile.userName);
      if (profile.fullName !== undefined) record.fullName = profile.fullName ?? '';
      if (profile.emailAddress !== undefined) record.emailAddress = profile.emailAddress ?? '';
      return toView(record);
    });
  }

  /** Refuses to delete the last administrator: nobody could log on again. */
  async delete(userName: string): Promise<void> {
    await this.db.update((draft) => {
      const record = mustFind(draft, userName);
      if (draft.systemAdministrators.length === 1) {
        throw new ManagementError('CONFLICT', `System administrator '${record.userName}' is the last one and cannot be deleted.`);
      }
      draft.systemAdministrators = draft.systemAdministrators.filter((admin) => admin !== record);
      if (draft.systemSmtp) {
        draft.systemSmtp.recipientSystemAdministrator = draft.systemSmtp.recipientSystemAdministrator.filter(
          (name) => name.toLowerCase() !== record.userName.toLowerCase(),
        );
      }
    });
    this.#verified.clear();
  }

  async setPassword(userName: string, password: string): Promise<void> {
    assertPassword(password);
    const passwordHash = await hashPassword(password);
    await this.db.update((draft) => {
      mustFind(draft, userName).passwordHash = passwordHash;
    });
    this.#verified.clear();
  }

  /** disabled → pending with a new secret, to be confirmed by the first valid code. */
  async enableMfa(userName: string): Promise<MfaEnrolment> {
    return this.db.update((draft) => {
      const record = mustFind(draft, userName);
      if (record.mfa.status !== 'disabled') throw new ManagementError('MFA_STATE', `MFA is already ${record.mfa.status} for '${record.userName}'.`);
      return this.#newSecret(record);
    }).finally(() => this.#verified.clear());
  }

  /** active → pending with a new secret; codes of the old secret stop working. */
  async resetMfa(userName: string): Promise<MfaEnrolment> {
    return this.db.update((draft) => {
      const record = mustFind(draft, userName);
      if (record.mfa.status !== 'active') throw new ManagementError('MFA_STATE', `MFA of '${record.userName}' can be reset only once it is active (it is ${record.mfa.status}).`);
      return this.#newSecret(record);
    });
  }

  async disableMfa(userName: string): Promise<void> {
    await this.db.update((draft) => {
      mustFind(draft, userName).mfa = { status: 'disabled', secret: null };
    });
    this.#verified.clear();
  }

  /** The pending secret, for showing the QR code / token again during enrolment. */
  pendingEnrolment(userName: string): MfaEnrolment | null {
    const record = findIn(this.db.read().systemAdministrators, userName);
    if (!record || record.mfa.status !== 'pending' || record.mfa.secret === null) return null;
    return { secret: record.mfa.secret, otpauthUri: totpUri(record.userName, record.mfa.secret) };
  }

  /**
   * Checks a TOTP code; the first valid code of a pending enrolment makes MFA active.
   * false when the code is wrong, was already used, or MFA is disabled.
   */
  async verifyMfaCode(userName: string, code: string): Promise<boolean> {
    const record = findIn(this.db.read().systemAdministrators, userName);
    if (!record || record.mfa.status === 'disabled' || record.mfa.secret === null) return false;
    const secret = record.mfa.secret;
    const key = record.userName.toLowerCase();
    const timeStep = await matchTotpCode(secret, code, this.#lastTimeStep.get(key));
    if (timeStep === null) return false;
    this.#lastTimeStep.set(key, timeStep);
    if (record.mfa.status === 'pending') {
      await this.db.update((draft) => {
        const current = mustFind(draft, userName);
        // Only the secret the code was checked against may be activated (no race with a reset).
        if (current.mfa.status === 'pending' && current.mfa.secret === secret) current.mfa.status = 'active';
      });
    }
    return true;
  }

  /** A new API password, returned once and stored only as a hash. */
  async generateApiPassword(userName: string): Promise<string> {
    const password = generatePassword(24);
    const apiPasswordHash = await hashPassword(password);
    await this.db.update((draft) => {
      mustFind(draft, userName).apiPasswordHash = apiPasswordHash;
    });
    this.#verified.clear();
    return password;
  }

  /** First step of a console login: password, then what the MFA state asks for. */
  async authenticateConsole(userName: string, password: string): Promise<ConsoleLoginStep | null> {
    const record = findIn(this.db.read().systemAdministrators, userName);
    if (!record) {
      await spendVerificationTime(password);
      return null;
    }
    if (!(await verifyPassword(password, record.passwordHash))) return null;
    const admin = { userName: record.userName };
    if (record.mfa.status === 'active') return { step: 'code', admin };
    if (record.mfa.status === 'pending') return { step: 'enrol', admin };
    return { step: 'done', admin };
  }

  /** Basic auth of the Management API (see the module comment for the MFA rule). */
  async authenticateApi(userName: string, password: string): Promise<AuthenticatedAdmin | null> {
    const record = findIn(this.db.read().systemAdministrators, userName);
    if (!record) {
      await spendVerificationTime(password);
      return null;
    }
    const cacheKey = createHash('sha256')
      .update(JSON.stringify([record.userName, password, record.passwordHash, record.apiPasswordHash, record.mfa.status]))
      .digest('base64');
    const cached = this.#verified.get(cacheKey);
    if (cached) return cached;
    const isMfaEnabled = record.mfa.status !== 'disabled';
    const isApiPassword = record.apiPasswordHash !== null && (await verifyPassword(password, record.apiPasswordHash));
    const isAccepted = isApiPassword || (!isMfaEnabled && (await verifyPassword(password, record.passwordHash)));
    if (!isAccepted) {
      // Same cost whether or not an API password exists: timing must not reveal the MFA state.
      if (record.apiPasswordHash === null && isMfaEnabled) await spendVerificationTime(password);
      return null;
    }
    const admin = { userName: record.userName };
    this.#verified.set(cacheKey, admin);
    return admin;
  }

  /**
   * First start: when there is no administrator, creates `admin` with COFFER_ADMIN_PASSWORD, or
   * with a generated password written to `<data>/config/admin-password.txt` (mode 0600) and
   * returned so the caller can print it once.
   */
  async ensureInitialAdministrator(dataDir: string, env: NodeJS.ProcessEnv = process.env): Promise<{ userName: string; generatedPassword: string | null; passwordFile: string | null } | null> {
    if (this.db.read().systemAdministrators.length > 0) return null;
    const fromEnvironment = env[INITIAL_ADMIN_PASSWORD_ENV];
    if (fromEnvironment !== undefined && fromEnvironment !== '') {
      const problem = describePasswordProblem(fromEnvironment);
      if (problem) throw new ManagementError('INVALID_ARGUMENT', `${INITIAL_ADMIN_PASSWORD_ENV} ${problem}.`);
      await this.create({ userName: INITIAL_ADMIN_USER_NAME, fullName: 'Administrator' }, fromEnvironment);
      return { userName: INITIAL_ADMIN_USER_NAME, generatedPassword: null, passwordFile: null };
    }
    const password = generatePassword();
    const passwordFile = join(dataDir, INITIAL_ADMIN_PASSWORD_FILE);
    await writeFileAtomic(passwordFile, `${password}\n`, 0o600);
    await this.create({ userName: INITIAL_ADMIN_USER_NAME, fullName: 'Administrator' }, password);
    return { userName: INITIAL_ADMIN_USER_NAME, generatedPassword: password, passwordFile };
  }

  #newSecret(record: SystemAdministratorRecord): MfaEnrolment {
    this.#lastTimeStep.delete(record.userName.toLowerCase());
    const secret = createTotpSecret();
    record.mfa = { status: 'pending', secret };
    return { secret, otpauthUri: totpUri(record.userName, secret) };
  }
}
