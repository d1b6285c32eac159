import { describe, expect, it } from 'vitest';
import type { FolderInfo } from '../src/instance/api.js';
import { MailboxMap } from '../src/cas/imap/mailbox-map.js';
import { SelectedMailbox, compressNumbers } from '../src/cas/imap/selected-mailbox.js';
import { parseSequenceSet } from '../src/cas/imap/protocol/index.js';

const folder = (id: number, path: string, messages = 0): FolderInfo => ({ id, path, archive: path.split('/')[0]!, uidValidity: 100 + id, uidNext: messages + 1, highestModseq: 1, messages, hasChildren: false });

describe('mailbox model', () => {
  it('maps the own archive to the top level, its Inbox to INBOX and other archives under Other Archives', () => {
    const map = new MailboxMap([folder(1, 'jane'), folder(2, 'jane/inbox'), folder(3, 'jane/inbox/Sub'), folder(4, 'jane/Exchange jane/Sent Items'), folder(5, 'bob'), folder(6, 'bob/Inbox')], 'JANE');
    expect(map.entries.map((e) => [e.name, MailboxMap.attributes(e).join(' ')])).toEqual([
      ['INBOX', '\\HasChildren'],
      ['Exchange jane', '\\Noselect \\HasChildren'], // a pure parent: no folder of its own
      ['Exchange jane/Sent Items', '\\HasNoChildren'],
      ['INBOX/Sub', '\\HasNoChildren'],
      ['Other Archives', '\\Noselect \\HasChildren'],
      ['Other Archives/bob', '\\HasChildren \\Archive'],
      ['Other Archives/bob/Inbox', '\\HasNoChildren'],
    ]);
    expect(map.find('inbox')?.folder?.id).toBe(2);
    expect(map.find('Inbox/Sub')?.folder?.id).toBe(3);
    expect(map.find('other archives/bob')).toBeNull(); // only INBOX is case-insensitive
  });

  it('gives a user without an Inbox folder an empty, selectable INBOX', () => {
    const map = new MailboxMap([], 'jane');
    expect(map.entries.map((e) => [e.name, e.isSelectable, e.folder])).toEqual([['INBOX', true, null]]);
  });

  it('announces expunged messages highest first and new messages as one EXISTS', () => {
    const map = new MailboxMap([folder(2, 'jane/Inbox', 5)], 'jane');
    const mailbox = new SelectedMailbox(map.find('INBOX')!, false, { uids: [1, 2, 3, 4, 5], modseqs: [1, 2, 3, 4, 5], highestModseq: 5, uidValidity: 7, uidNext: 6 });
    expect(mailbox.apply({ uids: [1, 3, 5, 6, 7], modseqs: [1, 3, 5, 6, 7], highestModseq: 7, uidValidity: 7, uidNext: 8 })).toEqual({ expunged: [4, 2], exists: 5 });
    expect(mailbox.apply({ uids: [1, 3, 5, 6, 7], modseqs: [1, 3, 5, 6, 7], highestModseq: 7, uidValidity: 7, uidNext: 8 })).toEqual({ expunged: [], exists: null });
    expect(mailbox.apply({ uids: [3], modseqs: [3], highestModseq: 8, uidValidity: 7, uidNext: 8 })).toEqual({ expunged: [5, 4, 3, 1], exists: null });
  });

  it('resolves sequence and UID sets, with * as the last message or highest UID', () => {
    const map = new MailboxMap([folder(2, 'jane/Inbox', 4)], 'jane');
    const mailbox = new SelectedMailbox(map.find('INBOX')!, false, { uids: [3, 7, 8, 20], modseqs: [1, 1, 1, 1], highestModseq: 1, uidValidity: 7, uidNext: 21 });
    const set = (text: string) => {
      const parsed = parseSequenceSet(text);
      if (!parsed.ok) throw parsed.error;
      return parsed.value;
    };
    expect(mailbox.resolve(set('2:*'), false)).toEqual([1, 2, 3]);
    expect(mailbox.resolve(set('*:3'), false)).toEqual([2, 3]);
    expect(mailbox.resolve(set('5:9'), true)).toEqual([1, 2]);
    expect(mailbox.resolve(set('21:*'), true)).toEqual([3]); // * is 20: the range is 20:21
    expect(mailbox.resolve(set('100'), false)).toEqual([]);
    expect(mailbox.sequenceOf(8)).toBe(3);
    expect(mailbox.sequenceOf(9)).toBe(0);
    expect(compressNumbers([1, 2, 3, 5, 7, 8])).toBe('1:3,5,7:8');
  });
});
