/**
 * The instance's typed interface: the only way other roles (CAS, Management Server, the import
 * command) reach archive data. Every method is an RPC call to the instance process, carried
 * through its Instance Host on 8472. Nothing here changes mail except import/ingest and the
 * management functions; the CAS gets a narrower view (`ArchiveReader`) without them.
 */

export type LoginChannel = 'web' | 'imap' | 'outlook' | 'windows' | 'windowsCmd';
export const LOGIN_CHANNELS: readonly LoginChannel[] = ['windows', 'web', 'outlook', 'windowsCmd', 'imap'];

export type GlobalPrivilege = 'admin' | 'login' | 'changePassword' | 'archive' | 'modifyArchiveProfiles' | 'export' | 'modifyExportProfiles' | 'delete';
export const GLOBAL_PRIVILEGES: readonly GlobalPrivilege[] = ['admin', 'login', 'changePassword', 'archive', 'modifyArchiveProfiles', 'export', 'modifyExportProfiles', 'delete'];
export type FolderPrivilege = 'read' | 'write' | 'delete';

/** Opaque token for an authenticated user, issued by `authenticate`; every read names it. */
export type SessionToken = string;

export type AuthResult =
  | {
    ok: true; session: SessionToken; userName: string; fullName: string; isAdmin: boolean; privileges: GlobalPrivilege[]; emailAddress: string | null;
    /** Issued when `trustDevice` came with a right TOTP code: the browser keeps it and sends it as `deviceToken` next time. */
    deviceToken?: { token: string; expiresAt: number };
    /** The instance requires MFA for web logins and the user has none: the session may only enrol (`mfaEnable`). */
    mfaEnrolmentRequired?: boolean;
  }
  | { ok: false; reason: 'credentials' | 'privilege' | 'safeMode' | 'mfaRequired'; message: string };

/** What `authenticate` takes. `deviceToken`/`trustDevice` are for the web channel ("trust this device for 14 days"). */
export interface AuthRequest {
  user: string; password: string; channel: LoginChannel; remote?: string; userAgent?: string; totp?: string;
  /** A token from an earlier `trustDevice` login: a valid, unexpired one of the same user stands in for the TOTP code. */
  deviceToken?: string;
  /** With a right TOTP code: issue a device token (valid 14 days). */
  trustDevice?: boolean;
}

export interface FolderInfo {
  /** Stable numeric id inside the instance. */
  id: number;
  /** Full archive path, `/`-delimited: `jane/Exchange jane/Inbox`. The first segment is the user archive. */
  path: string;
  /** The user archive (top-level folder) this folder belongs to. */
  archive: string;
  uidValidity: number;
  uidNext: number;
  highestModseq: number;
  messages: number;
  hasChildren: boolean;
}

export interface FolderStatus {
  id: number;
  path: string;
  uidValidity: number;
  uidNext: number;
  highestModseq: number;
  messages: number;
  /** Bytes of all messages (RFC822.SIZE sum). */
  size: number;
}

/** Metadata of one message in a folder, pre-serialised at archive time. */
/**
 * Pre-serialised IMAP text (ENVELOPE, BODYSTRUCTURE, BODY): a string where the instance reads it,
 * its UTF-8 bytes where a client of the interface receives it (see meta-wire.ts).
 */
export type ImapText = string | Buffer;

export interface MessageMeta {
  uid: number;
  modseq: number;
  flags: string[];
  /** INTERNALDATE, ms since epoch. */
  internalDate: number;
  size: number;
  envelope?: ImapText;
  bodyStructure?: ImapText;
  body?: ImapText;
  /** MIME tree with byte offsets, JSON, for BODY[section] resolution. */
  mime?: unknown;
  /** Decoded header fields for display (web). */
  subject?: string;
  from?: string;
  to?: string;
  date?: number | null;
  hasAttachments?: boolean;
}

export type MetaField = 'envelope' | 'bodyStructure' | 'body' | 'mime' | 'summary';

/** IMAP-shaped search criteria, evaluated with RFC 3501 semantics (case-insensitive substring). */
export type SearchCriterion =
  | { key: 'all' }
  | { key: 'not'; of: SearchCriterion }
  | { key: 'or'; a: SearchCriterion; b: SearchCriterion }
  | { key: 'and'; of: SearchCriterion[] }
  | { key: 'uid'; ranges: [number, number][] }
  | { key: 'flag'; flag: string; set: boolean }
  | { key: 'text' | 'body' | 'subject' | 'from' | 'to' | 'cc' | 'bcc'; value: string }
  | { key: 'header'; name: string; value: string }
  | { key: 'larger' | 'smaller'; size: number }
  /** Dates as yyyy-mm-dd days; `internal` compares INTERNALDATE, `sent` the Date: header (RFC 3501 disregards time and zone). */
  | { key: 'before' | 'on' | 'since'; date: string; which: 'internal' | 'sent' }
  | { key: 'modseq'; modseq: number };

/** Archive-wide search as Web Access offers it. */
export interface ArchiveQuery {
  /** Free text: words, "phrases", `*` / `?` wildcards. */
  text?: string;
  from?: string; to?: string; cc?: string; bcc?: string; subject?: string; body?: string;
  attachmentNames?: string; attachmentContents?: string;
  /** yyyy-mm-dd, inclusive. */
  dateFrom?: string; dateTo?: string;
  minSize?: number; maxSize?: number;
  hasAttachments?: boolean;
  folderId?: number; includeSubfolders?: boolean;
  /** Keyset paging: the last (date, id) pair of the previous page. */
  after?: { date: number; key: string } | null;
  limit?: number;
}

export interface ArchiveHit {
  key: string;
  folderId: number;
  folderPath: string;
  uid: number;
  date: number;
  from: string;
  subject: string;
  size: number;
  hasAttachments: boolean;
}

/** Message-list orders of a folder (Web Access), each kept in an index of every store. */
export type ListSort = 'date' | 'from' | 'subject' | 'size';

/** One page of a folder in `sort` order; `after` is the `next` of the previous page. */
export interface FolderListQuery {
  folderId: number;
  sort: ListSort;
  /** false: A to Z, smallest, oldest first; true: Z to A, largest, newest first. */
  descending: boolean;
  after?: { value: string | number; key: string } | null;
  limit?: number;
}

export interface FolderListPage { rows: ArchiveHit[]; total: number; next: { value: string | number; key: string } | null }

export interface ChangeEvent {
  kind: 'exists' | 'expunge';
  folderId: number;
  uid: number;
  modseq: number;
}

export type ReadBatchEntry = { size: number; data: Buffer } | { missing: true };
export const READ_BATCH_MAX_ITEMS = 256;
export const READ_BATCH_MAX_BYTES = 4 * 1024 * 1024;

/** Read-side methods the CAS may call; all take the session issued by `authenticate`. */
export interface ArchiveReader {
  /** With MFA on, a right password answers `mfaRequired` until `totp` carries a valid code (or `deviceToken` a trusted device). */
  authenticate(p: AuthRequest): Promise<AuthResult>;
  logout(p: { session: SessionToken }): Promise<void>;
  listFolders(p: { session: SessionToken }): Promise<FolderInfo[]>;
  folderStatus(p: { session: SessionToken; folderId: number }): Promise<FolderStatus>;
  /** UIDs and MODSEQs of a folder in ascending UID order, for sequence-number maps. */
  folderUids(p: { session: SessionToken; folderId: number }): Promise<{ uids: number[]; modseqs: number[]; highestModseq: number }>;
  fetchMeta(p: { session: SessionToken; folderId: number; uids: number[]; fields: MetaField[] }): Promise<MessageMeta[]>;
  /** Raw message bytes (CRLF form), or a byte range of them. Streams. */
  readMessage(p: { session: SessionToken; folderId: number; uid: number; start?: number; end?: number }): Promise<{ size: number; stream: AsyncIterable<Buffer> }>;
  /**
   * Several small byte ranges in one round trip (FETCH of many small messages): at most
   * READ_BATCH_MAX_ITEMS ranges and READ_BATCH_MAX_BYTES bytes. One entry per range, in order:
   * the message's size and its bytes, or `missing` when the folder has no such UID.
   */
  readMessages(p: { session: SessionToken; folderId: number; ranges: { uid: number; start?: number; end?: number }[] }): Promise<ReadBatchEntry[]>;
  search(p: { session: SessionToken; folderId: number; criteria: SearchCriterion }): Promise<number[]>;
  searchArchive(p: { session: SessionToken; query: ArchiveQuery }): Promise<{ hits: ArchiveHit[]; total: number; next: { date: number; key: string } | null }>;
}

/** Result of `importMessages` for one batch. */
export interface IngestResult {
  imported: number;
  duplicates: number;
  broken: number;
  errors: { name: string; message: string }[];
}

/** One message to archive, as the import command sends it. */
export interface IngestItem {
  /** Where it came from, for logs and errors (file name, mbox offset). */
  name: string;
  /** Folder path below the user archive, `/`-delimited (may be ''). */
  folder: string;
  /** The raw message, base64 in JSON transport. */
  raw: Buffer;
  flags?: string[];
  internalDate?: number;
}

/** Names of RPC methods; kept in one place so both ends agree. */
export const RPC = {
  authenticate: 'authenticate',
  logout: 'logout',
  listFolders: 'listFolders',
  folderStatus: 'folderStatus',
  folderUids: 'folderUids',
  fetchMeta: 'fetchMeta',
  readMessage: 'readMessage',
  readMessages: 'readMessages',
  search: 'search',
  searchArchive: 'searchArchive',
  listFolderSorted: 'listFolderSorted',
  subscribe: 'subscribe',
  ingest: 'ingest',
  management: 'management',
  status: 'status',
  freeze: 'freeze',
  connectionLog: 'connectionLog',
  audit: 'audit',
  changePassword: 'changePassword',
  mfaStatus: 'mfaStatus',
  mfaEnable: 'mfaEnable',
  mfaDisable: 'mfaDisable',
  smtpForRestore: 'smtpForRestore',
  thaw: 'thaw',
} as const;

/**
 * Audit actions, one place of truth for the CAS (which reports them) and the instance (which
 * decides what it writes). Successful user activities use SPE-style names and are written only
 * when the instance's compliance configuration lists them in `logSuccessfulUserActivities`;
 * `LoginFailed` is always written (security: failed logins are evidence of an attack).
 */
export const USER_ACTIVITIES = [
  /** A successful login (Web Access; the instance also writes it for every channel it authenticates). */
  'Login',
  /** Logout from Web Access. */
  'Logout',
  /** A message opened for reading (Web Access message view). */
  'MessageRetrieveContent',
  /** A whole message downloaded as `.eml`. */
  'MessageDownload',
  /** One attachment downloaded. */
  'AttachmentDownload',
  /** Messages exported (ZIP of `.eml` or MBOX). */
  'MessageExport',
  /** Messages restored (sent) to the user's mailbox. */
  'MessageRestore',
] as const;
export type UserActivity = typeof USER_ACTIVITIES[number];

/** Written whatever the compliance configuration says. */
export const ALWAYS_AUDITED_ACTIONS = ['LoginFailed'] as const;
export type AuditAction = UserActivity | typeof ALWAYS_AUDITED_ACTIONS[number];
export const AUDIT_ACTIONS: readonly AuditAction[] = [...USER_ACTIVITIES, ...ALWAYS_AUDITED_ACTIONS];

/**
 * The compliance configuration (Get/SetComplianceConfiguration), as the Management Server keeps it
 * and pushes it to the instance. `logSuccessfulUserActivities` may also hold SPE names Coffer does
 * not produce (`UserAdd`, `FileGroupAttach`, …): scripts written for SPE set them; they are kept and
 * have no effect.
 */
export interface ComplianceConfiguration {
  adminEmailPreviewEnabled: boolean;
  legalHoldEnabled: boolean;
  logSuccessfulUserActivities: string[];
}

/**
 * A new instance, or one whose operator never touched compliance, audits every user activity
 * Coffer has: who logged in and out, and every message viewed, downloaded, exported or restored.
 */
export const DEFAULT_COMPLIANCE_CONFIGURATION: Readonly<ComplianceConfiguration> = Object.freeze({
  adminEmailPreviewEnabled: false,
  legalHoldEnabled: false,
  logSuccessfulUserActivities: [...USER_ACTIVITIES],
});
