/**
 * Maps the instance's archive folders to IMAP mailbox names, and back.
 *
 * - The user's own archive (`jane/…`) appears at the top level with the `jane/` prefix removed; its
 *   top-level `Inbox` folder (any case) is `INBOX`, which always exists (empty if there is none).
 * - Every other archive the user may read appears under `Other Archives/<archive>/…`; the archive
 *   root carries `\Archive` (RFC 6154), `Other Archives` itself is a pure parent (`\Noselect`).
 * - Names here are Unicode; modified UTF-7 is applied only on the wire.
 */
import type { FolderInfo } from '../../instance/api.js';

export const HIERARCHY_DELIMITER = '/';
export const OTHER_ARCHIVES = 'Other Archives';
export const INBOX = 'INBOX';

/** NAMESPACE (RFC 2342): personal at the root, other users' archives under `Other Archives/`. */
export const NAMESPACE_RESPONSE = `NAMESPACE (("" "${HIERARCHY_DELIMITER}")) (("${OTHER_ARCHIVES}${HIERARCHY_DELIMITER}" "${HIERARCHY_DELIMITER}")) NIL`;

export interface MailboxEntry {
  /** Unicode mailbox name, `/`-delimited. */
  readonly name: string;
  /** The archive folder, or null for pure parents and an INBOX with no folder behind it. */
  readonly folder: FolderInfo | null;
  readonly isSelectable: boolean;
  readonly isArchiveRoot: boolean;
  hasChildren: boolean;
}

/** A stable UIDVALIDITY for the empty INBOX of a user who has no Inbox folder. */
export const EMPTY_INBOX_UID_VALIDITY = 1;

/** INBOX is case-insensitive, also as the first component of its children (RFC 3501 §5.1). */
export function normaliseMailboxName(name: string): string {
  const end = name.indexOf(HIERARCHY_DELIMITER);
  const first = end === -1 ? name : name.slice(0, end);
  return first.toUpperCase() === INBOX ? INBOX + name.slice(first.length) : name;
}

export class MailboxMap {
  /** Entries in display order (INBOX first, then by name). */
  readonly entries: readonly MailboxEntry[];
  private readonly byName: ReadonlyMap<string, MailboxEntry>;
  private readonly byFolderId: ReadonlyMap<number, MailboxEntry>;

  constructor(folders: readonly FolderInfo[], ownArchive: string) {
    const own = ownArchive.toLowerCase();
    const map = new Map<string, MailboxEntry>();
    const add = (name: string, folder: FolderInfo | null, isArchiveRoot: boolean) => {
      const existing = map.get(name);
      // A real folder replaces a pure parent; the first real folder of a name wins.
      if (existing !== undefined && (existing.folder !== null || folder === null)) return;
      map.set(name, { name, folder, isSelectable: folder !== null || name === INBOX, isArchiveRoot: isArchiveRoot || (existing?.isArchiveRoot ?? false), hasChildren: false });
    };
    const ensureParents = (name: string) => {
      let cut = name.lastIndexOf(HIERARCHY_DELIMITER);
      while (cut > 0) {
        const parent = name.slice(0, cut);
        if (!map.has(parent)) add(parent, null, false);
        cut = parent.lastIndexOf(HIERARCHY_DELIMITER);
      }
    };
    add(INBOX, null, false);
    const sorted = [...folders].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    for (const folder of sorted) {
      const slash = folder.path.indexOf(HIERARCHY_DELIMITER);
      const archive = slash === -1 ? folder.path : folder.path.slice(0, slash);
      const rest = slash === -1 ? '' : folder.path.slice(slash + 1);
      let name: string;
      if (archive.toLowerCase() === own) {
        if (rest === '') continue; // the own archive root is the namespace itself
        name = normaliseMailboxName(rest);
      } else {
        name = `${OTHER_ARCHIVES}${HIERARCHY_DELIMITER}${folder.path}`;
      }
      if (name.split(HIERARCHY_DELIMITER).some((segment) => segment === '')) continue; // unaddressable
      add(name, folder, archive.toLowerCase() !== own && rest === '');
      ensureParents(name);
    }
    for (const entry of map.values()) {
      const cut = entry.name.lastIndexOf(HIERARCHY_DELIMITER);
      if (cut > 0) {
        const parent = map.get(entry.name.slice(0, cut));
        if (parent !== undefined) parent.hasChildren = true;
      }
    }
    const entries = [...map.values()].sort((a, b) => (a.name === INBOX ? -1 : b.name === INBOX ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    this.entries = entries;
    this.byName = map;
    const byFolderId = new Map<number, MailboxEntry>();
    for (const entry of entries) if (entry.folder !== null) byFolderId.set(entry.folder.id, entry);
    this.byFolderId = byFolderId;
  }

  /** Finds a mailbox by the name a client sent (already decoded from modified UTF-7). */
  find(name: string): MailboxEntry | null {
    return this.byName.get(normaliseMailboxName(name)) ?? null;
  }

  findByFolderId(folderId: number): MailboxEntry | null {
    return this.byFolderId.get(folderId) ?? null;
  }

  /** LIST attributes (RFC 3501 §7.2.2, RFC 3348 CHILDREN, RFC 6154 SPECIAL-USE). */
  static attributes(entry: MailboxEntry): string[] {
    const attributes: string[] = [];
    if (!entry.isSelectable) attributes.push('\\Noselect');
    attributes.push(entry.hasChildren ? '\\HasChildren' : '\\HasNoChildren');
    if (entry.isArchiveRoot) attributes.push('\\Archive');
    return attributes;
  }
}
