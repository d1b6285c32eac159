/**
 * SUBSCRIBE / UNSUBSCRIBE (RFC 3501 §6.3.6-7, a flag): every readable folder is always subscribed
 * (LSUB lists them all), so both answer OK and change nothing.
 */
import { AUTHENTICATED, defineCommand, okOutcome, type CommandSpec } from '../command-spec.js';
import { mailboxArgument } from '../arguments.js';
import { badSyntax, fail } from '../protocol/index.js';

function createSubscribeCommand(isUnsubscribe: boolean): CommandSpec {
  return defineCommand({
    name: isUnsubscribe ? 'UNSUBSCRIBE' : 'SUBSCRIBE',
    states: AUTHENTICATED,
    parse: (args) => (args.length === 1 ? mailboxArgument(args[0]) : fail(badSyntax('Expected one mailbox name'))),
    async handler() {
      return okOutcome(isUnsubscribe ? 'Unsubscribe completed.' : 'Subscribe completed.');
    },
  });
}

export const subscribeCommand = createSubscribeCommand(false);
export const unsubscribeCommand = createSubscribeCommand(true);
