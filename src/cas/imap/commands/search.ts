/**
 * SEARCH and UID SEARCH (RFC 3501 §6.4.4, a flag) with ESEARCH return options (RFC 4731) and
 * MODSEQ (RFC 7162 §3.1.5). The instance evaluates the criteria on its index with RFC 3501
 * substring semantics, restricted to the selected folder.
 */
import { SELECTED, defineCommand, okOutcome } from '../command-spec.js';
import { badSyntax, fail, parseSearch, type SearchRequest } from '../protocol/index.js';
import { toSearchCriterion } from '../search-criteria.js';
import { compressNumbers } from '../selected-mailbox.js';

export const searchCommand = defineCommand({
  name: 'SEARCH',
  states: SELECTED,
  allowsUid: true,
  parse(args) {
    const parsed = parseSearch(args);
    if (parsed.ok && parsed.value.returnOptions?.has('SAVE') === true) return fail(badSyntax('SEARCHRES (RETURN SAVE) is not supported'));
    return parsed;
  },
  async handler({ session, tag, isUid }, request: SearchRequest) {
    const mailbox = session.selected!;
    if (request.hasModSeq) session.enableCondstore();
    const indexes: number[] = [];
    if (mailbox.entry.folder !== null && mailbox.exists > 0) {
      const login = session.requireLogin();
      const criteria = toSearchCriterion(request.key, mailbox);
      const uids = await login.client.search({ session: login.token, folderId: mailbox.entry.folder.id, criteria });
      for (const uid of uids) {
        // Messages archived after the client's last EXISTS are not yet known to it.
        const sequence = mailbox.sequenceOf(uid);
        if (sequence !== 0) indexes.push(sequence - 1);
      }
      indexes.sort((a, b) => a - b);
    }
    const numbers = indexes.map((index) => (isUid ? mailbox.uids[index]! : index + 1));
    let highestModseq = 0;
    if (request.hasModSeq) for (const index of indexes) highestModseq = Math.max(highestModseq, mailbox.modseqs[index] ?? 0);
    const modseqSuffix = request.hasModSeq && numbers.length > 0 ? ` (MODSEQ ${highestModseq})` : '';

    if (request.returnOptions === null) {
      await session.writer.untagged(`SEARCH${numbers.length > 0 ? ` ${numbers.join(' ')}` : ''}${modseqSuffix}`);
    } else {
      // search-return-data in the order Dovecot 2.3 sends it: MIN MAX ALL COUNT, then MODSEQ.
      const options = request.returnOptions;
      let line = `ESEARCH (TAG "${tag}")${isUid ? ' UID' : ''}`;
      if (numbers.length > 0 && options.has('MIN')) line += ` MIN ${numbers[0]}`;
      if (numbers.length > 0 && options.has('MAX')) line += ` MAX ${numbers[numbers.length - 1]}`;
      if (numbers.length > 0 && options.has('ALL')) line += ` ALL ${compressNumbers(numbers)}`;
      if (options.has('COUNT')) line += ` COUNT ${numbers.length}`;
      if (request.hasModSeq && numbers.length > 0) line += ` MODSEQ ${highestModseq}`;
      await session.writer.untagged(line);
    }
    return okOutcome('Search completed.');
  },
});
