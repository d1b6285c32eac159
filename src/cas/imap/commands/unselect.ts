/** UNSELECT (RFC 3691): leaves the selected state; nothing to expunge in an archive. */
import { SELECTED, defineCommand, okOutcome } from '../command-spec.js';
import { noArguments } from '../arguments.js';

export const unselectCommand = defineCommand({
  name: 'UNSELECT',
  states: SELECTED,
  parse: noArguments,
  async handler({ session }) {
    session.unselect();
    return okOutcome('Unselect completed.');
  },
});
