/**
 * NOOP (RFC 3501 §6.1.2) and CHECK (§6.4.1, a flag): both report changes to the selected mailbox;
 * the archive has nothing to checkpoint.
 */
import { ANY_STATE, SELECTED, defineCommand, okOutcome, type CommandSpec } from '../command-spec.js';
import { noArguments } from '../arguments.js';

function createNoopCommand(isCheck: boolean): CommandSpec {
  return defineCommand({
    name: isCheck ? 'CHECK' : 'NOOP',
    states: isCheck ? SELECTED : ANY_STATE,
    parse: noArguments,
    async handler({ session }) {
      await session.announceChanges();
      return okOutcome(isCheck ? 'Check completed.' : 'NOOP completed.');
    },
  });
}

export const noopCommand = createNoopCommand(false);
export const checkCommand = createNoopCommand(true);
