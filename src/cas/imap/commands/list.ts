/**
 * LIST (RFC 3501 §6.3.8, LIST-EXTENDED RFC 5258, LIST-STATUS RFC 5819, SPECIAL-USE RFC 6154) and
 * LSUB (§6.3.9, a flag). Every readable folder counts as subscribed: clients such as Thunderbird
 * show only subscribed folders, and an archive user cannot usefully unsubscribe anything.
 */
import { AUTHENTICATED, defineCommand, okOutcome, type CommandSpec } from '../command-spec.js';
import { HIERARCHY_DELIMITER, MailboxMap } from '../mailbox-map.js';
import { statusResponse } from '../mailbox-status.js';
import { astring, combineReferenceAndPattern, createListMatcher, encodeMutf7, ok, parseListArguments, type ListArguments } from '../protocol/index.js';

function createListCommand(isLsub: boolean): CommandSpec {
  const responseName = isLsub ? 'LSUB' : 'LIST';
  return defineCommand({
    name: responseName,
    states: AUTHENTICATED,
    parse(args) {
      const parsed = parseListArguments(args, { isLsub });
      // A pattern that is not valid modified UTF-7 matches no mailbox: OK with no results, as
      // Dovecot answers (the protocol layer reports it as BAD).
      if (!parsed.ok && parsed.error.code === 'INVALID_MAILBOX_NAME') {
        const matchesNothing: ListArguments = {
          selectOptions: new Set(),
          reference: '',
          patterns: [],
          returnOptions: { isSubscribedRequested: false, isChildrenRequested: false, isSpecialUseRequested: false, status: null },
          isExtended: false,
        };
        return ok(matchesNothing);
      }
      return parsed;
    },
    async handler({ session }, list: ListArguments) {
      const writer = session.writer;
      if (list.patterns.length === 1 && list.patterns[0] === '' && !list.isExtended) {
        // RFC 3501 §6.3.8: an empty pattern asks for the delimiter and the root.
        await writer.untagged(`${responseName} (\\Noselect) "${HIERARCHY_DELIMITER}" ""`);
        return okOutcome(`${responseName} completed.`);
      }
      const map = await session.mailboxes();
      const matchers = list.patterns.map((pattern) =>
        createListMatcher(combineReferenceAndPattern(list.reference, pattern, HIERARCHY_DELIMITER), HIERARCHY_DELIMITER),
      );
      const isSubscribedSelection = list.selectOptions.has('SUBSCRIBED');
      const isSpecialUseSelection = list.selectOptions.has('SPECIAL-USE');
      const isSubscribedShown = isSubscribedSelection || list.returnOptions.isSubscribedRequested;
      for (const entry of map.entries) {
        if (!matchers.some((matches) => matches(entry.name))) continue;
        if (isSpecialUseSelection && !entry.isArchiveRoot) continue;
        let attributes: string[];
        if (isLsub) {
          attributes = entry.isSelectable ? [] : ['\\Noselect'];
        } else {
          attributes = MailboxMap.attributes(entry);
          if (isSubscribedShown) attributes.push('\\Subscribed');
        }
        const extended = list.selectOptions.has('RECURSIVEMATCH') && entry.hasChildren ? ' ("CHILDINFO" ("SUBSCRIBED"))' : '';
        await writer.untaggedChunks([`${responseName} (${attributes.join(' ')}) "${HIERARCHY_DELIMITER}" `, astring(encodeMutf7(entry.name)), extended]);
        if (!isLsub && list.returnOptions.status !== null && entry.isSelectable) {
          await writer.untaggedChunks(await statusResponse(session, entry, list.returnOptions.status));
        }
      }
      return okOutcome(`${responseName} completed.`);
    },
  });
}

export const listCommand = createListCommand(false);
export const lsubCommand = createListCommand(true);
