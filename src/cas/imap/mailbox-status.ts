/**
 * STATUS data items (RFC 3501 §6.3.10, RFC 7162 HIGHESTMODSEQ, RFC 8438 SIZE, RFC 9051 DELETED)
 * for one mailbox, shared by STATUS and LIST-STATUS (RFC 5819).
 */
import { astring, encodeMutf7, type StatusItem, type WireChunk } from './protocol/index.js';
import type { MailboxEntry } from './mailbox-map.js';
import { EMPTY_INBOX_UID_VALIDITY } from './mailbox-map.js';
import type { Session } from './session.js';

/** The untagged `STATUS name (items)` response as wire chunks (the name may need a literal). */
export async function statusResponse(session: Session, entry: MailboxEntry, items: readonly StatusItem[]): Promise<WireChunk[]> {
  const login = session.requireLogin();
  const folder = entry.folder;
  const values = new Map<StatusItem, number>();
  if (folder === null) {
    for (const item of items) values.set(item, item === 'UIDVALIDITY' ? EMPTY_INBOX_UID_VALIDITY : item === 'UIDNEXT' ? 1 : 0);
  } else {
    const status = await login.client.folderStatus({ session: login.token, folderId: folder.id });
    const countFlag = async (flag: string, isSet: boolean) =>
      (await login.client.search({ session: login.token, folderId: folder.id, criteria: { key: 'flag', flag, set: isSet } })).length;
    for (const item of items) {
      switch (item) {
        case 'MESSAGES':
          values.set(item, status.messages);
          break;
        case 'RECENT': // nothing in an archive is ever recent
          values.set(item, 0);
          break;
        case 'UIDNEXT':
          values.set(item, status.uidNext);
          break;
        case 'UIDVALIDITY':
          values.set(item, status.uidValidity);
          break;
        case 'UNSEEN':
          values.set(item, status.messages === 0 ? 0 : await countFlag('\\Seen', false));
          break;
        case 'DELETED':
          values.set(item, status.messages === 0 ? 0 : await countFlag('\\Deleted', true));
          break;
        case 'SIZE':
          values.set(item, status.size);
          break;
        case 'HIGHESTMODSEQ':
          values.set(item, status.highestModseq);
          break;
      }
    }
  }
  const pairs = items.map((item) => `${item} ${values.get(item) ?? 0}`).join(' ');
  return ['STATUS ', astring(encodeMutf7(entry.name)), ` (${pairs})`];
}
